#include "inference/interpret.hpp"

#include <algorithm>
#include <array>

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

/// The values a pattern's binds overwrite, put back after each candidate fact. Held inline for
/// the usual few binds: negations are evaluated on every change of their alpha memories, and a
/// copy of the whole environment per candidate was most of their cost.
class SavedBinds {
 public:
  SavedBinds(const Pattern& pattern, const Env& env) : pattern_(pattern) {
    const std::size_t n = pattern.binds.size();
    if (n > kInline) spill_.resize(n);
    Value* out = n > kInline ? spill_.data() : inline_.data();
    for (std::size_t i = 0; i < n; ++i) out[i] = env[pattern.binds[i].second];
  }
  void restore(Env& env) const {
    const std::size_t n = pattern_.binds.size();
    const Value* in = n > kInline ? spill_.data() : inline_.data();
    // In reverse: a variable bound twice in one pattern gets its oldest value back.
    for (std::size_t i = n; i-- > 0;) env[pattern_.binds[i].second] = in[i];
  }

 private:
  static constexpr std::size_t kInline = 8;
  const Pattern& pattern_;
  std::array<Value, kInline> inline_{};
  std::vector<Value> spill_;
};

// Depth-first enumeration shared by best_match and for_each_match. `matched`, when given,
// collects one fact per positive pattern; returns false when the visitor asked to stop.
template <class Visit>  // bool visit(std::span<const FactId> matched, const Env&, Truth)
bool enumerate(std::span<const Element> elements, const FactSource& facts, Env& env, Truth so_far,
               std::vector<FactId>* matched, const Visit& visit) {
  if (elements.empty())
    return visit(matched ? std::span<const FactId>(*matched) : std::span<const FactId>(), env, so_far);
  const Element& first = elements.front();
  auto rest = elements.subspan(1);
  if (first.kind == Element::Kind::negation) {
    Env inner = env;
    Truth holds = truth_not(best_match(first.body, facts, inner));
    if (holds == Truth::no) return true;
    return enumerate(rest, facts, env, truth_and(so_far, holds), matched, visit);
  }
  const SavedBinds saved(first.pattern, env);
  for (FactId fact : facts.candidates(first.pattern)) {
    Truth truth = match_pattern(first.pattern, facts.slots(fact), facts.existence(fact), env);
    if (truth != Truth::no) {
      if (matched) matched->push_back(fact);
      bool go_on = enumerate(rest, facts, env, truth_and(so_far, truth), matched, visit);
      if (matched) matched->pop_back();
      if (!go_on) return false;  // as the visitor left it
    }
    saved.restore(env);
  }
  return true;
}

}  // namespace

Truth best_match(std::span<const Element> elements, const FactSource& facts, Env& env) {
  Truth best = Truth::no;
  enumerate(elements, facts, env, Truth::yes, nullptr, [&](std::span<const FactId>, const Env&, Truth truth) {
    best = std::max(best, truth);
    return best != Truth::yes;  // nothing beats a definite match
  });
  return best;
}

void for_each_match(std::span<const Element> elements, const FactSource& facts, Env& env,
                    const MatchVisitor& visit) {
  std::vector<FactId> matched;
  enumerate(elements, facts, env, Truth::yes, &matched, visit);
}

}  // namespace rapa::inference
