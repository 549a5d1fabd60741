// The inference engine: a Rete network compiled from a RuleBase, a deterministic agenda, truth
// maintenance, three-valued matching over unknown data, and the proof of every firing.
//
// One Engine holds one working memory (one patient). Engines share nothing mutable: build one
// RuleBase, then as many engines as there are threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inference/rule_base.hpp"
#include "support/source_manager.hpp"

namespace rapa::inference {

using FactId = std::uint32_t;
using FiringId = std::uint32_t;

/// Where a fact came from: the proof of an advice ends at these.
struct Origin {
  enum class Kind : std::uint8_t { input, kb, derived, placeholder };
  Kind kind = Kind::input;
  support::SourceRange range;  // input and kb: where the fact was written (may be empty)
  std::uint32_t question = 0;  // placeholder: index into RuleBase::questions
};

/// One rule instance taken from the agenda.
struct Firing {
  FiringId id = 0;
  RuleId rule = 0;
  std::uint16_t production = 0;
  // Views of the engine's own storage, valid as long as the firing is (until reset()).
  std::span<const FactId> matched;  // one fact per top-level positive pattern, in order
  std::span<const Value> bindings;  // by VarId; unknown(not_asked) for variables it did not bind
  /// yes: the rule fired. undetermined: every condition held or hinged on unknown data; its
  /// conclusions stand as undetermined and its advice becomes a "needs data" item.
  Truth truth = Truth::yes;
  bool withdrawn = false;  // its match was lost later (truth maintenance)
};

/// A piece of advice: action `action` of the rule of `firing`, which is an AdviceAction.
struct AdviceItem {
  FiringId firing = 0;
  std::uint16_t action = 0;
};

/// A datum whose absence or unknown value held back some advice.
struct MissingDatum {
  std::string label;  // "patient.pregnant", "eGFR", "current medicines"
  UnknownReason reason = UnknownReason::not_asked;
  FactId fact = 0;    // the fact holding the unknown value, or the placeholder
};

/// A rule blocked only by unknown data: what it would say, and what it needs to know.
struct NeedsData {
  FiringId firing = 0;  // an undetermined firing; its rule's advice actions are at stake
  std::vector<MissingDatum> missing;
};

/// The proof of a firing: the firing itself, then, breadth-first and each once, the firings
/// that concluded the derived facts it matched or that witness its `exists` conditions; at the
/// leaves, input and kb facts.
struct Proof {
  struct Step {
    FiringId firing = 0;
    std::vector<FactId> premises;  // matched facts
    /// For each `exists` condition of the rule, in order, the facts of one match that makes it
    /// hold now (the network keeps no record of them, so why() finds them again).
    std::vector<FactId> witnesses;
  };
  std::vector<Step> steps;
  std::vector<FactId> leaves;             // input, kb and placeholder facts, in id order
  std::vector<std::uint32_t> citations;   // indexes into RuleBase::sources, each once
};

/// Why a rule has no (definite) firing: for each production, how far matching got.
struct WhyNot {
  enum class Status : std::uint8_t { fired, undetermined, failed };
  struct Attempt {
    FactId fact = 0;
    std::string failed;  // the test that failed, in words: "code is ITP, not AIHA"
  };
  struct ProductionReport {
    std::uint16_t production = 0;
    Status status = Status::failed;
    /// Index into the production's elements of the first element no partial match got past.
    std::size_t element = 0;
    std::vector<Attempt> attempts;  // facts of that element's type and why each failed
    std::vector<FactId> blocking;   // for a negation: the facts that made it false
  };
  RuleId rule = 0;
  std::vector<ProductionReport> productions;
};

struct EngineOptions {
  /// Firings per run() before it stops and names the rules that keep firing.
  std::uint64_t firing_limit = 100000;
};

struct RunResult {
  bool completed = true;          // false: the firing limit was reached
  std::uint64_t fired = 0;        // firings (definite and undetermined) in this run
  std::vector<RuleId> cycle;      // when !completed: the rules firing most near the limit
};

class Engine {
 public:
  explicit Engine(std::shared_ptr<const RuleBase> rules, EngineOptions options = {});
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  const RuleBase& rules() const;

  /// Symbols: the rule base's, plus names first seen in this engine's facts.
  Symbol intern(std::string_view name);
  std::string_view symbol_name(Symbol symbol) const;

  /// Adds an input fact (every slot of its type, in order; unknown where not known) and returns
  /// its id, or the id of the identical input fact already present. Matching happens here;
  /// rules fire in run().
  FactId assert_fact(TypeId type, std::vector<Value> slots, Origin origin = {});
  /// The same, reading the slots where they are: a caller that keeps its facts (a cohort
  /// asserted patient after patient) need not copy them into a vector first.
  FactId assert_fact(TypeId type, std::span<const Value> slots, Origin origin = {});
  /// Removes an input fact and, transitively, every conclusion and advice that rested on it.
  /// False when the id is not a live input fact.
  bool retract_fact(FactId fact);
  /// Marks a question answered "none" (the patient takes no medicines): its placeholder goes.
  /// Undone by reset().
  void answer_none(std::size_t question);
  /// Back to the state of a new engine: the rule base's facts only. Keeps the network.
  void reset();
  /// Fires the agenda until it is empty or the firing limit is reached.
  RunResult run();

  // --- Working memory ---
  bool alive(FactId fact) const;
  TypeId type_of(FactId fact) const;
  std::span<const Value> slots_of(FactId fact) const;
  const Origin& origin_of(FactId fact) const;
  /// yes, or undetermined for a conclusion resting only on undetermined firings.
  Truth truth_of(FactId fact) const;
  /// Live facts in id order (assertion order).
  std::vector<FactId> facts() const;
  /// How many live facts of one type there are (kb, input, derived and placeholders alike),
  /// without walking working memory.
  std::size_t fact_count(TypeId type) const;
  /// The live firings that concluded a derived fact.
  std::vector<FiringId> supports(FactId fact) const;

  // --- Results ---
  const Firing& firing(FiringId id) const;
  /// Firings recorded since construction or reset(); ids are 0 .. firing_count() - 1.
  std::size_t firing_count() const;
  /// Definite firings since construction or reset(), withdrawn ones included.
  std::uint64_t fired() const;
  /// Live advice from definite firings, in firing order.
  std::vector<AdviceItem> advice() const;
  /// Live undetermined firings that carry advice, with the data they wait for.
  std::vector<NeedsData> needs_data() const;

  /// A value as a person reads it: symbol names, numbers in the slot's display unit.
  std::string format(const Value& value, const SlotInfo* slot = nullptr) const;

  /// For tests: the first broken invariant of the engine's token lists, or empty.
  std::string structure_error() const;

  // --- Explanations ---
  Proof why(FiringId firing) const;
  WhyNot why_not(RuleId rule) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapa::inference
