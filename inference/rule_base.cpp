#include "inference/rule_base.hpp"

#include <functional>

#include "support/units.hpp"

namespace rapa::inference {

Symbol SymbolTable::intern(std::string_view name) {
  if (auto found = index_.find(name); found != index_.end()) return found->second;
  auto symbol = static_cast<Symbol>(names_.size());
  storage_.push_back(std::make_unique<std::string>(name));
  names_.push_back(*storage_.back());
  index_.emplace(names_.back(), symbol);
  return symbol;
}

std::optional<Symbol> SymbolTable::find(std::string_view name) const {
  if (auto found = index_.find(name); found != index_.end()) return found->second;
  return std::nullopt;
}

std::string_view unknown_reason_name(UnknownReason reason) {
  switch (reason) {
    case UnknownReason::not_asked: return "not asked";
    case UnknownReason::unknown: return "unknown";
    case UnknownReason::declined: return "declined";
  }
  return "unknown";
}

std::string_view op_spelling(Op op) {
  switch (op) {
    case Op::lt: return "<";
    case Op::le: return "<=";
    case Op::gt: return ">";
    case Op::ge: return ">=";
    case Op::eq: return "==";
    case Op::ne: return "!=";
    case Op::same: return "eq";
    case Op::differ: return "neq";
  }
  return "==";
}

namespace {

Truth truth_of(bool b) { return b ? Truth::yes : Truth::no; }

}  // namespace

Truth compare_values(Op op, const Value& lhs, const Value& rhs) {
  if (lhs.is_unknown() || rhs.is_unknown()) return Truth::undetermined;
  switch (op) {
    case Op::same: return truth_of(lhs.same(rhs));
    case Op::differ: return truth_of(!lhs.same(rhs));
    case Op::eq:
    case Op::ne: {
      bool equal = lhs.is_numeric() && rhs.is_numeric()
                       ? support::compare_numbers(lhs.as_double(), rhs.as_double()) == 0
                       : lhs.same(rhs);
      return truth_of(op == Op::eq ? equal : !equal);
    }
    default: break;
  }
  // Ordering is defined on numbers only; the checker rejects ordering symbols, so another
  // kind here can only come from a hand-built rule base, and does not match.
  if (!lhs.is_numeric() || !rhs.is_numeric()) return Truth::no;
  if (lhs.kind() == Value::Kind::integer && rhs.kind() == Value::Kind::integer)
    return truth_of_order(op, order_of(lhs.as_integer(), rhs.as_integer()));
  // Quantities arrive converted to base units, so 150000 /uL and 150 x10^9/L differ by a few
  // ulps; within support::kRelativeTolerance they are equal, or a threshold would cut wrongly.
  return truth_of_order(op, support::compare_numbers(lhs.as_double(), rhs.as_double()));
}

std::string_view advice_kind_name(AdviceKind kind) {
  switch (kind) {
    case AdviceKind::recommend: return "recommend";
    case AdviceKind::warn: return "warn";
    case AdviceKind::contraindicate: return "contraindicate";
    case AdviceKind::monitor: return "monitor";
    case AdviceKind::ask: return "ask";
    case AdviceKind::info: return "info";
  }
  return "info";
}

std::optional<TypeId> RuleBase::find_type(std::string_view name) const {
  for (std::size_t i = 0; i < types.size(); ++i)
    if (types[i].name == name) return static_cast<TypeId>(i);
  return std::nullopt;
}

std::optional<RuleId> RuleBase::find_rule(std::string_view name) const {
  for (std::size_t i = 0; i < rules.size(); ++i)
    if (rules[i].name == name) return static_cast<RuleId>(i);
  return std::nullopt;
}

std::optional<std::size_t> RuleBase::find_source(std::string_view key) const {
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (sources[i].key == key) return i;
  return std::nullopt;
}

}  // namespace rapa::inference
