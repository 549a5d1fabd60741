// Golden cases: reading a case file, matching expectations against a consultation, and
// comparing two consultations. On a small rule base of our own over the diagnostics kb, so that
// the bundled rules can change without touching these tests.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "consult/cases.hpp"
#include "tests/read_file.hpp"

namespace rapa::consult {
namespace {

namespace fs = std::filesystem;

const std::string kTestKb = std::string(RAPA_TEST_DIR) + "/diagnostics/kb";

const std::string kRules = R"(
rule itp.sirolimus
  title "Sirolimus for ITP"
  when
    diagnosis(code: ITP, status: active)
  then
    recommend sirolimus
      start 2..4 mg/day, trough 4..15 ng/mL
      reassess at 3 months
      "Off-label use in refractory ITP."
  grade C
  cite feng2020_itp
end

rule ddi.strong_inhibitor
  title "Strong CYP3A4 inhibitor with sirolimus"
  when
    medication(drug: sirolimus, status: active | planned)
    medication(drug: ?m, status: active | planned)
    cyp3a4(drug: ?m, role: inhibitor, strength: strong)
  then
    warn high "{?m} is a strong CYP3A4 inhibitor: avoid the combination."
  cite rapamune_label, uptodate_cyp3a
end
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

/// The rules beside a copy of the diagnostics kb whose medicines, when left out, are "not
/// asked" (as in the bundled schema), loaded as a knowledge.
Knowledge knowledge_with(const std::string& rules) {
  const fs::path dir =
      fs::temp_directory_path() / ("rapa-cases-test-" + std::to_string(std::hash<std::string>{}(rules)) + "-" +
                                   std::to_string(::getpid()));  // test cases run side by side under CTest
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(kTestKb, dir / "kb", fs::copy_options::recursive);
  const std::string schema = test::read_file(dir / "kb/schema.yaml");
  std::ofstream(dir / "kb/schema.yaml") << replaced(
      schema, "  - name: medication\n    kind: input\n",
      "  - name: medication\n    kind: input\n    absent: unknown\n    question: current medicines\n");
  std::ofstream(dir / "test.rules") << rules;
  support::DiagnosticEngine diags;
  auto knowledge = load_knowledge({(dir / "test.rules").string(), (dir / "kb").string()}, diags);
  fs::remove_all(dir);
  REQUIRE(knowledge);
  return std::move(*knowledge);
}

std::string rendered(const Knowledge& k, const support::DiagnosticEngine& diags) {
  std::string out;
  for (const auto& d : diags.diagnostics()) out += location(*k.sources, d.range) + ": " + d.message + "\n";
  return out;
}

const std::string kPatient =
    "---\n"
    "patient: {age: 40 years, sex: male}\n"
    "diagnoses: [{code: ITP, status: active}]\n"
    "medications: [{drug: Vfend, status: active}, {drug: sirolimus, status: planned}]\n";

struct Run {
  Knowledge knowledge = knowledge_with(kRules);
  std::optional<GoldenCase> golden;
  Consultation consultation;
  std::vector<Failure> failures;
  std::string errors;
};

/// Reads the case, consults its patient and checks it.
std::unique_ptr<Run> run(const std::string& text) {
  auto r = std::make_unique<Run>();
  support::DiagnosticEngine diags;
  r->golden = read_case_text(r->knowledge, "case.yaml", text, diags);
  r->errors = rendered(r->knowledge, diags);
  if (!r->golden) return r;
  inference::Engine engine(r->knowledge.rules);
  if (!load_case_patient(r->knowledge, *r->golden, engine, diags)) {
    r->errors = rendered(r->knowledge, diags);
    r->golden.reset();
    return r;
  }
  engine.run();
  r->consultation = consult(r->knowledge, engine);
  r->failures = check_case(*r->golden, r->consultation);
  return r;
}

std::string explained(const std::vector<Failure>& failures) {
  std::string out;
  for (const auto& f : failures)
    for (const auto& line : f.explanation) out += line + "\n";
  return out;
}

TEST_CASE("A case whose expectations all hold passes", "[cases]") {
  auto r =
      run("description: ITP with voriconazole\n"
          "expect:\n"
          "  must:\n"
          "    - {kind: recommend, drug: Rapamune, rule: itp.sirolimus, grade: '<= C', cites: feng2020_itp,\n"
          "       details: {start: 2..4 mg/day, trough: within 4..15 ng/mL, reassess: 3 months}, text: "
          "OFF-LABEL}\n"
          "    - {kind: warn, severity: '>= high', rule: 'ddi.*', text: [voriconazole, avoid]}\n"
          "  must_not:\n"
          "    - {kind: contraindicate}\n"
          "    - {kind: recommend, grade: '>= B'}\n" +
          kPatient);
  REQUIRE(r->golden);
  CHECK(r->errors.empty());
  CHECK(r->golden->description == "ITP with voriconazole");
  CHECK(r->golden->must.size() == 2);
  CHECK(r->golden->must[0].subject == "sirolimus");  // the brand resolved to the drug id
  CHECK(r->failures.empty());
}

TEST_CASE("A must no advice meets fails, naming what each nearby item lacks", "[cases]") {
  auto r =
      run("description: severity too low\n"
          "expect:\n"
          "  must:\n"
          "    - {kind: warn, severity: critical, because: vfend_label}\n" +
          kPatient);
  REQUIRE(r->golden);
  REQUIRE(r->failures.size() == 1);
  const Failure& f = r->failures[0];
  CHECK(f.must);
  CHECK(f.expectation->because == "vfend_label");
  CHECK(f.expectation->written == "kind: warn, severity: critical, because: vfend_label");
  CHECK(location(*r->knowledge.sources, f.expectation->range) == "case.yaml:4");
  // Only the warnings are listed, with the first field each fails.
  REQUIRE(f.explanation.size() == 1);
  CHECK(f.explanation[0].find("warn high [ddi.strong_inhibitor]") != std::string::npos);
  CHECK(f.explanation[0].find("severity is high, not critical") != std::string::npos);
}

TEST_CASE("A must of a kind never given says so and lists everything said", "[cases]") {
  auto r = run("description: x\nexpect:\n  must:\n    - {kind: monitor}\n" + kPatient);
  REQUIRE(r->failures.size() == 1);
  CHECK(r->failures[0].explanation.front() == "no monitor advice");
  CHECK(explained(r->failures).find("[itp.sirolimus]") != std::string::npos);
}

TEST_CASE("A must_not that some advice meets fails with the offending item", "[cases]") {
  auto r = run("description: x\nexpect:\n  must_not:\n    - {kind: warn, text: voriconazole}\n" + kPatient);
  REQUIRE(r->failures.size() == 1);
  CHECK_FALSE(r->failures[0].must);
  REQUIRE(r->failures[0].explanation.size() == 1);
  CHECK(r->failures[0].explanation[0].find("warn high [ddi.strong_inhibitor]") != std::string::npos);
}

TEST_CASE("Range expectations compare in base units: equal, within, contains", "[cases][units]") {
  auto details = [](const std::string& d) {
    return run("description: x\nexpect:\n  must:\n    - {kind: recommend, details: {" + d + "}}\n" +
               kPatient);
  };
  // The advice says start 2..4 mg/day, trough 4..15 ng/mL, reassess 3 months.
  CHECK(details("start: 2..4 mg/day")->failures.empty());
  CHECK(details("start: 2000..4000 ug/day")->failures.empty());
  CHECK(details("start: 2 mg/day..4000 ug/day")->failures.empty());
  CHECK(details("trough: within 4..15 ng/mL")->failures.empty());
  CHECK(details("trough: within 0.004..0.015 mg/L")->failures.empty());
  CHECK(details("trough: contains 5..15 ng/mL")->failures.empty());
  CHECK(details("reassess: within 2..4 months")->failures.empty());
  CHECK(details("reassess: 3 months")->failures.empty());

  auto narrower = details("trough: within 5..15 ng/mL");
  REQUIRE(narrower->failures.size() == 1);
  CHECK(explained(narrower->failures).find("trough is 4..15 ng/mL, expected within 5..15 ng/mL") !=
        std::string::npos);
  CHECK(details("trough: contains 3..15 ng/mL")->failures.size() == 1);
  CHECK(details("start: 2 mg/day")->failures.size() == 1);
  // Another dimension never matches, whatever the numbers.
  auto per_area = details("start: within 0..100 mg/m2/day");
  REQUIRE(per_area->failures.size() == 1);
  CHECK(explained(per_area->failures).find("mass per time") != std::string::npos);
  auto absent = details("loading: within 0..10 mg");
  CHECK(explained(absent->failures).find("has no 'loading' detail") != std::string::npos);
}

TEST_CASE("A needs-data expectation matches the datum a held-back rule waits for", "[cases][unknown]") {
  const std::string no_medicines =
      "---\n"
      "patient: {age: 40 years, sex: male}\n"
      "diagnoses: [{code: ITP, status: active}]\n";
  auto r =
      run("description: medicines not reconciled\n"
          "expect:\n"
          "  must:\n"
          "    - {needs: current medicines, rule: ddi.strong_inhibitor, kind: warn}\n"
          "  must_not:\n"
          "    - {kind: warn}\n" +
          no_medicines);
  REQUIRE(r->golden);
  CHECK(r->failures.empty());
  CHECK_FALSE(r->consultation.needs_data.empty());

  auto known = run("description: x\nexpect:\n  must:\n    - {needs: current medicines}\n" + kPatient);
  REQUIRE(known->failures.size() == 1);
  CHECK(known->failures[0].explanation == std::vector<std::string>{"no data is needed"});
}

TEST_CASE("Errors in a case file point at its lines", "[cases][diagnostics]") {
  SECTION("YAML syntax in the patient") {
    auto r =
        run("description: x\n"
            "expect: {must: [{kind: info}]}\n"
            "---\n"
            "patient: {age: 40 years\n"
            "diagnoses: [{code: ITP, status: active}]\n");
    CHECK_FALSE(r->golden);
    CHECK(r->errors.find("case.yaml:5:") != std::string::npos);
  }
  SECTION("a patient fact the kb refuses, reported by the patient loader") {
    auto r =
        run("# a comment\n"
            "description: x\n"
            "expect:\n"
            "  must: [{kind: info}]\n"
            "---\n"
            "patient: {age: 40 years}\n"
            "medications: [{drug: voriconazol, status: active}]\n");
    CHECK_FALSE(r->golden);
    CHECK(r->errors.find("case.yaml:7: unknown drug 'voriconazol'") != std::string::npos);
  }
  SECTION("names in the expectations") {
    auto r =
        run("description: x\n"
            "expect:\n"
            "  must:\n"
            "    - {kind: recomend}\n"
            "    - {drug: vorikonazole}\n"
            "    - {cites: feng2020}\n"
            "    - {rule: itp.sirolimu}\n"
            "    - {severity: '>= huge'}\n"
            "    - {details: {maintenance: 1 mg/day}}\n"
            "    - {details: {start: 2 mg}}\n"
            "    - {details: {start: 4..2 mg/day}}\n"
            "    - {details: {start: 2 mgg/day}}\n"
            "  must_nt: []\n" +
            kPatient);
    CHECK_FALSE(r->golden);
    for (const char* expected :
         {"case.yaml:4: 'recomend' is not a valid advice kind",
          "case.yaml:5: unknown drug 'vorikonazole'; did you mean 'voriconazole'?",
          "case.yaml:6: unknown source 'feng2020'", "case.yaml:7: 'itp.sirolimu' is not a known rule",
          "case.yaml:8: '>= huge' is not a valid severity",
          "case.yaml:9: unknown field 'maintenance' in 'details'", "case.yaml:11: range starts above",
          "case.yaml:12:", "case.yaml:13: unknown field 'must_nt' in 'expect'"}) {
      INFO(expected);
      CHECK(r->errors.find(expected) != std::string::npos);
    }
    CHECK(r->errors.find("case.yaml:10:") == std::string::npos);  // 2 mg is a valid amount
  }
  SECTION("no patient document") {
    auto r = run("description: x\nexpect: {must: []}\npatient: {age: 40 years}\n");
    CHECK_FALSE(r->golden);
    CHECK(r->errors.find("unknown field 'patient' in a case file") != std::string::npos);
  }
}

TEST_CASE("Comparing two consultations lists advice gained, lost and changed", "[cases][impact]") {
  Knowledge before = knowledge_with(kRules);
  std::string edited = replaced(kRules, "trough 4..15 ng/mL", "trough 5..15 ng/mL");
  edited = replaced(edited, "cite feng2020_itp", "cite feng2020_itp, mbc2024_itp");
  edited = replaced(edited, "warn high \"{?m}", "info \"{?m}");
  Knowledge after = knowledge_with(edited);
  auto consulted = [&](Knowledge& k) {
    support::DiagnosticEngine diags;
    auto golden = read_case_text(k, "case.yaml", "description: x\nexpect: {}\n" + kPatient, diags);
    REQUIRE(golden);
    inference::Engine engine(k.rules);
    REQUIRE(load_case_patient(k, *golden, engine, diags));
    engine.run();
    return consult(k, engine);
  };
  auto changes = compare(consulted(before), consulted(after));
  auto find = [&](AdviceChange::Kind kind, const std::string& rule) -> const AdviceChange* {
    for (const auto& c : changes)
      if (c.kind == kind && c.item.find("[" + rule + "]") != std::string::npos) return &c;
    return nullptr;
  };
  REQUIRE(changes.size() == 3);
  const AdviceChange* changed = find(AdviceChange::Kind::changed, "itp.sirolimus");
  REQUIRE(changed);
  CHECK(changed->what == std::vector<std::string>{"trough 4..15 ng/mL -> 5..15 ng/mL", "cites mbc2024_itp"});
  CHECK(find(AdviceChange::Kind::lost, "ddi.strong_inhibitor"));  // the warning became information
  CHECK(find(AdviceChange::Kind::gained, "ddi.strong_inhibitor"));
  CHECK(compare(consulted(before), consulted(before)).empty());
}

TEST_CASE("Coverage counts every rule with a firing", "[cases][coverage]") {
  Knowledge k = knowledge_with(kRules);
  support::DiagnosticEngine diags;
  auto golden = read_case_text(k, "case.yaml",
                               "description: x\nexpect: {}\n---\npatient: {age: 40 years}\n"
                               "diagnoses: [{code: ITP, status: active}]\n",
                               diags);
  REQUIRE(golden);
  inference::Engine engine(k.rules);
  REQUIRE(load_case_patient(k, *golden, engine, diags));
  engine.run();
  // The interaction rule is only held back for want of the medicines: it counts.
  CHECK(fired_rules(engine) == std::vector<std::string>{"ddi.strong_inhibitor", "itp.sirolimus"});
}

}  // namespace
}  // namespace rapa::consult
