// The syntax tree of a rule file, exactly as written: names unresolved, quantities with the unit
// as spelt, texts raw. The checker turns it into a checked model. Plain structs and Boost.Variant
// only, so that code outside parser/ can read it without Spirit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/optional.hpp>
#include <boost/variant.hpp>

#include "support/source_manager.hpp"

namespace rapa::parser::ast {

/// Every node knows the source range it was parsed from.
struct Node {
  support::SourceRange range;
};

/// A name: rule names (dotted: itp.refractory.sirolimus), fact types, slots, symbols, drugs.
struct Name : Node {
  std::string text;
};

/// ?m
struct Variable : Node {
  std::string name;  // without the '?'
};

/// A string literal, raw: the characters between the quotes, escapes and {?var} placeholders
/// not yet interpreted (the checker does that, with exact positions).
struct Text : Node {
  std::string raw;
};

struct Unit : Node {
  std::string spelling;
};

/// 150 x10^9/L, 18 years, 3 (no unit).
struct Quantity : Node {
  double value = 0;
  boost::optional<Unit> unit;
};

/// 2..4 mg/day, inclusive at both ends. A unit on the upper bound only applies to both.
struct Range : Node {
  Quantity low;
  Quantity high;
};

using Value = boost::variant<Variable, Range, Quantity, Text, Name>;

enum class CompareOp { lt, le, gt, ge, eq, ne };

/// The operator as written: "<", "<=", ...
inline std::string_view spelling(CompareOp op) {
  switch (op) {
    case CompareOp::lt: return "<";
    case CompareOp::le: return "<=";
    case CompareOp::gt: return ">";
    case CompareOp::ge: return ">=";
    case CompareOp::eq: return "==";
    case CompareOp::ne: return "!=";
  }
  return "==";
}

/// A slot constraint: `code: ITP`, `code: AIHA | Evans`, `drug: ?m`, `age: >= 18 years`,
/// `value: 5..15 ng/mL` (a Range alternative).
struct OneOf : Node {
  std::vector<Value> alternatives;  // one element: plain equality or binding
};
struct Comparison : Node {
  CompareOp op = CompareOp::eq;
  Value operand;
};
using Constraint = boost::variant<OneOf, Comparison>;

struct SlotConstraint : Node {
  Name slot;
  Constraint constraint;
};

/// `where ?age >= 18 years`
struct Test : Node {
  Value lhs;
  CompareOp op = CompareOp::eq;
  Value rhs;
};

struct Pattern : Node {
  Name type;
  std::vector<SlotConstraint> slots;
  std::vector<Test> tests;
};

struct Negation;
struct Existence;
struct Alternatives;

using Condition = boost::variant<Pattern, boost::recursive_wrapper<Negation>,
                                 boost::recursive_wrapper<Existence>,
                                 boost::recursive_wrapper<Alternatives>>;

/// `not pattern` or `not { conditions }`: holds when no facts match the conditions.
struct Negation : Node {
  std::vector<Condition> body;
};

/// `exists pattern` or `exists { conditions }`: holds once, however many facts match.
struct Existence : Node {
  std::vector<Condition> body;
};

struct Branch : Node {
  std::vector<Condition> conditions;
};

/// `either { ... } or { ... }`: holds when any branch holds.
struct Alternatives : Node {
  std::vector<Branch> branches;
};

using Amount = boost::variant<Range, Quantity>;

/// `start 2..4 mg/day`, `trough 5..15 ng/mL`, `every 3 months`, `after 7..14 days`.
struct Detail : Node {
  Name key;
  Amount amount;
};

struct Recommend : Node {
  Name drug;
  std::vector<Detail> details;
  boost::optional<Text> text;
};

struct Warn : Node {
  Name severity;
  Text text;
};

struct Contraindicate : Node {
  Name drug;
  Text text;
};

struct Monitor : Node {
  Name what;
  std::vector<Detail> details;
  Text text;
};

/// `ask patient.pregnant "..."`: the datum the advice needs.
struct Ask : Node {
  Name datum;
  Text text;
};

struct Info : Node {
  Text text;
};

/// `conclude refractory(disease: ITP)`: asserts a derived fact.
struct Conclude : Node {
  Pattern fact;
};

using Action = boost::variant<Recommend, Warn, Contraindicate, Monitor, Ask, Info, Conclude>;

struct Title : Node {
  Text text;
};
struct Salience : Node {
  std::int32_t value = 0;
};
struct Grade : Node {
  Name letter;              // A, B, C or D
  bool consensus = false;   // `grade B consensus`: stated by the guideline, not derived by us
  boost::optional<Text> because;
};
struct Cite : Node {
  std::vector<Name> keys;
};
struct Rationale : Node {
  Text text;
};
using Clause = boost::variant<Title, Salience, Grade, Cite, Rationale>;

struct Rule : Node {
  Name name;
  std::vector<Clause> head;       // between the name and `when`
  std::vector<Condition> conditions;
  std::vector<Action> actions;
  std::vector<Clause> tail;       // between the actions and `end`
};

struct RuleFile {
  support::FileId file = 0;
  std::vector<Rule> rules;
};

}  // namespace rapa::parser::ast
