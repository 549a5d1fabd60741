#include "inference/interpret.hpp"

#include <algorithm>

namespace rapa::inference {

Truth eval_slot_test(const SlotTest& test, std::span<const Value> slots, const Env& env) {
  const Value& value = slots[test.slot];
  if (test.choices.empty()) return compare(test.op, value, term_value(test.operand, env));
  Truth best = Truth::no;
  for (const Term& choice : test.choices) {
    best = std::max(best, compare(test.op, value, term_value(choice, env)));
    if (best == Truth::yes) break;
  }
  return best;
}

Truth match_pattern(const Pattern& pattern, std::span<const Value> slots, Truth existence, Env& env) {
  Truth truth = existence;
  for (const SlotTest& test : pattern.tests) {
    truth = truth_and(truth, eval_slot_test(test, slots, env));
    if (truth == Truth::no) return truth;
  }
  for (const auto& [slot, var] : pattern.binds) {
    // A variable that takes an unknown value makes whatever uses it unknown too.
    if (slots[slot].is_unknown()) truth = truth_and(truth, Truth::undetermined);
    env[var] = slots[slot];
  }
  for (const Test& test : pattern.where) {
    truth = truth_and(truth, compare(test.op, term_value(test.lhs, env), term_value(test.rhs, env)));
    if (truth == Truth::no) return truth;
  }
  return truth;
}

namespace {

// Depth-first enumeration shared by best_match and for_each_match. `matched` collects one fact
// per positive pattern; returns false when the visitor asked to stop.
bool enumerate(std::span<const Element> elements, const FactSource& facts, Env& env, Truth so_far,
               std::vector<FactId>& matched, const MatchVisitor& visit) {
  if (elements.empty()) return visit(matched, env, so_far);
  const Element& first = elements.front();
  auto rest = elements.subspan(1);
  if (first.kind == Element::Kind::negation) {
    Env inner = env;
    Truth holds = truth_not(best_match(first.body, facts, inner));
    if (holds == Truth::no) return true;
    return enumerate(rest, facts, env, truth_and(so_far, holds), matched, visit);
  }
  for (FactId fact : facts.candidates(first.pattern)) {
    Env saved = env;
    Truth truth = match_pattern(first.pattern, facts.slots(fact), facts.existence(fact), env);
    if (truth != Truth::no) {
      matched.push_back(fact);
      bool go_on = enumerate(rest, facts, env, truth_and(so_far, truth), matched, visit);
      matched.pop_back();
      if (!go_on) return false;
    }
    env = std::move(saved);
  }
  return true;
}

}  // namespace

Truth best_match(std::span<const Element> elements, const FactSource& facts, Env& env) {
  Truth best = Truth::no;
  std::vector<FactId> matched;
  enumerate(elements, facts, env, Truth::yes, matched, [&](std::span<const FactId>, const Env&, Truth truth) {
    best = std::max(best, truth);
    return best != Truth::yes;  // nothing beats a definite match
  });
  return best;
}

void for_each_match(std::span<const Element> elements, const FactSource& facts, Env& env,
                    const MatchVisitor& visit) {
  std::vector<FactId> matched;
  enumerate(elements, facts, env, Truth::yes, matched, visit);
}

}  // namespace rapa::inference
