// Unit tests of the Rete engine, one behaviour at a time, on small rule bases built by hand.
// The differential test (differential_test.cpp) covers the combinations.
#include <algorithm>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "inference/engine.hpp"

namespace rapa::inference {
namespace {

// A small clinical-shaped schema: patient(age, pregnant), medication(drug, status),
// cyp3a4(drug, role) from the kb, lab(test, value); derived interaction(drug) and risk(drug).
struct Fixture {
  std::shared_ptr<RuleBase> base = std::make_shared<RuleBase>();
  TypeId patient, medication, cyp3a4, lab, interaction, risk;

  Fixture() {
    patient = type("patient", FactTypeInfo::Kind::input, {"age", "pregnant"});
    medication = type("medication", FactTypeInfo::Kind::input, {"drug", "status"});
    cyp3a4 = type("cyp3a4", FactTypeInfo::Kind::kb, {"drug", "role"});
    lab = type("lab", FactTypeInfo::Kind::input, {"test", "value"});
    interaction = type("interaction", FactTypeInfo::Kind::derived, {"drug"});
    risk = type("risk", FactTypeInfo::Kind::derived, {"drug"});
    base->facts.push_back(InitialFact{cyp3a4, {sym("voriconazole"), sym("inhibitor")}, {}});
    base->facts.push_back(InitialFact{cyp3a4, {sym("rifampicin"), sym("inducer")}, {}});
  }

  TypeId type(const std::string& name, FactTypeInfo::Kind kind, std::vector<std::string> slots) {
    FactTypeInfo info;
    info.name = name;
    info.kind = kind;
    for (auto& s : slots) info.slots.push_back(SlotInfo{s, "", 1.0});
    base->types.push_back(info);
    return static_cast<TypeId>(base->types.size() - 1);
  }
  Value sym(std::string_view name) { return Value::symbol(base->symbols.intern(name)); }

  static SlotTest is(SlotIndex slot, Value v, Op op = Op::same) {
    SlotTest t;
    t.slot = slot;
    t.op = op;
    t.operand = Term::of(v);
    return t;
  }
  static SlotTest is_var(SlotIndex slot, VarId var) {
    SlotTest t;
    t.slot = slot;
    t.operand = Term::of_var(var);
    return t;
  }
  static Element pattern(TypeId type, std::vector<SlotTest> tests,
                         std::vector<std::pair<SlotIndex, VarId>> binds = {}) {
    Element e;
    e.pattern.type = type;
    e.pattern.tests = std::move(tests);
    e.pattern.binds = std::move(binds);
    return e;
  }
  static Element negation(std::vector<Element> body) {
    Element e;
    e.kind = Element::Kind::negation;
    e.body = std::move(body);
    return e;
  }
  static Action conclude(TypeId type, std::vector<Term> slots) {
    Action a;
    a.kind = Action::Kind::assert_fact;
    a.assertion.type = type;
    a.assertion.slots = std::move(slots);
    return a;
  }
  static Action advise(AdviceKind kind) {
    Action a;
    a.advice.kind = kind;
    return a;
  }
  RuleId rule(const std::string& name, std::vector<Element> elements, std::vector<Action> actions,
              std::vector<std::string> variables = {}, std::int32_t salience = 0) {
    Rule r;
    r.name = name;
    r.salience = salience;
    r.productions.push_back(Production{std::move(elements)});
    r.actions = std::move(actions);
    r.variables = std::move(variables);
    base->rules.push_back(std::move(r));
    return static_cast<RuleId>(base->rules.size() - 1);
  }

  // medication(drug: ?m, status: active), cyp3a4(drug: ?m, role: inhibitor)
  //   -> conclude interaction(drug: ?m), warn
  RuleId interaction_rule() {
    return rule("ddi",
                {pattern(medication, {is(1, sym("active"))}, {{0, 0}}),
                 pattern(cyp3a4, {is_var(0, 0), is(1, sym("inhibitor"))})},
                {conclude(interaction, {Term::of_var(0)}), advise(AdviceKind::warn)}, {"m"});
  }
};

std::vector<std::string> rule_names_of_advice(const Engine& engine) {
  std::vector<std::string> names;
  for (const AdviceItem& item : engine.advice())
    names.push_back(engine.rules().rules[engine.firing(item.firing).rule].name);
  return names;
}

std::size_t count_of_type(const Engine& engine, TypeId type) {
  auto facts = engine.facts();
  return static_cast<std::size_t>(
      std::count_if(facts.begin(), facts.end(), [&](FactId f) { return engine.type_of(f) == type; }));
}

TEST_CASE("A join on a shared variable concludes and advises, with its proof", "[engine]") {
  Fixture fx;
  fx.interaction_rule();
  Engine engine(fx.base);
  FactId med = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  engine.assert_fact(fx.medication, {fx.sym("rifampicin"), fx.sym("active")});  // an inducer: no match
  auto result = engine.run();
  CHECK(result.completed);
  CHECK(result.fired == 1);
  CHECK(engine.fired() == 1);
  REQUIRE(count_of_type(engine, fx.interaction) == 1);
  REQUIRE(engine.advice().size() == 1);
  const Firing& firing = engine.firing(engine.advice()[0].firing);
  REQUIRE(firing.matched.size() == 2);
  CHECK(firing.matched[0] == med);
  CHECK(engine.origin_of(firing.matched[1]).kind == Origin::Kind::kb);
  CHECK(engine.symbol_name(firing.bindings[0].as_symbol()) == "voriconazole");
  Proof proof = engine.why(firing.id);
  CHECK(proof.steps.size() == 1);
  CHECK(proof.leaves == std::vector<FactId>{firing.matched[1], med});  // in id order: the kb fact first
}

TEST_CASE("The proof of an exists condition shows the facts that make it hold, down to input", "[engine][explain]") {
  Fixture fx;
  fx.interaction_rule();
  // exists { interaction(drug: voriconazole) } -> info: the interaction is concluded, so its
  // proof must reach the medication through the ddi firing.
  fx.rule("any_interaction",
          {Fixture::negation({Fixture::negation({Fixture::pattern(fx.interaction, {Fixture::is(0, fx.sym("voriconazole"))})})})},
          {Fixture::advise(AdviceKind::info)});
  Engine engine(fx.base);
  const FactId med = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  engine.run();
  const auto advice = engine.advice();
  const auto info = std::find_if(advice.begin(), advice.end(), [&](const AdviceItem& item) {
    return engine.rules().rules[engine.firing(item.firing).rule].name == "any_interaction";
  });
  REQUIRE(info != advice.end());
  const Proof proof = engine.why(info->firing);
  REQUIRE(proof.steps.size() == 2);  // the exists rule, then the ddi firing behind its witness
  CHECK(proof.steps[0].premises.empty());
  REQUIRE(proof.steps[0].witnesses.size() == 1);
  CHECK(engine.type_of(proof.steps[0].witnesses[0]) == fx.interaction);
  CHECK(engine.rules().rules[engine.firing(proof.steps[1].firing).rule].name == "ddi");
  CHECK(std::find(proof.leaves.begin(), proof.leaves.end(), med) != proof.leaves.end());
  // A plain `not` has no witness: what makes it hold is an absence.
  CHECK(proof.steps[1].witnesses.empty());
}

TEST_CASE("Asserting an identical input fact twice gives one fact", "[engine]") {
  Fixture fx;
  Engine engine(fx.base);
  FactId a = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  FactId b = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  CHECK(a == b);
  CHECK(count_of_type(engine, fx.medication) == 1);
}

TEST_CASE("Retracting a fact takes back everything that rested on it, transitively", "[engine]") {
  Fixture fx;
  fx.interaction_rule();
  // interaction(drug: ?d) -> conclude risk(drug: ?d), info
  fx.rule("risk", {Fixture::pattern(fx.interaction, {}, {{0, 0}})},
          {Fixture::conclude(fx.risk, {Term::of_var(0)}), Fixture::advise(AdviceKind::info)}, {"d"});
  Engine engine(fx.base);
  FactId med = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  engine.run();
  REQUIRE(count_of_type(engine, fx.risk) == 1);
  REQUIRE(engine.advice().size() == 2);
  Proof proof = engine.why(engine.advice()[1].firing);
  CHECK(proof.steps.size() == 2);  // risk, then the interaction it rests on
  CHECK(proof.leaves.size() == 2);

  CHECK(engine.retract_fact(med));
  CHECK(count_of_type(engine, fx.interaction) == 0);
  CHECK(count_of_type(engine, fx.risk) == 0);
  CHECK(engine.advice().empty());
  CHECK(engine.firing(0).withdrawn);
  CHECK_FALSE(engine.retract_fact(med));  // already gone
  CHECK(engine.run().fired == 0);         // nothing left to fire
}

TEST_CASE("A conclusion with two supports stands until both are gone", "[engine]") {
  Fixture fx;
  fx.interaction_rule();
  // the same conclusion from a planned medication
  fx.rule("ddi_planned",
          {Fixture::pattern(fx.medication, {Fixture::is(1, fx.sym("planned"))}, {{0, 0}}),
           Fixture::pattern(fx.cyp3a4, {Fixture::is_var(0, 0), Fixture::is(1, fx.sym("inhibitor"))})},
          {Fixture::conclude(fx.interaction, {Term::of_var(0)})}, {"m"});
  Engine engine(fx.base);
  FactId active = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  FactId planned = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("planned")});
  engine.run();
  REQUIRE(count_of_type(engine, fx.interaction) == 1);
  FactId interaction = engine.facts().back();
  CHECK(engine.supports(interaction).size() == 2);
  engine.retract_fact(active);
  CHECK(count_of_type(engine, fx.interaction) == 1);
  CHECK(engine.supports(interaction).size() == 1);
  engine.retract_fact(planned);
  CHECK(count_of_type(engine, fx.interaction) == 0);
}

TEST_CASE("A negation holds until a matching fact appears, and again after it goes", "[engine]") {
  Fixture fx;
  fx.interaction_rule();
  // patient(age: ?a), not interaction(drug: voriconazole) -> recommend
  fx.rule("recommend",
          {Fixture::pattern(fx.patient, {}, {{0, 0}}),
           Fixture::negation({Fixture::pattern(fx.interaction, {Fixture::is(0, fx.sym("voriconazole"))})})},
          {Fixture::advise(AdviceKind::recommend)}, {"a"});
  Engine engine(fx.base);
  engine.assert_fact(fx.patient, {Value::number(30), fx.sym("no")});
  engine.run();
  CHECK(rule_names_of_advice(engine) == std::vector<std::string>{"recommend"});

  FactId med = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  engine.run();
  CHECK(rule_names_of_advice(engine) == std::vector<std::string>{"ddi"});

  engine.retract_fact(med);
  engine.run();
  CHECK(rule_names_of_advice(engine) == std::vector<std::string>{"recommend"});
}

TEST_CASE("exists holds once however many facts match", "[engine]") {
  Fixture fx;
  fx.rule("any_active",
          {Fixture::negation(
              {Fixture::negation({Fixture::pattern(fx.medication, {Fixture::is(1, fx.sym("active"))})})})},
          {Fixture::advise(AdviceKind::info)});
  Engine engine(fx.base);
  engine.run();
  CHECK(engine.advice().empty());
  FactId a = engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  FactId b = engine.assert_fact(fx.medication, {fx.sym("rifampicin"), fx.sym("active")});
  engine.run();
  CHECK(engine.advice().size() == 1);
  engine.retract_fact(a);
  engine.run();
  CHECK(engine.advice().size() == 1);
  engine.retract_fact(b);
  CHECK(engine.advice().empty());
}

TEST_CASE("A test on an unknown value is undetermined and asks for the datum", "[engine][unknown]") {
  Fixture fx;
  // patient(pregnant: no) -> recommend
  fx.rule("recommend", {Fixture::pattern(fx.patient, {Fixture::is(1, fx.sym("no"))})},
          {Fixture::advise(AdviceKind::recommend)});
  Engine engine(fx.base);
  FactId p = engine.assert_fact(fx.patient, {Value::number(30), Value::unknown(UnknownReason::declined)});
  engine.run();
  CHECK(engine.advice().empty());
  CHECK(engine.fired() == 0);
  auto needs = engine.needs_data();
  REQUIRE(needs.size() == 1);
  REQUIRE(needs[0].missing.size() == 1);
  CHECK(needs[0].missing[0].label == "patient.pregnant");
  CHECK(needs[0].missing[0].reason == UnknownReason::declined);
  CHECK(needs[0].missing[0].fact == p);

  engine.retract_fact(p);
  engine.assert_fact(fx.patient, {Value::number(30), fx.sym("no")});
  engine.run();
  CHECK(engine.advice().size() == 1);
  CHECK(engine.needs_data().empty());
}

TEST_CASE("A definite counter-example beats an unknown one", "[engine][unknown]") {
  Fixture fx;
  // not medication(status: active) -> info
  fx.rule("no_active",
          {Fixture::negation({Fixture::pattern(fx.medication, {Fixture::is(1, fx.sym("active"))})})},
          {Fixture::advise(AdviceKind::info)});
  Engine engine(fx.base);
  engine.assert_fact(fx.medication, {fx.sym("rifampicin"), Value::unknown(UnknownReason::not_asked)});
  engine.run();
  CHECK(engine.advice().empty());
  REQUIRE(engine.needs_data().size() == 1);
  CHECK(engine.needs_data()[0].missing.at(0).label == "medication.status");
  engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  engine.run();
  CHECK(engine.advice().empty());
  CHECK(engine.needs_data().empty());  // false now, whatever the unknown turns out to be
}

TEST_CASE("An unanswered question stands as a placeholder until it is answered", "[engine][unknown]") {
  Fixture fx;
  Question egfr;
  egfr.type = fx.lab;
  egfr.key = std::make_pair(SlotIndex{0}, fx.sym("egfr"));
  egfr.label = "eGFR";
  fx.base->questions.push_back(egfr);
  Question meds;
  meds.type = fx.medication;
  meds.label = "current medicines";
  fx.base->questions.push_back(meds);
  // lab(test: egfr, value < 30) -> warn
  fx.rule(
      "renal",
      {Fixture::pattern(fx.lab, {Fixture::is(0, fx.sym("egfr")), Fixture::is(1, Value::number(30), Op::lt)})},
      {Fixture::advise(AdviceKind::warn)});
  // not medication(status: active) -> info
  fx.rule("no_active",
          {Fixture::negation({Fixture::pattern(fx.medication, {Fixture::is(1, fx.sym("active"))})})},
          {Fixture::advise(AdviceKind::info)});
  Engine engine(fx.base);
  engine.run();
  auto needs = engine.needs_data();
  REQUIRE(needs.size() == 2);
  CHECK(needs[0].missing.at(0).label == "eGFR");
  CHECK(needs[1].missing.at(0).label == "current medicines");

  FactId egfr_fact = engine.assert_fact(fx.lab, {fx.sym("egfr"), Value::number(20)});
  engine.answer_none(1);
  engine.run();
  CHECK(rule_names_of_advice(engine) == std::vector<std::string>{"renal", "no_active"});
  CHECK(engine.needs_data().empty());

  engine.retract_fact(egfr_fact);  // the question is open again
  engine.run();
  REQUIRE(engine.needs_data().size() == 1);
  CHECK(engine.needs_data()[0].missing.at(0).label == "eGFR");
}

TEST_CASE("Undetermined conclusions carry their doubt to the rules that read them", "[engine][unknown]") {
  Fixture fx;
  // medication(drug: ?m, status: active), cyp3a4(?m, inhibitor) -> interaction(?m)
  fx.interaction_rule();
  fx.base->rules.back().actions.pop_back();  // conclude only
  // interaction(drug: ?d) -> warn
  fx.rule("warn", {Fixture::pattern(fx.interaction, {}, {{0, 0}})}, {Fixture::advise(AdviceKind::warn)},
          {"d"});
  Engine engine(fx.base);
  engine.assert_fact(fx.medication, {fx.sym("voriconazole"), Value::unknown(UnknownReason::unknown)});
  engine.run();
  CHECK(engine.advice().empty());
  auto needs = engine.needs_data();
  REQUIRE(needs.size() == 1);
  CHECK(engine.rules().rules[engine.firing(needs[0].firing).rule].name == "warn");
  REQUIRE(needs[0].missing.size() == 1);
  CHECK(needs[0].missing[0].label == "medication.status");
}

TEST_CASE("A variable bound to an unknown value makes the match undetermined", "[engine][unknown]") {
  Fixture fx;
  // lab(test: egfr, value: ?v) -> info "eGFR {?v}"
  fx.rule("show", {Fixture::pattern(fx.lab, {Fixture::is(0, fx.sym("egfr"))}, {{1, 0}})},
          {Fixture::advise(AdviceKind::info)}, {"v"});
  Engine engine(fx.base);
  engine.assert_fact(fx.lab, {fx.sym("egfr"), Value::unknown(UnknownReason::declined)});
  engine.run();
  CHECK(engine.advice().empty());
  REQUIRE(engine.needs_data().size() == 1);
  CHECK(engine.needs_data()[0].missing.at(0).label == "lab.value");
  CHECK(engine.needs_data()[0].missing.at(0).reason == UnknownReason::declined);
}

TEST_CASE("A pattern that only binds still doubts a placeholder's existence", "[engine][unknown]") {
  Fixture fx;
  Question meds;
  meds.type = fx.medication;
  meds.label = "current medicines";
  fx.base->questions.push_back(meds);
  // medication(drug: ?m) -> info: fires for every medicine, and for none while nobody asked
  fx.rule("each", {Fixture::pattern(fx.medication, {}, {{0, 0}})}, {Fixture::advise(AdviceKind::info)}, {"m"});
  Engine engine(fx.base);
  engine.run();
  CHECK(engine.advice().empty());
  REQUIRE(engine.needs_data().size() == 1);
  CHECK(engine.needs_data()[0].missing.at(0).label == "current medicines");
}

TEST_CASE("The agenda fires by level, then salience, then rule order", "[engine][agenda]") {
  Fixture fx;
  fx.rule("low", {Fixture::pattern(fx.patient, {})}, {Fixture::advise(AdviceKind::info)}, {}, 0);
  fx.rule("high", {Fixture::pattern(fx.patient, {})}, {Fixture::advise(AdviceKind::info)}, {}, 10);
  fx.rule("second_low", {Fixture::pattern(fx.patient, {})}, {Fixture::advise(AdviceKind::info)}, {}, 0);
  fx.interaction_rule();  // level 1
  // reads interaction: level 2, fires after every level-1 rule whatever its salience
  fx.rule("reader", {Fixture::pattern(fx.interaction, {})}, {Fixture::advise(AdviceKind::info)}, {}, 100);
  Engine engine(fx.base);
  engine.assert_fact(fx.patient, {Value::number(30), fx.sym("no")});
  engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  engine.run();
  CHECK(rule_names_of_advice(engine) ==
        std::vector<std::string>{"high", "low", "second_low", "ddi", "reader"});
}

TEST_CASE("The firing limit stops a rule set that undoes itself, and names the rule", "[engine][agenda]") {
  Fixture fx;
  // not interaction(drug: ?) -> conclude interaction(voriconazole): never stratifiable
  fx.rule("flip", {Fixture::negation({Fixture::pattern(fx.interaction, {})})},
          {Fixture::conclude(fx.interaction, {Term::of(fx.sym("voriconazole"))})});
  EngineOptions options;
  options.firing_limit = 50;
  Engine engine(fx.base, options);
  auto result = engine.run();
  CHECK_FALSE(result.completed);
  CHECK(result.fired == 50);
  REQUIRE(result.cycle.size() == 1);
  CHECK(engine.rules().rules[result.cycle[0]].name == "flip");
}

TEST_CASE("Activations of one rule fire in the order they appeared, across runs stopped by the limit",
          "[engine][agenda]") {
  Fixture fx;
  fx.rule("later", {Fixture::pattern(fx.medication, {}, {{0, 0}})}, {Fixture::advise(AdviceKind::info)}, {"m"}, -1);
  fx.rule("each", {Fixture::pattern(fx.medication, {}, {{0, 0}})}, {Fixture::advise(AdviceKind::info)}, {"m"});
  EngineOptions options;
  options.firing_limit = 1;
  Engine engine(fx.base, options);
  std::vector<FactId> meds;
  for (const char* drug : {"rifampicin", "voriconazole", "aspirin"})
    meds.push_back(engine.assert_fact(fx.medication, {fx.sym(drug), fx.sym("active")}));
  std::size_t runs = 1;
  while (!engine.run().completed) ++runs;
  CHECK(runs == 6);  // one firing each: the last finds the agenda empty after its firing
  std::vector<std::pair<std::string, FactId>> order;
  for (FiringId id = 0; id < engine.firing_count(); ++id) {
    REQUIRE(engine.firing(id).matched.size() == 1);
    order.emplace_back(engine.rules().rules[engine.firing(id).rule].name, engine.firing(id).matched[0]);
  }
  CHECK(order == std::vector<std::pair<std::string, FactId>>{{"each", meds[0]}, {"each", meds[1]}, {"each", meds[2]},
                                                             {"later", meds[0]}, {"later", meds[1]}, {"later", meds[2]}});
}

TEST_CASE("why not names the first condition that failed and why, fact by fact", "[engine][explain]") {
  Fixture fx;
  RuleId ddi = fx.interaction_rule();
  Engine engine(fx.base);
  engine.assert_fact(fx.medication, {fx.sym("rifampicin"), fx.sym("active")});
  engine.run();
  WhyNot answer = engine.why_not(ddi);
  REQUIRE(answer.productions.size() == 1);
  const auto& report = answer.productions[0];
  CHECK(report.status == WhyNot::Status::failed);
  CHECK(report.element == 1);  // the medication matched; the cyp3a4 table did not
  REQUIRE(report.attempts.size() == 2);
  CHECK(report.attempts[0].failed == "drug should be eq rifampicin, and is voriconazole");
  CHECK(report.attempts[1].failed == "role should be eq inhibitor, and is inducer");

  engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
  engine.run();
  CHECK(engine.why_not(ddi).productions[0].status == WhyNot::Status::fired);
}

TEST_CASE("reset returns to a new engine's state and the next patient gets the same answers", "[engine]") {
  Fixture fx;
  fx.interaction_rule();
  Engine engine(fx.base);
  auto initial = engine.facts();
  for (int round = 0; round < 3; ++round) {
    engine.assert_fact(fx.medication, {fx.sym("voriconazole"), fx.sym("active")});
    engine.run();
    CHECK(engine.fired() == 1);
    CHECK(engine.advice().size() == 1);
    engine.reset();
    CHECK(engine.facts() == initial);
    CHECK(engine.fired() == 0);
    CHECK(engine.firing_count() == 0);
  }
}

TEST_CASE("reset puts back what a patient took from the rule base's own matches", "[engine]") {
  Fixture fx;
  // cyp3a4(drug: ?m, role: inhibitor), not medication(drug: ?m, status: active),
  // cyp3a4(drug: ?m), patient(age: ?a) -> recommend. Its first three conditions hold on the kb
  // alone, before any patient.
  fx.rule("no-inhibitor-taken",
          {Fixture::pattern(fx.cyp3a4, {Fixture::is(1, fx.sym("inhibitor"))}, {{0, 0}}),
           Fixture::negation({Fixture::pattern(fx.medication, {Fixture::is_var(0, 0), Fixture::is(1, fx.sym("active"))})}),
           Fixture::pattern(fx.cyp3a4, {Fixture::is_var(0, 0)}),
           Fixture::pattern(fx.patient, {}, {{0, 1}})},
          {Fixture::advise(AdviceKind::recommend)}, {"m", "a"});
  Engine engine(fx.base);
  const std::vector<Value> patient{Value::number(30), fx.sym("no")};
  const std::vector<Value> voriconazole{fx.sym("voriconazole"), fx.sym("active")};

  // The patient takes the inhibitor, then stops it: the negation flips and flips back.
  engine.assert_fact(fx.patient, patient);
  FactId taken = engine.assert_fact(fx.medication, voriconazole);
  engine.run();
  CHECK(engine.advice().empty());
  engine.retract_fact(taken);
  engine.run();
  CHECK(engine.advice().size() == 1);
  engine.reset();

  // The next patients see the kb's matches as a new engine does.
  engine.assert_fact(fx.patient, patient);
  engine.run();
  CHECK(engine.advice().size() == 1);
  engine.reset();
  engine.assert_fact(fx.medication, voriconazole);
  engine.assert_fact(fx.patient, patient);
  engine.run();
  CHECK(engine.advice().empty());
  engine.reset();
  engine.assert_fact(fx.patient, patient);
  engine.run();
  CHECK(engine.advice().size() == 1);
}

// reset() rebuilds the base when the agenda still holds activations (here: the patient was
// never run); the root token survives that, and its children must be cut back again at the
// next plain reset, or the next patient's tokens would be linked beside freed ones.
TEST_CASE("A plain reset after a rebuild cuts the root's children back again", "[engine]") {
  Fixture fx;
  fx.interaction_rule();
  Engine engine(fx.base);
  const auto initial = engine.facts();
  const std::vector<Value> voriconazole{fx.sym("voriconazole"), fx.sym("active")};
  for (int round = 0; round < 3; ++round) {
    engine.assert_fact(fx.medication, voriconazole);  // never run: reset() rebuilds
    engine.reset();
    REQUIRE(engine.structure_error() == "");
    CHECK(engine.facts() == initial);
    for (int patient = 0; patient < 2; ++patient) {
      engine.assert_fact(fx.medication, voriconazole);
      engine.assert_fact(fx.medication, {fx.sym("drug" + std::to_string(patient)), fx.sym("active")});
      engine.run();
      CHECK(engine.advice().size() == 1);
      engine.reset();
      REQUIRE(engine.structure_error() == "");
      CHECK(engine.facts() == initial);
    }
  }
}

// The kb's own firing changes the base, so reset() rebuilds it here instead of cutting the
// patient's tokens back: this guards that path.
TEST_CASE("A rule on the kb alone fires again for every patient after reset", "[engine]") {
  Fixture fx;
  // cyp3a4(drug: ?m, role: inhibitor) -> conclude risk(drug: ?m): no patient fact needed.
  fx.rule("kb-only", {Fixture::pattern(fx.cyp3a4, {Fixture::is(1, fx.sym("inhibitor"))}, {{0, 0}})},
          {Fixture::conclude(fx.risk, {Term::of_var(0)})}, {"m"});
  Engine engine(fx.base);
  for (int round = 0; round < 3; ++round) {
    engine.run();
    CHECK(engine.fired() == 1);
    CHECK(count_of_type(engine, fx.risk) == 1);
    engine.reset();
    CHECK(count_of_type(engine, fx.risk) == 0);
  }
}

// The patient's tokens come from an arena that reset() takes back whole, and tokens a retraction
// frees are handed out again first. A freed token still listed as free after reset, or a list
// not cut back to its base part, would give the next patient a token twice: wrong counts.
TEST_CASE("Tokens taken back at reset serve the next patient once each, past one chunk", "[engine]") {
  Fixture fx;
  // medication(drug: ?m, status: active), medication(drug: ?n, status: active) -> recommend:
  // n active medications make n * n pairs, enough tokens to fill more than one chunk.
  fx.rule("pairs",
          {Fixture::pattern(fx.medication, {Fixture::is(1, fx.sym("active"))}, {{0, 0}}),
           Fixture::pattern(fx.medication, {Fixture::is(1, fx.sym("active"))}, {{0, 1}})},
          {Fixture::advise(AdviceKind::recommend)}, {"m", "n"});
  Engine engine(fx.base);
  const auto initial = engine.facts();
  constexpr std::size_t n = 40;
  for (int round = 0; round < 3; ++round) {
    std::vector<FactId> meds;
    for (std::size_t i = 0; i < n; ++i)
      meds.push_back(engine.assert_fact(
          fx.medication, {fx.sym("drug" + std::to_string(i)), fx.sym("active")}));
    engine.run();
    CHECK(engine.advice().size() == n * n);
    // Half of them stopped: their tokens go back to be handed out again before reset.
    for (std::size_t i = 0; i < n; i += 2) engine.retract_fact(meds[i]);
    engine.run();
    CHECK(engine.advice().size() == (n / 2) * (n / 2));
    // A quarter started again: they take back some of those tokens, the rest stay free.
    for (std::size_t i = 0; i < n; i += 4)
      engine.assert_fact(fx.medication, {fx.sym("again" + std::to_string(i)), fx.sym("active")});
    engine.run();
    CHECK(engine.advice().size() == (3 * n / 4) * (3 * n / 4));
    engine.reset();
    CHECK(engine.facts() == initial);
    CHECK(engine.advice().empty());
  }
}

TEST_CASE("Asserting into a concluded type or with the wrong arity is refused", "[engine]") {
  Fixture fx;
  Engine engine(fx.base);
  CHECK_THROWS_AS(engine.assert_fact(fx.interaction, {fx.sym("x")}), std::invalid_argument);
  CHECK_THROWS_AS(engine.assert_fact(fx.medication, {fx.sym("x")}), std::invalid_argument);
}

}  // namespace
}  // namespace rapa::inference
