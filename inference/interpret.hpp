// Direct evaluation of patterns and conjunctions against a set of candidate facts with an
// environment of variable values. The Rete network uses it where recomputation is simpler
// than incremental state (the bodies of negations); explanations (why not, what data is
// missing) use it because they must say *which* test failed, which the network never records.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "inference/rule_base.hpp"

namespace rapa::inference {

using FactId = std::uint32_t;

/// What an interpreter needs from working memory.
class FactSource {
 public:
  virtual ~FactSource() = default;
  /// Facts that may match `pattern` (at least every fact of its type that passes its constant
  /// tests), in a deterministic order.
  virtual std::span<const FactId> candidates(const Pattern& pattern) const = 0;
  virtual std::span<const Value> slots(FactId fact) const = 0;
  virtual Truth existence(FactId fact) const = 0;
};

/// Variable values by VarId; only the ones bound so far are meaningful.
using Env = std::vector<Value>;

/// The value of a term under env (an Env, or a firing's bindings).
inline const Value& term_value(const Term& term, std::span<const Value> env) {
  return term.kind == Term::Kind::constant ? term.constant : env[term.var];
}

/// One slot test against a fact's slots: OR over `choices` when there are any.
Truth eval_slot_test(const SlotTest& test, std::span<const Value> slots, const Env& env);

/// Matches `pattern` against a fact: tests, then binds (written into env), then where.
/// Returns the truth of the match; env holds the new bindings when it is not `no`.
Truth match_pattern(const Pattern& pattern, std::span<const Value> slots, Truth existence, Env& env);

/// The truth of "some match of elements[from..] exists" under env: the best truth over all
/// matches (yes over undetermined over no).
Truth best_match(std::span<const Element> elements, const FactSource& facts, Env& env);

/// Kleene negation.
inline Truth truth_not(Truth t) {
  return t == Truth::yes ? Truth::no : t == Truth::no ? Truth::yes : Truth::undetermined;
}

/// Calls `visit(matched, env, truth)` for every match of elements[from..] whose truth is not
/// `no`; matched holds one fact per positive pattern. Stops early when visit returns false.
using MatchVisitor = std::function<bool(std::span<const FactId> matched, const Env& env, Truth truth)>;
void for_each_match(std::span<const Element> elements, const FactSource& facts, Env& env,
                    const MatchVisitor& visit);

}  // namespace rapa::inference
