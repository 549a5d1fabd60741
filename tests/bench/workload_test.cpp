// The engine benchmark's workload reader (tools/bench/workload.hpp): the RuleBase built from a
// small workload.json in the shape gen.py writes (../shared/bench/README.md, "The workload
// spec"), the cohort reader, and the errors on malformed files.
#include "tools/bench/workload.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace rapa;
using inference::Element;
using inference::Op;
using inference::Term;
using inference::Value;

namespace {

// Two input templates, a KB table, a derived and the output template; rules exercising repeated
// variables, tests of both kinds, integer and float constants, and `not` with a local variable.
constexpr const char* kWorkload = R"({
  "format": "rapa-bench-workload/1",
  "templates": {
    "patient": {"kind": "input", "stratum": 0, "slots": {"id": "symbol", "age": "integer", "weight": "float"}},
    "medication": {"kind": "input", "stratum": 0, "slots": {"patient": "symbol", "drug": "symbol", "status": "symbol"}},
    "cyp3a4": {"kind": "kb", "stratum": 0, "slots": {"drug": "symbol", "role": "symbol", "strength": "symbol"}},
    "candidate": {"kind": "derived", "stratum": 1, "slots": {"patient": "symbol", "drug": "symbol"}},
    "advice": {"kind": "output", "slots": {"patient": "symbol", "rule": "symbol", "code": "symbol", "drug": "symbol"}}
  },
  "max_stratum": 2,
  "kb": [{"template": "cyp3a4", "slots": {"drug": "kd001", "role": "inhibitor", "strength": "strong"}}],
  "rules": [
    {"id": "R0001", "family": "candidate", "stratum": 1,
     "when": [{"pattern": "patient", "slots": {"id": "?p", "age": "?a", "weight": 70.5}, "tests": [[">=", "?a", 18]]},
              {"not": {"pattern": "medication", "slots": {"patient": "?p", "drug": "?x", "status": "active"},
                       "tests": [["neq", "?x", "kd001"]]}}],
     "then": [{"assert": "candidate", "slots": {"patient": "?p", "drug": "sirolimus"}}]},
    {"id": "R0002", "family": "ddi_candidate", "stratum": 2,
     "when": [{"pattern": "candidate", "slots": {"drug": "?d", "patient": "?p"}},
              {"pattern": "medication", "slots": {"patient": "?p", "drug": "?m", "status": "active"}},
              {"pattern": "medication", "slots": {"patient": "?p", "drug": "?m2"}, "tests": [["neq", "?m2", "?m"]]},
              {"pattern": "cyp3a4", "slots": {"drug": "?m", "role": "inhibitor"}}],
     "then": [{"assert": "advice", "slots": {"patient": "?p", "rule": "R0002", "code": "ddi", "drug": "?m"}}]}
  ]
})";

bench::Workload load() { return bench::parse_workload(kWorkload, "workload.json"); }

std::string error_of(const auto& action) {
  try {
    action();
  } catch (const bench::WorkloadError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("workload: templates, kinds and slots in declared order", "[bench][workload]") {
  const auto w = load();
  const auto& rules = *w.rules;
  REQUIRE(rules.types.size() == 5);
  CHECK(rules.types[0].name == "patient");
  CHECK(rules.types[0].kind == inference::FactTypeInfo::Kind::input);
  REQUIRE(rules.types[0].slots.size() == 3);
  CHECK(rules.types[0].slots[0].name == "id");
  CHECK(rules.types[0].slots[2].name == "weight");
  CHECK(rules.types[2].kind == inference::FactTypeInfo::Kind::kb);
  CHECK(rules.types[3].kind == inference::FactTypeInfo::Kind::derived);
  CHECK(rules.types[4].kind == inference::FactTypeInfo::Kind::output);
  CHECK(w.advice_type == 4);
  CHECK(w.type_strata == std::vector<int>{0, 0, 0, 1, 0});
  CHECK(w.max_stratum == 2);

  REQUIRE(rules.facts.size() == 1);
  CHECK(rules.facts[0].type == 2);
  REQUIRE(rules.facts[0].slots.size() == 3);
  CHECK(rules.symbols.name(rules.facts[0].slots[0].as_symbol()) == "kd001");
  CHECK(rules.symbols.name(rules.facts[0].slots[2].as_symbol()) == "strong");
}

TEST_CASE("workload: a rule with a test and a negation with a local variable", "[bench][workload]") {
  const auto w = load();
  const auto& rules = *w.rules;
  REQUIRE(rules.rules.size() == 2);
  const auto& rule = rules.rules[0];
  CHECK(rule.name == "R0001");
  CHECK(rule.salience == 40);
  REQUIRE(rule.productions.size() == 1);
  const auto& elements = rule.productions[0].elements;
  REQUIRE(elements.size() == 2);

  // patient(id ?p, age ?a, weight 70.5) with ?a >= 18
  const auto& patient = elements[0];
  CHECK(patient.kind == Element::Kind::pattern);
  CHECK(patient.pattern.type == 0);
  REQUIRE(patient.pattern.binds.size() == 2);
  CHECK(patient.pattern.binds[0] == std::pair<inference::SlotIndex, inference::VarId>{0, 0});  // ?p
  CHECK(patient.pattern.binds[1] == std::pair<inference::SlotIndex, inference::VarId>{1, 1});  // ?a
  REQUIRE(patient.pattern.tests.size() == 1);
  CHECK(patient.pattern.tests[0].slot == 2);
  CHECK(patient.pattern.tests[0].op == Op::same);
  CHECK(patient.pattern.tests[0].operand.kind == Term::Kind::constant);
  CHECK(patient.pattern.tests[0].operand.constant.kind() == Value::Kind::number);  // 70.5 is a float
  CHECK(patient.pattern.tests[0].operand.constant.as_double() == 70.5);
  REQUIRE(patient.pattern.where.size() == 1);
  CHECK(patient.pattern.where[0].op == Op::ge);
  CHECK(patient.pattern.where[0].lhs.kind == Term::Kind::variable);
  CHECK(patient.pattern.where[0].lhs.var == 1);
  CHECK(patient.pattern.where[0].rhs.constant.kind() == Value::Kind::integer);  // 18 stays an integer
  CHECK(patient.pattern.where[0].rhs.constant.as_integer() == 18);

  // not medication(patient ?p, drug ?x, status active) with ?x neq kd001: ?x is local.
  const auto& negation = elements[1];
  CHECK(negation.kind == Element::Kind::negation);
  REQUIRE(negation.body.size() == 1);
  const auto& inner = negation.body[0].pattern;
  CHECK(inner.type == 1);
  REQUIRE(inner.tests.size() == 2);
  CHECK(inner.tests[0].slot == 0);
  CHECK(inner.tests[0].operand.kind == Term::Kind::variable);
  CHECK(inner.tests[0].operand.var == 0);  // ?p, bound outside
  CHECK(inner.tests[1].slot == 2);
  CHECK(rules.symbols.name(inner.tests[1].operand.constant.as_symbol()) == "active");
  REQUIRE(inner.binds.size() == 1);
  CHECK(inner.binds[0] == std::pair<inference::SlotIndex, inference::VarId>{1, 2});  // ?x
  REQUIRE(inner.where.size() == 1);
  CHECK(inner.where[0].op == Op::differ);
  CHECK(rule.variables == std::vector<std::string>{"p", "a", "x"});

  REQUIRE(rule.actions.size() == 1);
  const auto& action = rule.actions[0];
  CHECK(action.kind == inference::Action::Kind::assert_fact);
  CHECK(action.assertion.type == 3);
  REQUIRE(action.assertion.slots.size() == 2);
  CHECK(action.assertion.slots[0].kind == Term::Kind::variable);
  CHECK(action.assertion.slots[0].var == 0);
  CHECK(rules.symbols.name(action.assertion.slots[1].constant.as_symbol()) == "sirolimus");
}

TEST_CASE("workload: binding follows the JSON order of slots; later mentions are tests", "[bench][workload]") {
  const auto w = load();
  const auto& rule = w.rules->rules[1];
  CHECK(rule.salience == 30);
  const auto& e = rule.productions[0].elements;
  REQUIRE(e.size() == 4);
  // candidate(drug ?d, patient ?p): ?d is bound first although drug is the template's second slot.
  REQUIRE(e[0].pattern.binds.size() == 2);
  CHECK(e[0].pattern.binds[0] == std::pair<inference::SlotIndex, inference::VarId>{1, 0});  // ?d
  CHECK(e[0].pattern.binds[1] == std::pair<inference::SlotIndex, inference::VarId>{0, 1});  // ?p
  // medication(patient ?p, drug ?m, status active): ?p a test, ?m bound.
  REQUIRE(e[1].pattern.tests.size() == 2);
  CHECK(e[1].pattern.tests[0].operand.var == 1);
  CHECK(e[1].pattern.binds == std::vector<std::pair<inference::SlotIndex, inference::VarId>>{{1, 2}});
  // medication(patient ?p, drug ?m2) with ?m2 neq ?m: a test across patterns.
  REQUIRE(e[2].pattern.where.size() == 1);
  CHECK(e[2].pattern.where[0].op == Op::differ);
  CHECK(e[2].pattern.where[0].lhs.var == 3);
  CHECK(e[2].pattern.where[0].rhs.var == 2);
  // cyp3a4(drug ?m, ...): ?m is a test now.
  CHECK(e[3].pattern.binds.empty());
  CHECK(e[3].pattern.tests[0].operand.var == 2);
  CHECK(rule.variables == std::vector<std::string>{"d", "p", "m", "m2"});
  REQUIRE(rule.actions[0].assertion.slots.size() == 4);
  CHECK(rule.actions[0].assertion.slots[3].var == 2);
}

TEST_CASE("workload: the cohort, typed and in declared slot order", "[bench][workload]") {
  const auto w = load();
  const std::string cohort =
      R"({"id": "p1", "facts": [{"template": "patient", "slots": {"weight": 61.0, "id": "p1", "age": 40}},)"
      R"( {"template": "medication", "slots": {"patient": "p1", "drug": "kd001", "status": "active"}}]})"
      "\n\n"
      R"({"id": "p2", "facts": []})"
      "\n";
  const auto patients = bench::parse_cohort(cohort, "cohort.jsonl", w);
  REQUIRE(patients.size() == 2);
  CHECK(patients[0].id == "p1");
  REQUIRE(patients[0].facts.size() == 2);
  const auto& slots = patients[0].facts[0].slots;
  CHECK(slots[0].kind == bench::RawValue::Kind::symbol);
  CHECK(slots[0].symbol == "p1");
  CHECK(slots[1].kind == bench::RawValue::Kind::integer);
  CHECK(slots[1].integer == 40);
  CHECK(slots[2].kind == bench::RawValue::Kind::number);
  CHECK(slots[2].number == 61.0);
  CHECK(bench::parse_cohort(cohort, "cohort.jsonl", w, 1).size() == 1);

  inference::SymbolTable symbols;
  bench::Cohort ready(patients, [&](std::string_view s) { return symbols.intern(s); });
  REQUIRE(ready.size() == 2);
  CHECK(ready.id(0) == "p1");
  CHECK(ready.id(1) == "p2");
  REQUIRE(ready.facts(0).size() == 2);
  CHECK(ready.facts(1).empty());
  CHECK(ready.facts(0)[1].type == 1);
  REQUIRE(ready.facts(0)[1].slots.size() == 3);
  CHECK(symbols.name(ready.facts(0)[1].slots[1].as_symbol()) == "kd001");
  CHECK(ready.facts(0)[0].slots[2].kind() == Value::Kind::number);
  CHECK(ready.facts(0)[0].slots[2].as_double() == 61.0);
  // One array for the whole cohort: the second fact's values follow the first's.
  CHECK(ready.facts(0)[1].slots.data() == ready.facts(0)[0].slots.data() + ready.facts(0)[0].slots.size());
  // Moved, the facts still read the same values.
  const bench::Cohort moved = std::move(ready);
  CHECK(symbols.name(moved.facts(0)[1].slots[1].as_symbol()) == "kd001");
  CHECK_THROWS_AS(moved.facts(2), std::out_of_range);
}

TEST_CASE("workload: malformed files name the file and line", "[bench][workload]") {
  const auto w = load();
  const auto cohort = [&](const std::string& text) {
    return error_of([&] { bench::parse_cohort(text, "cohort.jsonl", w); });
  };
  const std::string good = R"({"id": "p1", "facts": []})";
  CHECK(cohort(good + "\n" + R"({"id": "p2", "facts": [)" + "\n") ==
        "cohort.jsonl:2:24: invalid JSON: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal");
  CHECK(cohort(good + "\n" + good + "\n" + R"({"id": "p3", "facts": [{"template": "patient", "slots": {"id": "p3", "age": 40.0, "weight": 1.0}}]})") ==
        "cohort.jsonl:3: fact 1, slot age: expected an integer, got 40.0");
  CHECK(cohort(R"({"id": "p1", "facts": [{"template": "nope", "slots": {}}]})") ==
        "cohort.jsonl:1: fact 1: unknown template 'nope'");
  CHECK(cohort(R"({"id": "p1", "facts": [{"template": "candidate", "slots": {"patient": "p1", "drug": "x"}}]})") ==
        "cohort.jsonl:1: fact 1: a patient's facts are input (or kb) facts, not candidate");
  CHECK(cohort(R"(["not an object"])") == "cohort.jsonl:1: expected an object");

  CHECK(error_of([] { bench::parse_workload("{\n  \"format\": ,\n}", "w.json"); }).starts_with("w.json:2:13: invalid JSON"));
  std::string bad = kWorkload;
  bad.replace(bad.find("\"?a\", 18"), 8, "\"?zz\", 18");
  CHECK(error_of([&] { bench::parse_workload(bad, "w.json"); }) ==
        "w.json: rule R0001, condition 1: test uses \"?zz\" before it is bound");
  CHECK(error_of([] { bench::parse_workload("[]", "w.json"); }) == "w.json: the workload is a JSON object");
}
