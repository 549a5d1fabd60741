// The canonical printer and the structural comparison of syntax trees.
//
// The layout is chosen so that the grammar reads it back unambiguously: a unit is only taken from
// the line of its number, so two conditions never share a line unless a bracket separates them
// (`either { a } or { b }`); a braced group with more than one condition is written one condition
// a line.
#include "parser/print.hpp"

#include <optional>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

namespace rapa::parser {
namespace {

// ---------------------------------------------------------------------------------------------
// Printing

std::string indent(int width) { return std::string(static_cast<std::size_t>(width), ' '); }

std::string print(const ast::Name& name) { return name.text; }
std::string print(const ast::Variable& variable) { return "?" + variable.name; }
std::string print(const ast::Text& text) { return "\"" + text.raw + "\""; }

std::string print(const ast::Quantity& quantity) {
  // Shortest text that reads back as the same double: 0.1, 1e+20, -3.
  std::string out = fmt::format("{}", quantity.value);
  if (quantity.unit) {
    // `50%` reads better than `50 %`; a unit made of letters needs the space (5 e3 is not 5e3).
    if (quantity.unit->spelling.rfind('%', 0) != 0) out += ' ';
    out += quantity.unit->spelling;
  }
  return out;
}

std::string print(const ast::Range& range) { return print(range.low) + ".." + print(range.high); }

std::string print(const ast::Value& value) {
  return boost::apply_visitor([](const auto& v) { return print(v); }, value);
}

std::string_view print(ast::CompareOp op) { return ast::spelling(op); }

std::string print(const ast::OneOf& one_of) {
  std::string out;
  for (const auto& alternative : one_of.alternatives) {
    if (!out.empty()) out += " | ";
    out += print(alternative);
  }
  return out;
}

std::string print(const ast::Comparison& comparison) {
  return std::string(print(comparison.op)) + " " + print(comparison.operand);
}

std::string print(const ast::Constraint& constraint) {
  return boost::apply_visitor([](const auto& c) { return print(c); }, constraint);
}

std::string print(const ast::SlotConstraint& slot) { return print(slot.slot) + ": " + print(slot.constraint); }

std::string print(const ast::Test& test) {
  return print(test.lhs) + " " + std::string(print(test.op)) + " " + print(test.rhs);
}

std::string print(const ast::Pattern& pattern) {
  std::string out = print(pattern.type) + "(";
  for (std::size_t i = 0; i < pattern.slots.size(); ++i) {
    if (i > 0) out += ", ";
    out += print(pattern.slots[i]);
  }
  out += ")";
  for (std::size_t i = 0; i < pattern.tests.size(); ++i) {
    out += i == 0 ? " where " : ", ";
    out += print(pattern.tests[i]);
  }
  return out;
}

std::optional<std::string> inline_condition(const ast::Condition& condition);

/// `{ c }` when the group is one condition that fits on a line.
std::optional<std::string> inline_group(const std::vector<ast::Condition>& conditions) {
  if (conditions.size() != 1) return std::nullopt;
  auto inner = inline_condition(conditions.front());
  if (!inner) return std::nullopt;
  return "{ " + *inner + " }";
}

/// `not p` for a single pattern, else `not { ... }` if it fits on a line.
std::optional<std::string> inline_body(std::string_view keyword, const std::vector<ast::Condition>& body) {
  if (body.size() == 1) {
    if (const auto* pattern = boost::get<ast::Pattern>(&body.front()))
      return std::string(keyword) + " " + print(*pattern);
  }
  auto group = inline_group(body);
  if (!group) return std::nullopt;
  return std::string(keyword) + " " + *group;
}

/// The condition on one line, or nullopt when it needs several.
std::optional<std::string> inline_condition(const ast::Condition& condition) {
  struct Visitor {
    std::optional<std::string> operator()(const ast::Pattern& p) const { return print(p); }
    std::optional<std::string> operator()(const ast::Negation& n) const { return inline_body("not", n.body); }
    std::optional<std::string> operator()(const ast::Existence& e) const { return inline_body("exists", e.body); }
    std::optional<std::string> operator()(const ast::Alternatives& a) const {
      std::string out = "either";
      for (std::size_t i = 0; i < a.branches.size(); ++i) {
        auto group = inline_group(a.branches[i].conditions);
        if (!group) return std::nullopt;
        out += i == 0 ? " " : " or ";
        out += *group;
      }
      return out;
    }
  };
  return boost::apply_visitor(Visitor{}, condition);
}

void print_condition(std::string& out, const ast::Condition& condition, int width);

void print_group_lines(std::string& out, const std::vector<ast::Condition>& conditions, int width) {
  for (const auto& condition : conditions) print_condition(out, condition, width);
}

/// Appends the condition as whole lines, each indented by `width` (nested groups deeper).
void print_condition(std::string& out, const ast::Condition& condition, int width) {
  const std::string pad = indent(width);
  if (auto line = inline_condition(condition)) {
    out += pad + *line + "\n";
    return;
  }
  if (const auto* negation = boost::get<ast::Negation>(&condition)) {
    out += pad + "not {\n";
    print_group_lines(out, negation->body, width + 2);
    out += pad + "}\n";
  } else if (const auto* existence = boost::get<ast::Existence>(&condition)) {
    out += pad + "exists {\n";
    print_group_lines(out, existence->body, width + 2);
    out += pad + "}\n";
  } else if (const auto* alternatives = boost::get<ast::Alternatives>(&condition)) {
    for (std::size_t i = 0; i < alternatives->branches.size(); ++i) {
      out += pad + (i == 0 ? "either {\n" : "} or {\n");
      print_group_lines(out, alternatives->branches[i].conditions, width + 2);
    }
    out += pad + "}\n";
  }
}

std::string print(const ast::Amount& amount) {
  return boost::apply_visitor([](const auto& a) { return print(a); }, amount);
}

std::string print(const ast::Detail& detail) {
  // `reassess at 3 months`: the grammar's reading form; `at` is optional and not in the tree.
  std::string out = print(detail.key);
  if (detail.key.text == "reassess") out += " at";
  return out + " " + print(detail.amount);
}

std::string print_details(const std::vector<ast::Detail>& details) {
  std::string out;
  for (const auto& detail : details) {
    if (!out.empty()) out += ", ";
    out += print(detail);
  }
  return out;
}

/// The action's lines, the first without indentation, continuation lines indented by `width`+2.
std::string print_action(const ast::Action& action, int width) {
  struct Visitor {
    int width;
    std::string operator()(const ast::Recommend& r) const {
      // With details, the details and then the text each take an indented line of their own.
      std::string out = "recommend " + print(r.drug);
      const std::string continuation = "\n" + indent(width + 2);
      if (!r.details.empty()) out += continuation + print_details(r.details);
      if (r.text) out += (r.details.empty() ? " " : continuation) + print(*r.text);
      return out;
    }
    std::string operator()(const ast::Warn& w) const { return "warn " + print(w.severity) + " " + print(w.text); }
    std::string operator()(const ast::Contraindicate& c) const {
      return "contraindicate " + print(c.drug) + " " + print(c.text);
    }
    std::string operator()(const ast::Monitor& m) const {
      std::string out = "monitor " + print(m.what);
      if (!m.details.empty()) out += " " + print_details(m.details);
      return out + " " + print(m.text);
    }
    std::string operator()(const ast::Ask& a) const { return "ask " + print(a.datum) + " " + print(a.text); }
    std::string operator()(const ast::Info& i) const { return "info " + print(i.text); }
    std::string operator()(const ast::Conclude& c) const { return "conclude " + print(c.fact); }
  };
  return boost::apply_visitor(Visitor{width}, action);
}

std::string print(const ast::Clause& clause) {
  struct Visitor {
    std::string operator()(const ast::Title& t) const { return "title " + print(t.text); }
    std::string operator()(const ast::Salience& s) const { return fmt::format("salience {}", s.value); }
    std::string operator()(const ast::Grade& g) const {
      std::string out = "grade " + print(g.letter);
      if (g.consensus) out += " consensus";
      if (g.because) out += " because " + print(*g.because);
      return out;
    }
    std::string operator()(const ast::Cite& c) const {
      std::string out = "cite";
      for (std::size_t i = 0; i < c.keys.size(); ++i) out += (i == 0 ? " " : ", ") + print(c.keys[i]);
      return out;
    }
    std::string operator()(const ast::Rationale& r) const { return "rationale " + print(r.text); }
  };
  return boost::apply_visitor(Visitor{}, clause);
}

// ---------------------------------------------------------------------------------------------
// Structural equality

// Declared first: the templates below call them for nested nodes.
bool same(const ast::Name& a, const ast::Name& b);
bool same(const ast::Variable& a, const ast::Variable& b);
bool same(const ast::Text& a, const ast::Text& b);
bool same(const ast::Unit& a, const ast::Unit& b);
bool same(const ast::Quantity& a, const ast::Quantity& b);
bool same(const ast::Range& a, const ast::Range& b);
bool same(const ast::OneOf& a, const ast::OneOf& b);
bool same(const ast::Comparison& a, const ast::Comparison& b);
bool same(const ast::SlotConstraint& a, const ast::SlotConstraint& b);
bool same(const ast::Test& a, const ast::Test& b);
bool same(const ast::Pattern& a, const ast::Pattern& b);
bool same(const ast::Negation& a, const ast::Negation& b);
bool same(const ast::Existence& a, const ast::Existence& b);
bool same(const ast::Branch& a, const ast::Branch& b);
bool same(const ast::Alternatives& a, const ast::Alternatives& b);
bool same(const ast::Detail& a, const ast::Detail& b);
bool same(const ast::Recommend& a, const ast::Recommend& b);
bool same(const ast::Warn& a, const ast::Warn& b);
bool same(const ast::Contraindicate& a, const ast::Contraindicate& b);
bool same(const ast::Monitor& a, const ast::Monitor& b);
bool same(const ast::Ask& a, const ast::Ask& b);
bool same(const ast::Info& a, const ast::Info& b);
bool same(const ast::Conclude& a, const ast::Conclude& b);
bool same(const ast::Title& a, const ast::Title& b);
bool same(const ast::Salience& a, const ast::Salience& b);
bool same(const ast::Grade& a, const ast::Grade& b);
bool same(const ast::Cite& a, const ast::Cite& b);
bool same(const ast::Rationale& a, const ast::Rationale& b);
bool same(const ast::Rule& a, const ast::Rule& b);
template <class T>
bool same(const boost::optional<T>& a, const boost::optional<T>& b);
template <class T>
bool same(const std::vector<T>& a, const std::vector<T>& b);
template <class... Ts>
bool same(const boost::variant<Ts...>& a, const boost::variant<Ts...>& b);

bool same(const ast::Name& a, const ast::Name& b) { return a.text == b.text; }
bool same(const ast::Variable& a, const ast::Variable& b) { return a.name == b.name; }
bool same(const ast::Text& a, const ast::Text& b) { return a.raw == b.raw; }
bool same(const ast::Unit& a, const ast::Unit& b) { return a.spelling == b.spelling; }

template <class T>
bool same(const boost::optional<T>& a, const boost::optional<T>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || same(*a, *b);
}

template <class T>
bool same(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}

/// Same alternative of the variant, and the same value in it.
template <class... Ts>
bool same(const boost::variant<Ts...>& a, const boost::variant<Ts...>& b) {
  if (a.which() != b.which()) return false;
  return boost::apply_visitor(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return same(x, boost::get<T>(b));
      },
      a);
}

bool same(const ast::Quantity& a, const ast::Quantity& b) {
  // Exact: the printer writes the shortest text that reads back as the same double.
  return a.value == b.value && same(a.unit, b.unit);
}
bool same(const ast::Range& a, const ast::Range& b) { return same(a.low, b.low) && same(a.high, b.high); }
bool same(const ast::OneOf& a, const ast::OneOf& b) { return same(a.alternatives, b.alternatives); }
bool same(const ast::Comparison& a, const ast::Comparison& b) {
  return a.op == b.op && same(a.operand, b.operand);
}
bool same(const ast::SlotConstraint& a, const ast::SlotConstraint& b) {
  return same(a.slot, b.slot) && same(a.constraint, b.constraint);
}
bool same(const ast::Test& a, const ast::Test& b) {
  return a.op == b.op && same(a.lhs, b.lhs) && same(a.rhs, b.rhs);
}
bool same(const ast::Pattern& a, const ast::Pattern& b) {
  return same(a.type, b.type) && same(a.slots, b.slots) && same(a.tests, b.tests);
}
bool same(const ast::Negation& a, const ast::Negation& b) { return same(a.body, b.body); }
bool same(const ast::Existence& a, const ast::Existence& b) { return same(a.body, b.body); }
bool same(const ast::Branch& a, const ast::Branch& b) { return same(a.conditions, b.conditions); }
bool same(const ast::Alternatives& a, const ast::Alternatives& b) { return same(a.branches, b.branches); }
bool same(const ast::Detail& a, const ast::Detail& b) { return same(a.key, b.key) && same(a.amount, b.amount); }
bool same(const ast::Recommend& a, const ast::Recommend& b) {
  return same(a.drug, b.drug) && same(a.details, b.details) && same(a.text, b.text);
}
bool same(const ast::Warn& a, const ast::Warn& b) { return same(a.severity, b.severity) && same(a.text, b.text); }
bool same(const ast::Contraindicate& a, const ast::Contraindicate& b) {
  return same(a.drug, b.drug) && same(a.text, b.text);
}
bool same(const ast::Monitor& a, const ast::Monitor& b) {
  return same(a.what, b.what) && same(a.details, b.details) && same(a.text, b.text);
}
bool same(const ast::Ask& a, const ast::Ask& b) { return same(a.datum, b.datum) && same(a.text, b.text); }
bool same(const ast::Info& a, const ast::Info& b) { return same(a.text, b.text); }
bool same(const ast::Conclude& a, const ast::Conclude& b) { return same(a.fact, b.fact); }
bool same(const ast::Title& a, const ast::Title& b) { return same(a.text, b.text); }
bool same(const ast::Salience& a, const ast::Salience& b) { return a.value == b.value; }
bool same(const ast::Grade& a, const ast::Grade& b) {
  return same(a.letter, b.letter) && a.consensus == b.consensus && same(a.because, b.because);
}
bool same(const ast::Cite& a, const ast::Cite& b) { return same(a.keys, b.keys); }
bool same(const ast::Rationale& a, const ast::Rationale& b) { return same(a.text, b.text); }
bool same(const ast::Rule& a, const ast::Rule& b) {
  return same(a.name, b.name) && same(a.head, b.head) && same(a.conditions, b.conditions) &&
         same(a.actions, b.actions) && same(a.tail, b.tail);
}

}  // namespace

std::string print_rule(const ast::Rule& rule) {
  std::string out = "rule " + print(rule.name) + "\n";
  for (const auto& clause : rule.head) out += "  " + print(clause) + "\n";
  out += "  when\n";
  for (const auto& condition : rule.conditions) print_condition(out, condition, 4);
  out += "  then\n";
  for (const auto& action : rule.actions) out += "    " + print_action(action, 4) + "\n";
  for (const auto& clause : rule.tail) out += "  " + print(clause) + "\n";
  out += "end\n";
  return out;
}

std::string print_rule_file(const ast::RuleFile& file) {
  std::string out;
  for (std::size_t i = 0; i < file.rules.size(); ++i) {
    if (i > 0) out += "\n";
    out += print_rule(file.rules[i]);
  }
  return out;
}

bool same_tree(const ast::Rule& a, const ast::Rule& b) { return same(a, b); }

bool same_tree(const ast::RuleFile& a, const ast::RuleFile& b) { return same(a.rules, b.rules); }

}  // namespace rapa::parser
