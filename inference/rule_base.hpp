// The engine's input: a rule base lowered from the checked rules (parser/lower.hpp) or from any
// other front end (the benchmark's neutral JSON). Names are interned, quantities are numbers in
// base units, alternatives are expanded, variables are numbered. Nothing here knows the syntax.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "support/source_manager.hpp"

namespace rapa::inference {

// ---------------------------------------------------------------------------------------------
// Symbols and values

/// An interned name: symbols (ITP, voriconazole, active) and texts share one table.
using Symbol = std::uint32_t;

class SymbolTable {
 public:
  SymbolTable() = default;
  SymbolTable(const SymbolTable&) = delete;  // the index views the stored strings
  SymbolTable& operator=(const SymbolTable&) = delete;
  SymbolTable(SymbolTable&&) = default;
  SymbolTable& operator=(SymbolTable&&) = default;

  Symbol intern(std::string_view name);
  std::optional<Symbol> find(std::string_view name) const;
  std::string_view name(Symbol symbol) const { return names_[symbol]; }
  std::size_t size() const { return names_.size(); }

 private:
  // Each name is allocated once and never moves, so names_ and index_ can view it.
  std::vector<std::unique_ptr<std::string>> storage_;
  std::vector<std::string_view> names_;
  std::unordered_map<std::string_view, Symbol> index_;
};

/// Why a value is unknown; kept so that the advice can say "not asked" or "declined".
enum class UnknownReason : std::uint8_t { not_asked, unknown, declined };
std::string_view unknown_reason_name(UnknownReason reason);

/// A slot value. Quantities are `number`s in base units (support/units.hpp); integers stay
/// integers because the benchmark's fact identity tells 3 from 3.0.
class Value {
 public:
  enum class Kind : std::uint8_t { symbol, integer, number, text, unknown };

  Value() = default;
  static Value symbol(Symbol s) { return Value(Kind::symbol, s); }
  static Value text(Symbol s) { return Value(Kind::text, s); }
  static Value integer(std::int64_t i) { return Value(Kind::integer, std::bit_cast<std::uint64_t>(i)); }
  /// -0.0 is stored as 0.0: the two are the same number, and identity compares the bits.
  static Value number(double d) { return Value(Kind::number, std::bit_cast<std::uint64_t>(d == 0 ? 0.0 : d)); }
  static Value unknown(UnknownReason r) { return Value(Kind::unknown, static_cast<std::uint64_t>(r)); }

  Kind kind() const { return kind_; }
  bool is_unknown() const { return kind_ == Kind::unknown; }
  bool is_numeric() const { return kind_ == Kind::integer || kind_ == Kind::number; }
  Symbol as_symbol() const { return static_cast<Symbol>(payload_); }  // symbol or text
  std::int64_t as_integer() const { return std::bit_cast<std::int64_t>(payload_); }
  double as_double() const {
    return kind_ == Kind::integer ? static_cast<double>(as_integer()) : std::bit_cast<double>(payload_);
  }
  UnknownReason reason() const { return static_cast<UnknownReason>(payload_); }
  /// A value taken apart into kind() and payload() and put back together: for tables that
  /// store many values packed (the engine's dispatch screens), where a Value's padding would
  /// double their size.
  std::uint64_t payload() const { return payload_; }
  static Value from_parts(Kind kind, std::uint64_t payload) { return Value(kind, payload); }

  // Every kind keeps its value in one 64-bit word, so identity and hashing need no switch on
  // the kind: the engine asks them of every join and every fact it indexes.

  /// Identity: same kind and same value (3 is not 3.0; two unknowns are never the same; a NaN
  /// is the same as a NaN of the same bits, so a fact set holds it once).
  bool same(const Value& other) const {
    return kind_ == other.kind_ && payload_ == other.payload_ && kind_ != Kind::unknown;
  }
  std::size_t hash() const {
    return static_cast<std::size_t>((payload_ * 0x9E3779B97F4A7C15ull) ^ static_cast<std::uint64_t>(kind_));
  }

 private:
  Value(Kind kind, std::uint64_t payload) : payload_(payload), kind_(kind) {}
  std::uint64_t payload_ = static_cast<std::uint64_t>(UnknownReason::not_asked);
  Kind kind_ = Kind::unknown;
};

/// Three-valued truth: a test on an unknown value is undetermined, never false.
enum class Truth : std::uint8_t { no, undetermined, yes };
inline Truth truth_and(Truth a, Truth b) { return a < b ? a : b; }

/// Comparison operators. `eq`/`ne` compare numbers numerically and other values by identity;
/// `same`/`differ` are identity on every kind (the benchmark's eq/neq).
enum class Op : std::uint8_t { lt, le, gt, ge, eq, ne, same, differ };
std::string_view op_spelling(Op op);
/// The truth of an ordering operator (lt, le, gt, ge) given the order of its operands:
/// negative, zero or positive. Any other operator is not an ordering and gives no.
inline Truth truth_of_order(Op op, int order) {
  bool holds = false;
  switch (op) {
    case Op::lt: holds = order < 0; break;
    case Op::le: holds = order <= 0; break;
    case Op::gt: holds = order > 0; break;
    case Op::ge: holds = order >= 0; break;
    default: break;
  }
  return holds ? Truth::yes : Truth::no;
}
/// The order of two integers, as support::compare_numbers gives it for two doubles.
inline int order_of(std::int64_t a, std::int64_t b) { return a < b ? -1 : (b < a ? 1 : 0); }
/// The general comparison (numbers, tolerance, ordering); compare() handles identity inline.
Truth compare_values(Op op, const Value& lhs, const Value& rhs);
inline Truth compare(Op op, const Value& lhs, const Value& rhs) {
  if (op == Op::same && !lhs.is_unknown() && !rhs.is_unknown()) return lhs.same(rhs) ? Truth::yes : Truth::no;
  return compare_values(op, lhs, rhs);
}

// ---------------------------------------------------------------------------------------------
// Fact types

using TypeId = std::uint16_t;
using SlotIndex = std::uint16_t;
using VarId = std::uint16_t;
using RuleId = std::uint32_t;

struct SlotInfo {
  std::string name;
  /// How a number in this slot is shown: "x10^9/L", and the factor that turns a base-unit value
  /// into it (shown = base * display_scale). Empty for
  /// non-quantities and for quantities whose unit depends on another slot (lab values).
  std::string display_unit;
  double display_scale = 1.0;
};

struct FactTypeInfo {
  enum class Kind : std::uint8_t { input, kb, derived, output };
  std::string name;
  Kind kind = Kind::input;
  std::vector<SlotInfo> slots;
};

// ---------------------------------------------------------------------------------------------
// Conditions

struct Term {
  enum class Kind : std::uint8_t { constant, variable };
  Kind kind = Kind::constant;
  VarId var = 0;  // before `constant`, where it fills what would be padding
  Value constant;

  static Term of(Value v) { Term t; t.constant = v; return t; }
  static Term of_var(VarId id) { Term t; t.kind = Kind::variable; t.var = id; return t; }
};

/// `fact.slot op operand`, or, with `choices` non-empty, `fact.slot op c` for at least one
/// choice c (`code: AIHA | EVANS`, with op `same`).
struct SlotTest {
  SlotIndex slot = 0;
  Op op = Op::same;
  Term operand;
  std::vector<Term> choices;
};

/// `lhs op rhs` over bound variables and constants (`where ?age >= 18 years`).
struct Test {
  Op op = Op::eq;
  Term lhs;
  Term rhs;
};

/// One fact pattern. Evaluation order: `tests` (constants, and variables bound before this
/// pattern), then `binds`, then `where` (which may also use this pattern's binds).
/// A variable is bound exactly once in a production: by the first pattern that lists it in
/// `binds`; later mentions are tests.
struct Pattern {
  TypeId type = 0;
  std::vector<SlotTest> tests;
  std::vector<std::pair<SlotIndex, VarId>> binds;
  std::vector<Test> where;
  support::SourceRange range;
};

/// A positive pattern, or a negation of a conjunction (`not`; `exists` is lowered to a
/// negation of a negation). Variables first bound inside a negation are local to it.
struct Element {
  enum class Kind : std::uint8_t { pattern, negation };
  Kind kind = Kind::pattern;
  Pattern pattern;
  std::vector<Element> body;  // negation only
  support::SourceRange range;
};

/// One disjunct of a rule's conditions: a conjunction of elements. `either` expands into one
/// production per combination of branches.
struct Production {
  std::vector<Element> elements;
};

// ---------------------------------------------------------------------------------------------
// Actions

/// A text with {?var} placeholders already split: literal pieces and variables.
struct TextPiece {
  std::string literal;
  std::optional<VarId> var;
  std::string display_unit;  // for a numeric variable: how to show it
  double display_scale = 1.0;
};
using TextTemplate = std::vector<TextPiece>;

/// A dose, trough, interval... as written in the rule: numbers in base units for comparisons,
/// the spelling for display.
struct Detail {
  std::string key;           // start, maintenance, trough, every, after, ...
  double low = 0, high = 0;  // base units; low == high for a single value
  std::string shown;         // "2..4 mg/day" as written
};

enum class AdviceKind : std::uint8_t { recommend, warn, contraindicate, monitor, ask, info };
std::string_view advice_kind_name(AdviceKind kind);

/// What a firing says to the clinician.
struct AdviceAction {
  AdviceKind kind = AdviceKind::info;
  std::optional<Term> subject;  // drug (recommend, contraindicate), what (monitor), datum (ask)
  std::string severity;         // warn: critical, high, moderate, low
  std::vector<Detail> details;
  TextTemplate text;
  support::SourceRange range;
};

/// `conclude`: a derived (or, from the benchmark, output) fact; every slot given.
struct AssertAction {
  TypeId type = 0;
  std::vector<Term> slots;
  support::SourceRange range;
};

struct Action {
  enum class Kind : std::uint8_t { advice, assert_fact };
  Kind kind = Kind::advice;
  AdviceAction advice;
  AssertAction assertion;
};

// ---------------------------------------------------------------------------------------------
// Rules and the rule base

struct Citation {
  std::uint32_t source = 0;  // index into RuleBase::sources
};

struct Rule {
  std::string name;
  std::string title;
  std::int32_t salience = 0;
  char grade = '\0';          // 'A'..'D', or '\0' for none
  bool grade_consensus = false;
  std::string grade_because;
  std::vector<Citation> citations;
  std::string rationale;
  std::vector<Production> productions;  // at least one
  std::vector<Action> actions;
  std::vector<std::string> variables;   // VarId -> name without '?'
  support::SourceRange range;           // of the rule's name
};

struct SourceInfo {
  std::string key;
  std::string citation;
  std::string doi;
  std::string url;
  std::string level;          // "1b", "label", ...
  bool level_derived = false;
};

/// A fact loaded with the rule base (kb tables such as cyp3a4): present in every engine.
struct InitialFact {
  TypeId type = 0;
  std::vector<Value> slots;
  support::SourceRange range;
};

/// A datum the rules depend on whose absence means "not asked", not "no": while no input fact
/// answers it, the engine holds a placeholder fact with every unconstrained slot unknown and its
/// existence undetermined.
/// `key` empty: the whole type (current medicines); otherwise a keyed entry (lab eGFR).
struct Question {
  TypeId type = 0;
  std::optional<std::pair<SlotIndex, Value>> key;
  std::string label;  // "eGFR", "current medicines"
};

class RuleBase {
 public:
  SymbolTable symbols;
  std::vector<FactTypeInfo> types;
  std::vector<Rule> rules;
  std::vector<SourceInfo> sources;
  std::vector<InitialFact> facts;
  std::vector<Question> questions;

  std::optional<TypeId> find_type(std::string_view name) const;
  std::optional<RuleId> find_rule(std::string_view name) const;
  std::optional<std::size_t> find_source(std::string_view key) const;
};

}  // namespace rapa::inference
