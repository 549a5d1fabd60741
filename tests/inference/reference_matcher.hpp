// A deliberately naive matcher: the yardstick the Rete engine is measured against. It rebuilds
// working memory from scratch and evaluates every rule over every combination of facts, level by
// level, with no indexes and no incremental state, so that it is obviously right by reading.
// Results are rendered as canonical strings (no ids), so that they compare with the engine's.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inference/rule_base.hpp"

namespace rapa::testing {

/// A fact the caller asserts: every slot of its type, in order.
struct InputFact {
  inference::TypeId type = 0;
  std::vector<inference::Value> slots;
};

/// Fact identity of the contract: same type, and every slot Value::same or both unknown for the
/// same reason.
bool identical_values(const inference::Value& a, const inference::Value& b);
bool identical_slots(std::span<const inference::Value> a, std::span<const inference::Value> b);

/// The name of a symbol (the engine may intern names of its own, hence a function).
using SymbolNamer = std::function<std::string_view(inference::Symbol)>;

/// `sym`, `3`, `1.5` (a number always shows a point or exponent, so 3.0 differs from 3),
/// `"text"`, `?not_asked`.
std::string render_value(const inference::Value& value, const SymbolNamer& names);
/// `type(slot=value,...)`.
std::string render_fact(const inference::RuleBase& rules, inference::TypeId type,
                        std::span<const inference::Value> slots, const SymbolNamer& names);
std::string_view truth_name(inference::Truth truth);

/// What both sides are compared on; every vector sorted.
struct ReferenceResult {
  std::vector<std::string> facts;       // `fact:truth`, kb, input, placeholder and derived
  std::vector<std::string> firings;     // `rule#production[fact;fact]:truth`, live ones
  std::vector<std::string> advice;      // `rule@action[fact;fact]`, from definite firings
  std::vector<std::string> needs_data;  // undetermined firings of rules that carry advice
  /// Each live firing with its variables (`firing {v0=a,v1=?not_asked}`; not_asked for the ones
  /// its production does not bind at the top): the matched facts determine them, but the engine
  /// reads them out of its tokens, which is worth checking.
  std::vector<std::string> bindings;
  std::uint64_t fired = 0;  // definite firings
};

/// The canonical renderings shared by the reference and the engine adapter.
std::string render_firing(const inference::RuleBase& rules, inference::RuleId rule, std::size_t production,
                          const std::vector<std::string>& matched, inference::Truth truth);
std::string render_bindings(const inference::RuleBase& rules, inference::RuleId rule,
                            std::span<const inference::Value> bindings, const SymbolNamer& names);
std::string render_advice(const inference::RuleBase& rules, inference::RuleId rule, std::size_t action,
                          const std::vector<std::string>& matched);

/// The level of each rule (contract point 6): 1 + the highest level of the derived or output
/// types it reads, where a type's level is the highest level of the rules asserting it.
std::vector<int> rule_levels(const inference::RuleBase& rules);

/// Evaluates the rule base for one patient: kb facts, `inputs` (duplicates ignored), placeholders
/// of the questions not answered by an input nor in `answered_none`, then the rules level by level.
ReferenceResult evaluate(const inference::RuleBase& rules, const std::vector<InputFact>& inputs,
                         const std::set<std::size_t>& answered_none, const SymbolNamer& names);

/// The same, naming symbols through the rule base's table.
ReferenceResult evaluate(const inference::RuleBase& rules, const std::vector<InputFact>& inputs,
                         const std::set<std::size_t>& answered_none = {});

/// Lines present on one side only, at most `limit` of each, for a readable failure message.
std::string diff_lines(const std::vector<std::string>& expected, const std::vector<std::string>& actual,
                       std::size_t limit = 8);

}  // namespace rapa::testing
