// Lowering checked rules into the engine's rule base: small rule texts against the bundled kb,
// and the bundled rule base as a whole.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "parser/check.hpp"
#include "parser/lower.hpp"
#include "support/units.hpp"

namespace {

namespace fs = std::filesystem;
namespace inf = rapa::inference;
using rapa::support::DiagId;
using rapa::support::Severity;

struct Lowered {
  std::unique_ptr<rapa::support::SourceManager> sources = std::make_unique<rapa::support::SourceManager>();
  rapa::parser::CheckedRuleBase checked;
  std::shared_ptr<const inf::RuleBase> base;
  std::vector<DiagId> errors;
  std::vector<std::string> messages;

  const inf::Rule& rule(std::string_view name) const {
    const auto id = base->find_rule(name);
    REQUIRE(id);
    return base->rules[*id];
  }
  std::string_view name(const inf::Value& v) const { return base->symbols.name(v.as_symbol()); }
  inf::SlotIndex slot(std::string_view type, std::string_view slot) const {
    const auto& info = base->types[*base->find_type(type)];
    for (std::size_t i = 0; i < info.slots.size(); ++i)
      if (info.slots[i].name == slot) return static_cast<inf::SlotIndex>(i);
    FAIL("no slot " << slot);
    return 0;
  }
  inf::VarId var(const inf::Rule& r, std::string_view name) const {
    const auto it = std::find(r.variables.begin(), r.variables.end(), name);
    REQUIRE(it != r.variables.end());
    return static_cast<inf::VarId>(it - r.variables.begin());
  }
};

std::vector<fs::path> files_in(const fs::path& dir, std::string_view extension) {
  std::vector<fs::path> result;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().extension() == extension) result.push_back(entry.path());
  std::sort(result.begin(), result.end());
  return result;
}

/// `rules` checked and lowered against the bundled kb; with `bundled`, the bundled rules too.
Lowered lower(const std::string& rules, bool bundled = false) {
  Lowered out;
  rapa::support::DiagnosticEngine diags;
  const fs::path root(RAPA_SOURCE_DIR);
  std::vector<rapa::support::FileId> kb, rule_files;
  for (const auto& path : files_in(root / "kb", ".yaml"))
    kb.push_back(out.sources->load_file(path.string()).id);
  if (bundled)
    for (const auto& path : files_in(root / "rules", ".rules"))
      rule_files.push_back(out.sources->load_file(path.string()).id);
  if (!rules.empty()) rule_files.push_back(out.sources->add_buffer("test.rules", rules));
  out.checked = rapa::parser::check_buffers(kb, rule_files, *out.sources, diags);
  for (const auto& d : diags.sorted()) {
    if (d.severity != Severity::error) continue;
    out.errors.push_back(d.id);
    out.messages.push_back(d.message);
  }
  out.base = rapa::parser::lower(out.checked, *out.sources);
  return out;
}

double base_of(double value, std::string_view unit) {
  return rapa::support::Quantity{value, *rapa::support::parse_unit(unit).unit}.in_base();
}

const inf::Pattern& pattern(const inf::Production& p, std::size_t i) {
  REQUIRE(i < p.elements.size());
  REQUIRE(p.elements[i].kind == inf::Element::Kind::pattern);
  return p.elements[i].pattern;
}

}  // namespace

TEST_CASE("a first occurrence binds, a later one tests, one in the same pattern is a where test", "[lower]") {
  const auto l = lower(R"(
rule r
  when
    medication(drug: ?m, status: active)
    cyp3a4(drug: ?m, role: inhibitor)
    patient(pregnant: ?p, breastfeeding: ?p, age: ?a) where ?a >= 18 years
  then
    warn high "{?m} {?p} {?a}"
  cite rapamune_label
end
)");
  INFO(Catch::Detail::stringify(l.messages));
  REQUIRE(l.errors.empty());
  const auto& r = l.rule("r");
  REQUIRE(r.productions.size() == 1);
  const auto& p = r.productions[0];
  const auto m = l.var(r, "m"), a = l.var(r, "a"), pv = l.var(r, "p");

  const auto& medication = pattern(p, 0);
  REQUIRE(medication.binds.size() == 1);
  CHECK(medication.binds[0] == std::pair{l.slot("medication", "drug"), m});
  REQUIRE(medication.tests.size() == 1);
  CHECK(medication.tests[0].slot == l.slot("medication", "status"));
  CHECK(medication.tests[0].op == inf::Op::same);
  CHECK(l.name(medication.tests[0].operand.constant) == "active");

  const auto& cyp = pattern(p, 1);
  CHECK(cyp.binds.empty());
  REQUIRE(cyp.tests.size() == 2);
  CHECK(cyp.tests[0].slot == l.slot("cyp3a4", "drug"));
  CHECK(cyp.tests[0].operand.kind == inf::Term::Kind::variable);
  CHECK(cyp.tests[0].operand.var == m);

  // ?p binds pregnant; breastfeeding is compared to it in `where`, through its own variable.
  const auto& patient = pattern(p, 2);
  CHECK(patient.tests.empty());
  REQUIRE(patient.binds.size() == 3);
  CHECK(patient.binds[0] == std::pair{l.slot("patient", "pregnant"), pv});
  CHECK(patient.binds[1].first == l.slot("patient", "breastfeeding"));
  CHECK(patient.binds[2] == std::pair{l.slot("patient", "age"), a});
  REQUIRE(patient.where.size() == 2);
  CHECK(patient.where[0].op == inf::Op::same);
  CHECK(patient.where[0].lhs.var == patient.binds[1].second);
  CHECK(patient.where[0].rhs.var == pv);
  CHECK(patient.where[1].op == inf::Op::ge);
  CHECK(patient.where[1].lhs.var == a);
  CHECK(patient.where[1].rhs.constant.as_double() == Approx(base_of(18, "years")));
}

TEST_CASE("a bare number in a where test is read in the unit of the variable's slot", "[lower][units]") {
  const auto l = lower(R"(
rule r
  when
    patient(age: ?a) where ?a < 18
  then
    info "{?a}"
  cite rapamune_label
end
)");
  REQUIRE(l.errors.empty());
  const auto& where = pattern(l.rule("r").productions[0], 0).where;
  REQUIRE(where.size() == 1);
  CHECK(where[0].rhs.constant.as_double() == Approx(base_of(18, "years")));
}

TEST_CASE("either expands into the cross product of its branches", "[lower][dnf]") {
  const auto l = lower(R"(
rule r
  when
    medication(drug: sirolimus, status: active)
    either { diagnosis(code: ITP) } or { diagnosis(code: AIHA) } or { diagnosis(code: EVANS) }
    either { patient(sex: female) } or { patient(sex: male) }
  then
    info "x"
  cite rapamune_label
end
)");
  REQUIRE(l.errors.empty());
  const auto& r = l.rule("r");
  REQUIRE(r.productions.size() == 6);
  std::vector<std::string> seen;
  for (const auto& p : r.productions) {
    REQUIRE(p.elements.size() == 3);
    seen.push_back(std::string(l.name(pattern(p, 1).tests[0].operand.constant)) + "/" +
                   std::string(l.name(pattern(p, 2).tests[0].operand.constant)));
  }
  CHECK(seen == std::vector<std::string>{"ITP/female", "ITP/male", "AIHA/female", "AIHA/male", "EVANS/female",
                                         "EVANS/male"});
}

TEST_CASE("each either branch binds the shared variable in its own pattern", "[lower][dnf]") {
  const auto l = lower(R"(
rule r
  when
    either { medication(drug: ?m, status: active) } or { therapy(agent: ?m, response: none) }
  then
    warn high "{?m}"
  cite rapamune_label
end
)");
  REQUIRE(l.errors.empty());
  const auto& r = l.rule("r");
  REQUIRE(r.productions.size() == 2);
  const auto m = l.var(r, "m");
  CHECK(pattern(r.productions[0], 0).binds == std::vector{std::pair{l.slot("medication", "drug"), m}});
  CHECK(pattern(r.productions[1], 0).binds == std::vector{std::pair{l.slot("therapy", "agent"), m}});
  REQUIRE(r.actions[0].advice.text.size() == 1);
  CHECK(r.actions[0].advice.text[0].var == m);
}

TEST_CASE("not of a disjunction is a conjunction of negations; exists is a double negation", "[lower][dnf]") {
  const auto l = lower(R"(
rule r
  when
    medication(drug: ?m, status: active)
    not { either { allergy(drug: sirolimus) } or { allergy(drug: ?m) } }
    exists { either { diagnosis(code: ITP) } or { diagnosis(code: AIHA) } }
  then
    info "{?m}"
  cite rapamune_label
end
)");
  REQUIRE(l.errors.empty());
  const auto& r = l.rule("r");
  REQUIRE(r.productions.size() == 1);
  const auto& e = r.productions[0].elements;
  REQUIRE(e.size() == 4);
  for (std::size_t i : {1, 2}) {
    CHECK(e[i].kind == inf::Element::Kind::negation);
    REQUIRE(e[i].body.size() == 1);
    CHECK(e[i].body[0].kind == inf::Element::Kind::pattern);
  }
  CHECK(e[2].body[0].pattern.tests[0].operand.kind == inf::Term::Kind::variable);
  CHECK(e[3].kind == inf::Element::Kind::negation);
  REQUIRE(e[3].body.size() == 2);
  for (const auto& inner : e[3].body) {
    CHECK(inner.kind == inf::Element::Kind::negation);
    REQUIRE(inner.body.size() == 1);
    CHECK(inner.body[0].pattern.type == *l.base->find_type("diagnosis"));
  }
}

TEST_CASE("a variable first bound inside a negation is bound there, and again outside", "[lower][dnf]") {
  const auto l = lower(R"(
rule r
  when
    not medication(drug: ?x, status: stopped)
    allergy(drug: ?x)
  then
    info "{?x}"
  cite rapamune_label
end
)");
  REQUIRE(l.errors.empty());
  const auto& e = l.rule("r").productions[0].elements;
  REQUIRE(e.size() == 2);
  CHECK(e[0].body[0].pattern.binds.size() == 1);
  CHECK(e[1].pattern.binds.size() == 1);  // the negation's binding is local: bound afresh
  CHECK(e[1].pattern.tests.empty());
}

TEST_CASE("ranges: a range is two tests; alternatives of ranges and != a range split",
          "[lower][dnf][units]") {
  const auto l = lower(R"(
rule r
  when
    lab(test: platelets, value: 20..30 x10^9/L)
    patient(age: 0..1 years | 65..120 years)
    lab(test: sirolimus_trough, value: != 4..15 ng/mL)
  then
    info "x"
  cite rapamune_label
end
)");
  INFO(Catch::Detail::stringify(l.messages));
  REQUIRE(l.errors.empty());
  const auto& r = l.rule("r");
  REQUIRE(r.productions.size() == 4);
  const auto& platelets = pattern(r.productions[0], 0);
  REQUIRE(platelets.tests.size() == 3);
  CHECK(platelets.tests[1].op == inf::Op::ge);
  CHECK(platelets.tests[1].operand.constant.as_double() == Approx(base_of(20, "x10^9/L")));
  CHECK(platelets.tests[2].op == inf::Op::le);
  CHECK(platelets.tests[2].operand.constant.as_double() == Approx(base_of(30, "x10^9/L")));
  CHECK(pattern(r.productions[0], 1).tests[1].operand.constant.as_double() == Approx(base_of(1, "years")));
  CHECK(pattern(r.productions[2], 1).tests[0].operand.constant.as_double() == Approx(base_of(65, "years")));
  const auto& below = pattern(r.productions[0], 2).tests[1];
  const auto& above = pattern(r.productions[1], 2).tests[1];
  CHECK(below.op == inf::Op::lt);
  CHECK(below.operand.constant.as_double() == Approx(base_of(4, "ng/mL")));
  CHECK(above.op == inf::Op::gt);
  CHECK(above.operand.constant.as_double() == Approx(base_of(15, "ng/mL")));
}

TEST_CASE("quantities become numbers in base units whatever unit they are written in", "[lower][units]") {
  const auto l = lower(R"(
rule per_microlitre
  when
    lab(test: platelets, value: < 150000 /uL)
  then
    info "x"
  cite rapamune_label
end

rule per_litre
  when
    lab(test: platelets, value: < 150 x10^9/L)
  then
    info "x"
  cite rapamune_label
end
)");
  REQUIRE(l.errors.empty());
  const auto value = [&](std::string_view rule) {
    const auto& tests = pattern(l.rule(rule).productions[0], 0).tests;
    REQUIRE(tests.size() == 2);
    CHECK(tests[1].op == inf::Op::lt);
    CHECK(tests[1].operand.constant.kind() == inf::Value::Kind::number);
    return tests[1].operand.constant.as_double();
  };
  const double a = value("per_microlitre"), b = value("per_litre");
  CHECK(a == Approx(b).epsilon(1e-12));
  CHECK(a == Approx(base_of(150, "x10^9/L")).epsilon(1e-12));
  CHECK(a > 1e3);  // not left as 150 or 150000
}

TEST_CASE("drug names become the canonical id; one-of alternatives become choices", "[lower]") {
  const auto l = lower(R"(
rule r
  when
    medication(drug: Vfend, status: active | planned)
    therapy(agent: 伏立康唑)
    allergy(drug: RAPAMUNE | rapamycin | everolimus)
  then
    recommend Rapamune start 2..4 mg/day, trough 5..15 ng/mL "Off-label."
    contraindicate 西罗莫司 "x"
  grade C
  cite mbc2024_itp
end
)");
  INFO(Catch::Detail::stringify(l.messages));
  REQUIRE(l.errors.empty());
  const auto& r = l.rule("r");
  const auto& p = r.productions[0];
  CHECK(l.name(pattern(p, 0).tests[0].operand.constant) == "voriconazole");
  const auto& status = pattern(p, 0).tests[1];
  CHECK(status.op == inf::Op::same);
  REQUIRE(status.choices.size() == 2);
  CHECK(l.name(status.choices[0].constant) == "active");
  CHECK(l.name(status.choices[1].constant) == "planned");
  CHECK(l.name(pattern(p, 1).tests[0].operand.constant) == "voriconazole");
  const auto& allergy = pattern(p, 2).tests[0];
  REQUIRE(allergy.choices.size() == 3);
  CHECK(l.name(allergy.choices[0].constant) == "sirolimus");
  CHECK(l.name(allergy.choices[1].constant) == "sirolimus");
  CHECK(l.name(allergy.choices[2].constant) == "everolimus");

  REQUIRE(r.actions.size() == 2);
  const auto& recommend = r.actions[0].advice;
  CHECK(recommend.kind == inf::AdviceKind::recommend);
  CHECK(l.name(recommend.subject->constant) == "sirolimus");
  REQUIRE(recommend.details.size() == 2);
  CHECK(recommend.details[0].key == "start");
  CHECK(recommend.details[0].low == Approx(base_of(2, "mg/day")));
  CHECK(recommend.details[0].high == Approx(base_of(4, "mg/day")));
  CHECK(recommend.details[0].shown == "2..4 mg/day");
  CHECK(recommend.details[1].shown == "5..15 ng/mL");
  REQUIRE(recommend.text.size() == 1);
  CHECK(recommend.text[0].literal == "Off-label.");
  CHECK(l.name(r.actions[1].advice.subject->constant) == "sirolimus");
  CHECK(r.grade == 'C');
}

TEST_CASE("texts: escapes decoded, placeholders split, numbers shown in their slot's unit", "[lower][text]") {
  const auto l = lower(R"(
rule r
  when
    medication(drug: ?m, status: active)
    lab(test: platelets, value: ?count)
    patient(weight: ?w)
  then
    warn high "{?m}: \"{?count}\" \{?m\} {?w}"
  cite rapamune_label
end
)");
  REQUIRE(l.errors.empty());
  const auto& r = l.rule("r");
  const auto& text = r.actions[0].advice.text;
  REQUIRE(text.size() == 5);  // no empty literal after the last placeholder
  CHECK(text[0].var == l.var(r, "m"));
  CHECK(text[0].display_unit.empty());
  CHECK(text[1].literal == ": \"");
  CHECK(text[2].var == l.var(r, "count"));
  CHECK(text[2].display_unit == "x10^9/L");
  CHECK(base_of(1, "x10^9/L") * text[2].display_scale == Approx(1.0));
  CHECK(text[3].literal == "\" {?m} ");  // escaped braces are not a placeholder
  CHECK(!text[3].var);
  CHECK(text[4].var == l.var(r, "w"));
  CHECK(text[4].display_unit == "kg");
}

TEST_CASE("conclude gives every slot of the type, a missing one unknown", "[lower][conclude]") {
  const auto l = lower(R"(
rule r
  when
    allergy(drug: ?m)
  then
    conclude contraindicated(drug: ?m)
end
)");
  // The checker refuses the missing slot; lowering still returns what it can.
  REQUIRE(l.errors == std::vector{DiagId::conclude_unset_slot});
  const auto& r = l.rule("r");
  REQUIRE(r.actions.size() == 1);
  REQUIRE(r.actions[0].kind == inf::Action::Kind::assert_fact);
  const auto& a = r.actions[0].assertion;
  CHECK(a.type == *l.base->find_type("contraindicated"));
  REQUIRE(a.slots.size() == 2);
  CHECK(a.slots[0].kind == inf::Term::Kind::variable);
  CHECK(a.slots[0].var == l.var(r, "m"));
  CHECK(a.slots[1].kind == inf::Term::Kind::constant);
  CHECK(a.slots[1].constant.is_unknown());
  CHECK(a.slots[1].constant.reason() == inf::UnknownReason::not_asked);
}

TEST_CASE("a rule that cannot be lowered faithfully is left out", "[lower]") {
  const auto l = lower(R"(
rule broken
  when
    medicaton(drug: sirolimus)
  then
    info "x"
  cite rapamune_label
end

rule fine
  when
    medication(drug: sirolimus)
  then
    info "x"
  cite rapamune_label
end
)");
  CHECK(l.errors == std::vector{DiagId::unknown_fact_type});
  CHECK(!l.base->find_rule("broken"));
  CHECK(l.base->find_rule("fine"));
}

TEST_CASE("citations, grade, salience and title carry over", "[lower]") {
  // Written here rather than taken from rules/, so that editing the clinical content does not
  // move this test.
  const auto l = lower(R"(
rule test.metadata
  title "Strong CYP3A4 inhibitor with sirolimus"
  salience 20
  when
    medication(drug: sirolimus, status: active)
    medication(drug: ?m, status: active)
    cyp3a4(drug: ?m, role: inhibitor, strength: strong)
  then
    warn high "{?m} raises sirolimus exposure."
  cite rapamune_label, uptodate_cyp3a
end
)");
  INFO(Catch::Detail::stringify(l.messages));
  REQUIRE(l.errors.empty());
  const auto& r = l.rule("test.metadata");
  std::vector<std::string> keys;
  for (const auto& c : r.citations) keys.push_back(l.base->sources.at(c.source).key);
  CHECK(keys == std::vector<std::string>{"rapamune_label", "uptodate_cyp3a"});
  CHECK(r.grade == '\0');  // ungraded sources: a warning without a grade
  CHECK(r.salience == 20);
  CHECK(r.title == "Strong CYP3A4 inhibitor with sirolimus");
}

TEST_CASE("the bundled rule base lowers whole", "[lower][bundled]") {
  const auto l = lower("", true);
  INFO(Catch::Detail::stringify(l.messages));
  REQUIRE(l.errors.empty());
  std::size_t written = 0;
  for (const auto& file : l.checked.files) written += file.rules.size();
  REQUIRE(written > 0);
  CHECK(l.base->rules.size() == written);
  for (const auto& r : l.base->rules) {
    INFO(r.name);
    CHECK(!r.productions.empty());
    CHECK(!r.actions.empty());
    CHECK(r.range.valid());
  }
  CHECK(l.base->types.size() == l.checked.kb.fact_types.size());
  CHECK(l.base->sources.size() == l.checked.kb.sources.size());

  SECTION("drug modulations are kb facts") {
    const auto cyp3a4 = *l.base->find_type("cyp3a4");
    CHECK(l.base->types[cyp3a4].kind == inf::FactTypeInfo::Kind::kb);
    const bool voriconazole = std::any_of(l.base->facts.begin(), l.base->facts.end(), [&](const auto& f) {
      return f.type == cyp3a4 && f.slots.size() == 3 && l.name(f.slots[0]) == "voriconazole" &&
             l.name(f.slots[1]) == "inhibitor" && l.name(f.slots[2]) == "strong";
    });
    CHECK(voriconazole);
  }

  SECTION("questions: whole types, and each lab test the rules name") {
    std::vector<std::string> whole, labs;
    const auto lab = *l.base->find_type("lab");
    for (const auto& q : l.base->questions) {
      if (!q.key) {
        whole.push_back(q.label);
        continue;
      }
      CHECK(q.type == lab);
      CHECK(q.key->first == l.slot("lab", "test"));
      labs.push_back(std::string(l.name(q.key->second)) + "=" + q.label);
    }
    std::sort(whole.begin(), whole.end());
    CHECK(whole == std::vector<std::string>{"current medicines", "demographics"});
    CHECK(std::count(labs.begin(), labs.end(), "platelets=platelet count") == 1);
    auto unique = labs;
    std::sort(unique.begin(), unique.end());
    CHECK(std::adjacent_find(unique.begin(), unique.end()) == unique.end());
  }

  SECTION("slots with a fixed unit say how to show them") {
    const auto& patient = l.base->types[*l.base->find_type("patient")];
    CHECK(patient.slots[l.slot("patient", "age")].display_unit == "years");
    CHECK(base_of(1, "years") * patient.slots[l.slot("patient", "age")].display_scale == Approx(1.0));
    CHECK(l.base->types[*l.base->find_type("lab")].slots[l.slot("lab", "value")].display_unit.empty());
  }
}
