// The semantic checker on small rule bases written inline: one behaviour per test case.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "parser/check.hpp"

namespace {

using rapa::support::DiagId;

constexpr const char* kb_yaml = R"(
sources:
  - key: rct_1b
    citation: "A randomised trial"
    doi: 10.1000/rct
    design: randomised controlled trial
    level: "1b"
    level_derived: true
  - key: series_4
    citation: "A case series"
    doi: 10.1000/series
    design: case series
    level: "4"
    level_derived: true
  - key: label
    citation: "A drug label"
    url: https://example.org/label
    design: regulatory label
    level: label
    level_derived: false
drugs:
  - id: sirolimus
    class: mTOR inhibitor
  - id: voriconazole
    class: azole antifungal
    brands: [Vfend]
diagnoses:
  - code: ITP
    name: immune thrombocytopenia
labs:
  - id: platelets
    name: platelet count
    unit: x10^9/L
  - id: sirolimus_trough
    name: sirolimus whole-blood trough
    unit: ng/mL
facts:
  - name: patient
    kind: input
    slots:
      - {name: age, type: quantity, unit: years}
      - {name: sex, type: symbol, values: [female, male]}
  - name: diagnosis
    kind: input
    slots:
      - {name: code, type: symbol, vocabulary: diagnoses}
  - name: medication
    kind: input
    slots:
      - {name: drug, type: symbol, vocabulary: drugs}
  - name: lab
    kind: input
    slots:
      - {name: test, type: symbol, vocabulary: labs}
      - {name: value, type: quantity, unit_from: test}
  - name: refractory
    kind: derived
    slots:
      - {name: disease, type: symbol, vocabulary: diagnoses}
)";

struct Result {
  std::vector<DiagId> ids;
  std::vector<std::string> messages;
  bool has(DiagId id) const { return std::find(ids.begin(), ids.end(), id) != ids.end(); }
};

Result check(const std::string& rules) {
  rapa::support::SourceManager sources;
  rapa::support::DiagnosticEngine diags;
  diags.disable_warning_group("unused-source");
  const auto kb = sources.add_buffer("kb.yaml", kb_yaml);
  const auto file = sources.add_buffer("test.rules", rules);
  rapa::parser::check_buffers({kb}, {file}, sources, diags);
  Result r;
  for (const auto& d : diags.sorted()) {
    r.ids.push_back(d.id);
    r.messages.push_back(d.message);
  }
  return r;
}

}  // namespace

TEST_CASE("a clean rule produces no diagnostics", "[checker]") {
  const auto r = check(R"(
rule ok
  when
    diagnosis(code: ITP)
    patient(age: >= 18 years)
    lab(test: platelets, value: < 150000 /uL)
  then
    recommend sirolimus start 2..4 mg/day, trough 5..15 ng/mL
  grade C
  cite series_4
end
)");
  INFO(Catch::Detail::stringify(r.messages));
  CHECK(r.ids.empty());
}

TEST_CASE("a lab value takes the dimension of the lab test named beside it", "[checker][units]") {
  const auto r = check(R"(
rule wrong
  when
    lab(test: sirolimus_trough, value: >= 5 mg/day)
  then
    info "never"
  cite label
end
)");
  REQUIRE(r.ids.size() == 1);
  CHECK(r.ids[0] == DiagId::dimension_mismatch);
  CHECK(r.messages[0].find("5 mg/day") != std::string::npos);
}

TEST_CASE("a grade weaker than the evidence needs a reason; with one it is accepted", "[checker][grade]") {
  const auto rule = [](const std::string& grade) {
    return "rule r\n when diagnosis(code: ITP)\n then info \"x\"\n " + grade + "\n cite rct_1b\nend\n";
  };
  CHECK(check(rule("grade A")).ids.empty());
  CHECK(check(rule("grade B")).ids == std::vector{DiagId::weaker_grade_without_reason});
  CHECK(check(rule("grade B because \"small open-label phase 2\"")).ids.empty());
}

TEST_CASE("a grade stronger than the evidence is an error naming the level", "[checker][grade]") {
  const auto r = check("rule r\n when diagnosis(code: ITP)\n then info \"x\"\n grade B\n cite series_4, label\nend\n");
  REQUIRE(r.ids == std::vector{DiagId::grade_too_strong});
  CHECK(r.messages[0] == "grade B is stronger than the cited evidence can carry: the best level cited is 4, which supports at most grade C");
}

TEST_CASE("advice resting on labels alone carries no grade", "[checker][grade]") {
  CHECK(check("rule r\n when diagnosis(code: ITP)\n then warn high \"x\"\n cite label\nend\n").ids.empty());
  CHECK(check("rule r\n when diagnosis(code: ITP)\n then warn high \"x\"\n grade D\n cite label\nend\n").ids ==
        std::vector{DiagId::grade_without_evidence});
  CHECK(check("rule r\n when diagnosis(code: ITP)\n then warn high \"x\"\n cite series_4\nend\n").ids ==
        std::vector{DiagId::missing_grade});
}

TEST_CASE("a variable bound in only one branch of either is not bound after it", "[checker][variables]") {
  const auto r = check(R"(
rule r
  when
    either { medication(drug: ?m) } or { diagnosis(code: ITP) }
  then
    info "{?m}"
  cite label
end
)");
  CHECK(r.ids == std::vector{DiagId::unbound_variable});
  const auto both = check(R"(
rule r
  when
    either { medication(drug: ?m) } or { lab(test: ?m) }
  then
    info "{?m}"
  cite label
end
)");
  CHECK(both.ids.empty());
}

TEST_CASE("a variable first bound inside not stays inside it", "[checker][variables]") {
  const auto r = check(R"(
rule r
  when
    diagnosis(code: ITP)
    not medication(drug: ?m)
  then
    warn low "{?m}"
  cite label
end
)");
  CHECK(r.ids == std::vector{DiagId::negated_only_variable});
}

TEST_CASE("conclude needs a derived type with every slot set", "[checker][conclude]") {
  CHECK(check("rule r\n when diagnosis(code: ?d)\n then conclude refractory(disease: ?d)\nend\n").ids.empty());
  CHECK(check("rule r\n when diagnosis(code: ?d)\n then conclude refractory()\nend\n").ids ==
        std::vector{DiagId::unused_variable, DiagId::conclude_unset_slot});
  CHECK(check("rule r\n when diagnosis(code: ?d)\n then conclude diagnosis(code: ?d)\nend\n").ids ==
        std::vector{DiagId::conclude_not_derived});
}

TEST_CASE("drugs resolve through brand names; near misses get a suggestion", "[checker][vocabulary]") {
  CHECK(check("rule r\n when medication(drug: Vfend)\n then info \"x\"\n cite label\nend\n").ids.empty());
  const auto r = check("rule r\n when medication(drug: voriconazol)\n then info \"x\"\n cite label\nend\n");
  REQUIRE(r.ids == std::vector{DiagId::unknown_drug});
  CHECK(r.messages[0] == "unknown drug 'voriconazol'; did you mean 'voriconazole'?");
}

TEST_CASE("a pattern on a derived fact nobody concludes can never match", "[checker]") {
  const auto r = check("rule r\n when refractory(disease: ITP)\n then info \"x\"\n cite label\nend\n");
  CHECK(r.ids == std::vector{DiagId::rule_never_matches});
}

TEST_CASE("every broken rule of a file is reported", "[checker][recovery]") {
  const auto r = check(R"(
rule a
  when diagnosys(code: ITP)
  then info "x"
  cite label
end
rule b
  when diagnosis(code ITP)
  then info "x"
end
rule c
  when medication(drug: sirolimus)
  then info "x"
end
)");
  CHECK(r.ids == std::vector{DiagId::unknown_fact_type, DiagId::expected, DiagId::missing_citation});
}
