// The checker passes. Reading order: the entry point check_rules at the bottom, then the
// per-rule passes above it, then the helpers at the top.
#include "parser/check/rule_checker.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "parser/literal.hpp"
#include "parser/text.hpp"
#include "support/suggest.hpp"
#include "support/units.hpp"

namespace rapa::parser {
namespace {

using support::DiagId;
using support::Dimension;
using support::SourceRange;

std::string join(const std::vector<std::string_view>& words, std::string_view separator = ", ") {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += separator;
    out += w;
  }
  return out;
}

std::string article(std::string_view noun) {
  const bool vowel = !noun.empty() && std::string_view("aeiou").find(noun.front()) != std::string_view::npos;
  return std::string(vowel ? "an " : "a ") + std::string(noun);
}

/// A dimension in words with the article, for messages: "a mass concentration".
std::string describe_with_article(const Dimension& d) { return article(support::describe(d)); }

/// What is known about a value a variable or slot holds, for type and dimension checks.
struct ValueType {
  kb::Slot::Type type = kb::Slot::Type::symbol;
  std::optional<Dimension> dimension;  // quantities whose dimension is known here
  std::string unit_example;            // a unit of that dimension, for messages
};

struct VariableInfo {
  SourceRange bound_at;
  std::optional<ValueType> type;
  const kb::Slot* slot = nullptr;  // the slot that bound it, for vocabulary checks
  int negation_depth = 0;  // > 0: bound inside not/exists, local to it
  bool used = false;
};

/// Details each action accepts, and the kind of amount each takes.
struct DetailSpec {
  std::string_view key;
  std::vector<std::string_view> example_units;  // the first is shown in messages
  bool dose = false;  // a drug amount: its unit must begin with a mass (mg, not /day or %)
};

/// Whether a unit's first factor is a mass: mg/kg/day is a dose, /day or % is not, though
/// mg/kg reduces to a plain ratio and so shares their dimension.
bool starts_with_mass(std::string_view spelling) {
  const auto end = spelling.find_first_of("/*.");
  if (end == 0) return false;
  const auto head = support::parse_unit(spelling.substr(0, end));
  Dimension mass;
  mass.exponents[support::kMass] = 1;
  return head.unit && head.unit->dimension == mass;
}

const std::vector<DetailSpec>& recommend_details() {
  static const std::vector<DetailSpec> specs = {
      {"start", {"mg/day", "mg/m2/day", "mg/kg/day", "mg"}, true},
      {"maintain", {"mg/day", "mg/m2/day", "mg/kg/day", "mg"}, true},
      {"loading", {"mg", "mg/m2", "mg/kg", "mg/day"}, true},
      {"trough", {"ng/mL"}},
      {"reassess", {"months"}},
  };
  return specs;
}

const std::vector<DetailSpec>& monitor_details() {
  static const std::vector<DetailSpec> specs = {
      {"every", {"months"}}, {"after", {"days"}}, {"within", {"days"}}};
  return specs;
}

class RuleChecker {
 public:
  RuleChecker(const kb::KnowledgeBase& kb, support::DiagnosticEngine& diags) : kb_(kb), diags_(diags) {}

  void check(const ast::Rule& rule) {
    variables_.clear();
    local_variables_.clear();
    negation_depth_ = 0;
    negated_depth_ = 0;
    rule_ = &rule;
    check_clauses(rule);
    for (const auto& condition : rule.conditions) check_condition(condition);
    bool gives_advice = false;
    for (const auto& action : rule.actions) gives_advice |= check_action(action);
    for (const auto* text : clauses_.texts) check_text(*text);
    check_evidence(rule, gives_advice);
    for (const auto& [name, info] : variables_) {
      if (!info.used && info.negation_depth == 0) diags_.report(DiagId::unused_variable, info.bound_at, "?" + name);
    }
  }

  /// Fact types that rules conclude, and positive patterns on derived types, for the
  /// whole-rule-base pass.
  std::set<std::string> concluded;
  struct DerivedUse {
    std::string rule;
    std::string type;
    SourceRange range;
  };
  std::vector<DerivedUse> derived_uses;
  std::set<std::string> cited;

 private:
  // ---- clauses -------------------------------------------------------------------------

  struct Clauses {
    const ast::Grade* grade = nullptr;
    std::vector<const ast::Cite*> cites;
    std::vector<const ast::Text*> texts;  // title, rationale, because: checked once variables are known
  } clauses_;

  void check_clauses(const ast::Rule& rule) {
    clauses_ = {};
    std::map<std::string, SourceRange> seen;
    auto once = [&](std::string_view word, SourceRange range) {
      auto [it, inserted] = seen.emplace(std::string(word), range);
      if (!inserted)
        diags_.report(DiagId::duplicate_clause, range, word).note(it->second, DiagId::note_previous_definition);
    };
    auto visit = [&](const ast::Clause& clause) {
      if (auto* t = boost::get<ast::Title>(&clause)) {
        once("title", t->range);
        clauses_.texts.push_back(&t->text);
      } else if (auto* s = boost::get<ast::Salience>(&clause)) {
        once("salience", s->range);
      } else if (auto* g = boost::get<ast::Grade>(&clause)) {
        once("grade", g->range);
        clauses_.grade = g;
        if (g->because) clauses_.texts.push_back(&*g->because);
      } else if (auto* c = boost::get<ast::Cite>(&clause)) {
        clauses_.cites.push_back(c);  // several cite lines are allowed and add up
      } else if (auto* r = boost::get<ast::Rationale>(&clause)) {
        once("rationale", r->range);
        clauses_.texts.push_back(&r->text);
      }
    };
    for (const auto& c : rule.head) visit(c);
    for (const auto& c : rule.tail) visit(c);
  }

  // ---- conditions ----------------------------------------------------------------------

  void check_condition(const ast::Condition& condition) {
    if (auto* p = boost::get<ast::Pattern>(&condition)) return check_pattern(*p);
    if (auto* n = boost::get<ast::Negation>(&condition)) return check_scoped(n->body, "not");
    if (auto* e = boost::get<ast::Existence>(&condition)) return check_scoped(e->body, "exists");
    if (auto* a = boost::get<ast::Alternatives>(&condition)) return check_alternatives(*a);
  }

  /// not / exists: variables first bound inside stay inside.
  void check_scoped(const std::vector<ast::Condition>& body, std::string_view keyword) {
    const bool negated = keyword == "not";
    ++negation_depth_;
    negated_depth_ += negated;
    for (const auto& c : body) check_condition(c);
    negated_depth_ -= negated;
    --negation_depth_;
    std::erase_if(variables_, [&](const auto& entry) {
      const auto& info = entry.second;
      if (info.negation_depth > negation_depth_) {
        local_variables_.emplace(entry.first, LocalVariable{info.bound_at, std::string(keyword)});
        return true;
      }
      return false;
    });
  }

  /// either/or: a variable is bound afterwards only if every branch binds it.
  void check_alternatives(const ast::Alternatives& alternatives) {
    const auto before = variables_;
    std::optional<std::map<std::string, VariableInfo>> common;
    std::map<std::string, bool> used;
    for (const auto& branch : alternatives.branches) {
      variables_ = before;
      for (const auto& c : branch.conditions) check_condition(c);
      for (const auto& [name, info] : variables_) used[name] = used[name] || info.used;
      if (!common) {
        common = variables_;
      } else {
        std::erase_if(*common, [&](const auto& entry) { return !variables_.count(entry.first); });
      }
    }
    variables_ = common ? *common : before;
    for (auto& [name, info] : variables_) info.used = info.used || used[name];
  }

  void check_pattern(const ast::Pattern& pattern) {
    const kb::FactType* type = resolve_fact_type(pattern.type);
    if (type && type->kind == kb::FactType::Kind::derived && negated_depth_ == 0)
      derived_uses.push_back({rule_->name.text, type->name, pattern.type.range});
    std::map<std::string, SourceRange> seen;
    for (const auto& sc : pattern.slots) {
      auto [it, inserted] = seen.emplace(sc.slot.text, sc.slot.range);
      if (!inserted)
        diags_.report(DiagId::duplicate_slot, sc.slot.range, sc.slot.text).note(it->second, DiagId::note_previous_definition);
      // With an unknown type or slot, still check what can be checked without a schema.
      const kb::Slot* slot = type ? resolve_slot(*type, sc.slot) : nullptr;
      check_constraint(sc, slot ? std::optional(slot_value_type(pattern, *slot)) : std::nullopt, slot);
    }
    for (const auto& test : pattern.tests) check_test(test);
  }

  const kb::FactType* resolve_fact_type(const ast::Name& name) {
    if (const auto* type = kb_.find_fact_type(name.text)) return type;
    auto d = diags_.report(DiagId::unknown_fact_type, name.range, name.text);
    if (auto s = support::closest_match(name.text, kb_.fact_type_names())) d.suggest(*s);
    return nullptr;
  }

  const kb::Slot* resolve_slot(const kb::FactType& type, const ast::Name& name) {
    if (const auto* slot = type.find_slot(name.text)) return slot;
    std::vector<std::string_view> names;
    for (const auto& s : type.slots) names.push_back(s.name);
    auto d = diags_.report(DiagId::unknown_slot, name.range, type.name, name.text);
    if (auto s = support::closest_match(name.text, names)) d.suggest(*s);
    d.note(type.range, DiagId::note_declared_here, type.name);
    return nullptr;
  }

  /// The type of a slot's values in this pattern; for `unit_from` slots the dimension comes
  /// from the lab test named in the same pattern, when it is named by a constant.
  ValueType slot_value_type(const ast::Pattern& pattern, const kb::Slot& slot) {
    ValueType vt{slot.type, std::nullopt, {}};
    if (slot.unit) {
      vt.dimension = slot.unit->dimension;
      vt.unit_example = slot.unit->spelling;
    } else if (const auto* lab = unit_lab(pattern, slot, kb_)) {
      vt.dimension = lab->unit.dimension;
      vt.unit_example = lab->unit.spelling;
    }
    return vt;
  }

  void check_constraint(const ast::SlotConstraint& sc, std::optional<ValueType> vt, const kb::Slot* slot) {
    if (const auto* cmp = boost::get<ast::Comparison>(&sc.constraint)) {
      if (vt && vt->type == kb::Slot::Type::symbol && cmp->op != ast::CompareOp::eq && cmp->op != ast::CompareOp::ne) {
        diags_.report(DiagId::ordering_on_symbol, cmp->range, ast::spelling(cmp->op), sc.slot.text, "symbols");
      }
      check_value(cmp->operand, vt, slot, sc.slot.text, /*binds=*/false);
      return;
    }
    const auto& one = boost::get<ast::OneOf>(sc.constraint);
    const bool single = one.alternatives.size() == 1;
    for (const auto& v : one.alternatives) check_value(v, vt, slot, sc.slot.text, /*binds=*/single);
  }

  /// A value in a slot constraint. `binds`: a lone variable here binds it if it is new.
  void check_value(const ast::Value& value, const std::optional<ValueType>& vt, const kb::Slot* slot,
                   std::string_view slot_name, bool binds) {
    if (const auto* var = boost::get<ast::Variable>(&value)) {
      use_variable(*var, vt, slot, binds);
      return;
    }
    if (const auto* range = boost::get<ast::Range>(&value)) {
      check_range(*range, vt, slot_name);
      return;
    }
    if (const auto* q = boost::get<ast::Quantity>(&value)) {
      check_quantity(*q, vt, slot_name);
      return;
    }
    if (const auto* text = boost::get<ast::Text>(&value)) {
      decode_text(*text, diags_);
      if (vt && vt->type != kb::Slot::Type::text)
        diags_.report(DiagId::type_mismatch, text->range, slot_name, article(kb::slot_type_name(vt->type)),
                      "'\"" + text->raw + "\"'", "a text");
      return;
    }
    const auto& name = boost::get<ast::Name>(value);
    if (!vt) return;
    if (vt->type == kb::Slot::Type::boolean) {
      if (name.text != "true" && name.text != "false")
        diags_.report(DiagId::type_mismatch, name.range, slot_name, "a boolean (true or false)", "'" + name.text + "'",
                      "a name");
      return;
    }
    if (vt->type != kb::Slot::Type::symbol) {
      diags_.report(DiagId::type_mismatch, name.range, slot_name, article(kb::slot_type_name(vt->type)),
                    "'" + name.text + "'", "a name");
      return;
    }
    if (slot) check_symbol(name, *slot);
  }

  void check_symbol(const ast::Name& name, const kb::Slot& slot) {
    if (slot.vocabulary == "drugs") {
      if (kb_.find_drug(name.text)) return;
      auto d = diags_.report(DiagId::unknown_drug, name.range, name.text);
      if (auto s = support::closest_match(name.text, kb_.drug_names())) d.suggest(*s);
    } else if (slot.vocabulary == "diagnoses") {
      if (kb_.find_diagnosis(name.text)) return;
      auto d = diags_.report(DiagId::unknown_symbol, name.range, name.text, "diagnosis");
      if (auto s = support::closest_match(name.text, kb_.diagnosis_codes())) d.suggest(*s);
    } else if (slot.vocabulary == "labs") {
      if (kb_.find_lab(name.text)) return;
      auto d = diags_.report(DiagId::unknown_symbol, name.range, name.text, "lab test");
      if (auto s = support::closest_match(name.text, kb_.lab_ids())) d.suggest(*s);
    } else if (!slot.values.empty()) {
      if (std::find(slot.values.begin(), slot.values.end(), name.text) != slot.values.end()) return;
      std::vector<std::string_view> allowed(slot.values.begin(), slot.values.end());
      auto d = diags_.report(DiagId::symbol_not_allowed, name.range, name.text, slot.name, join(allowed));
      if (auto s = support::closest_match(name.text, allowed)) d.suggest(*s);
    }
  }

  /// Parses the unit of a quantity; reports unknown units with a suggestion.
  std::optional<support::Unit> resolve_unit(const ast::Unit& unit) {
    auto parsed = support::parse_unit(unit.spelling);
    if (parsed.unit) return parsed.unit;
    std::vector<std::string_view> known(support::common_unit_spellings().begin(), support::common_unit_spellings().end());
    auto d = diags_.report(DiagId::unknown_unit, unit.range,
                           parsed.error ? parsed.error->message : "unknown unit '" + unit.spelling + "'");
    if (auto s = support::closest_match(unit.spelling, known)) d.suggest(*s);
    return std::nullopt;
  }

  /// The dimension of a quantity literal, or nullopt when its unit is unknown (already reported).
  std::optional<Dimension> quantity_dimension(const ast::Quantity& q, bool& unit_ok) {
    unit_ok = true;
    if (!q.unit) return Dimension{};
    auto unit = resolve_unit(*q.unit);
    if (!unit) {
      unit_ok = false;
      return std::nullopt;
    }
    return unit->dimension;
  }

  void check_quantity(const ast::Quantity& q, const std::optional<ValueType>& vt, std::string_view slot_name) {
    bool unit_ok = true;
    const auto dim = quantity_dimension(q, unit_ok);
    if (!unit_ok || !vt) return;
    if (vt->type == kb::Slot::Type::integer) {
      if (q.unit) diags_.report(DiagId::unexpected_quantity, q.range, slot_name, "an integer");
      return;
    }
    if (vt->type != kb::Slot::Type::quantity) {
      diags_.report(DiagId::unexpected_quantity, q.range, slot_name, article(kb::slot_type_name(vt->type)));
      return;
    }
    if (!vt->dimension) return;
    if (!q.unit) {
      if (!vt->dimension->dimensionless())
        diags_.report(DiagId::missing_unit, q.range, slot_name, describe_with_article(*vt->dimension), vt->unit_example);
      return;
    }
    if (*dim != *vt->dimension) {
      diags_.report(DiagId::dimension_mismatch, q.range, format_quantity(q), support::describe(*dim),
                    std::string(slot_name), fmt::format("{}, in {}", support::describe(*vt->dimension), vt->unit_example));
    }
  }

  void check_range(const ast::Range& range, const std::optional<ValueType>& vt, std::string_view slot_name) {
    const ast::Quantity low = range_low(range);
    check_quantity(low, vt, slot_name);
    if (range.low.unit || !range.high.unit) check_quantity(range.high, vt, slot_name);
    bool ok_low = true, ok_high = true;
    const auto dim_low = quantity_dimension_quiet(low, ok_low);
    const auto dim_high = quantity_dimension_quiet(range.high, ok_high);
    if (!ok_low || !ok_high || !dim_low || !dim_high) return;
    if (*dim_low != *dim_high) {
      diags_.report(DiagId::dimension_mismatch, range.range, format_quantity(low), support::describe(*dim_low),
                    format_quantity(range.high), support::describe(*dim_high));
      return;
    }
    const auto lo = in_base(low), hi = in_base(range.high);
    if (lo && hi && *lo > *hi) diags_.report(DiagId::inverted_range, range.range, format_quantity(low), format_quantity(range.high));
  }

  static std::optional<Dimension> quantity_dimension_quiet(const ast::Quantity& q, bool& ok) {
    ok = true;
    if (!q.unit) return Dimension{};
    auto parsed = support::parse_unit(q.unit->spelling);
    if (!parsed.unit) {
      ok = false;
      return std::nullopt;
    }
    return parsed.unit->dimension;
  }

  /// A variable where a slot's value is expected: binds it if new (and allowed here), or checks
  /// that the slot holds the same kind of value as where it was bound.
  void use_variable(const ast::Variable& var, const std::optional<ValueType>& vt, const kb::Slot* slot, bool binds) {
    auto it = variables_.find(var.name);
    if (it == variables_.end()) {
      if (binds)
        variables_.emplace(var.name, VariableInfo{var.range, vt, slot, negation_depth_, false});
      else
        report_unbound(var.name, var.range);
      return;
    }
    auto& info = it->second;
    info.used = true;
    if (!vt) return;
    if (!info.type) {
      info.type = vt;
      info.slot = slot;
      return;
    }
    const auto here = holds(*vt, slot), there = holds(*info.type, info.slot);
    if (here != there)
      diags_.report(DiagId::variable_type_mismatch, var.range, "?" + var.name, here, there)
          .note(info.bound_at, DiagId::note_declared_here, "?" + var.name);
  }

  /// What a slot holds, in words precise enough that two different answers cannot join.
  static std::string holds(const ValueType& vt, const kb::Slot* slot) {
    if (vt.type == kb::Slot::Type::quantity)
      return vt.dimension ? describe_with_article(*vt.dimension) : std::string("a quantity");
    if (vt.type == kb::Slot::Type::symbol && slot) {
      if (slot->vocabulary == "drugs") return "a drug";
      if (slot->vocabulary == "diagnoses") return "a diagnosis";
      if (slot->vocabulary == "labs") return "a lab test";
    }
    return article(kb::slot_type_name(vt.type));
  }

  void report_unbound(const std::string& name, SourceRange range) {
    if (auto local = local_variables_.find(name); local != local_variables_.end()) {
      diags_.report(DiagId::negated_only_variable, range, "?" + name, local->second.keyword)
          .note(local->second.bound_at, DiagId::note_declared_here, "?" + name);
      return;
    }
    diags_.report(DiagId::unbound_variable, range, "?" + name);
  }

  /// `?drug != dexamethazone`: a variable holding symbols is compared with a known symbol, by
  /// equality only.
  void check_symbol_test(const ast::Value& side, ast::CompareOp op, const ast::Value& other) {
    const auto* var = boost::get<ast::Variable>(&side);
    if (!var) return;
    auto it = variables_.find(var->name);
    if (it == variables_.end() || !it->second.type || it->second.type->type != kb::Slot::Type::symbol) return;
    const auto& info = it->second;
    if (op != ast::CompareOp::eq && op != ast::CompareOp::ne) {
      diags_.report(DiagId::ordering_on_symbol, var->range, ast::spelling(op), "?" + var->name, "symbols");
      return;
    }
    if (const auto* name = boost::get<ast::Name>(&other)) {
      if (info.slot) check_symbol(*name, *info.slot);
    } else if (boost::get<ast::Quantity>(&other) || boost::get<ast::Range>(&other)) {
      diags_.report(DiagId::variable_type_mismatch, var->range, "?" + var->name, "a quantity",
                    holds(*info.type, info.slot))
          .note(info.bound_at, DiagId::note_declared_here, "?" + var->name);
    }
  }

  void check_test(const ast::Test& test) {
    const auto side = [&](const ast::Value& v) -> std::optional<std::pair<Dimension, std::string>> {
      if (const auto* var = boost::get<ast::Variable>(&v)) {
        auto it = variables_.find(var->name);
        if (it == variables_.end()) {
          report_unbound(var->name, var->range);
          return std::nullopt;
        }
        it->second.used = true;
        if (it->second.type && it->second.type->dimension)
          return std::pair(*it->second.type->dimension, "?" + var->name);
        return std::nullopt;
      }
      if (const auto* q = boost::get<ast::Quantity>(&v)) {
        bool ok = true;
        auto dim = quantity_dimension(*q, ok);
        if (!ok || !dim || !q->unit) return std::nullopt;  // a bare number compares with anything numeric
        return std::pair(*dim, format_quantity(*q));
      }
      if (const auto* range = boost::get<ast::Range>(&v)) check_range(*range, std::nullopt, "");
      if (const auto* text = boost::get<ast::Text>(&v)) decode_text(*text, diags_);
      return std::nullopt;
    };
    check_symbol_test(test.lhs, test.op, test.rhs);
    check_symbol_test(test.rhs, test.op, test.lhs);
    const auto lhs = side(test.lhs);
    const auto rhs = side(test.rhs);
    if (lhs && rhs && lhs->first != rhs->first) {
      diags_.report(DiagId::dimension_mismatch, test.range, lhs->second, support::describe(lhs->first), rhs->second,
                    support::describe(rhs->first));
    }
  }

  // ---- actions ---------------------------------------------------------------------------

  /// Returns whether the action is advice (needs a citation).
  bool check_action(const ast::Action& action) {
    if (const auto* a = boost::get<ast::Recommend>(&action)) {
      check_drug(a->drug);
      check_details(a->details, "recommend", recommend_details());
      if (a->text) check_text(*a->text);
      return true;
    }
    if (const auto* a = boost::get<ast::Warn>(&action)) {
      check_text(a->text);
      return true;
    }
    if (const auto* a = boost::get<ast::Contraindicate>(&action)) {
      check_drug(a->drug);
      check_text(a->text);
      return true;
    }
    if (const auto* a = boost::get<ast::Monitor>(&action)) {
      if (a->what.text != "response" && !kb_.find_lab(a->what.text)) {
        auto d = diags_.report(DiagId::unknown_monitor_target, a->what.range, a->what.text);
        auto labs = kb_.lab_ids();
        labs.push_back("response");
        if (auto s = support::closest_match(a->what.text, labs)) d.suggest(*s);
      }
      check_details(a->details, "monitor", monitor_details());
      check_text(a->text);
      return true;
    }
    if (const auto* a = boost::get<ast::Ask>(&action)) {
      check_datum(a->datum);
      check_text(a->text);
      return true;
    }
    if (const auto* a = boost::get<ast::Info>(&action)) {
      check_text(a->text);
      return true;
    }
    check_conclude(boost::get<ast::Conclude>(action));
    return false;
  }

  void check_drug(const ast::Name& drug) {
    if (kb_.find_drug(drug.text)) return;
    auto d = diags_.report(DiagId::unknown_drug, drug.range, drug.text);
    if (auto s = support::closest_match(drug.text, kb_.drug_names())) d.suggest(*s);
  }

  void check_text(const ast::Text& text) {
    const auto decoded = decode_text(text, diags_);
    for (const auto& p : decoded.placeholders) {
      auto it = variables_.find(p.variable);
      if (it != variables_.end()) {
        it->second.used = true;
        continue;
      }
      report_unbound(p.variable, p.range);
    }
  }

  void check_details(const std::vector<ast::Detail>& details, std::string_view action, const std::vector<DetailSpec>& specs) {
    std::map<std::string, SourceRange> seen;
    for (const auto& detail : details) {
      const auto spec = std::find_if(specs.begin(), specs.end(), [&](const DetailSpec& s) { return s.key == detail.key.text; });
      if (spec == specs.end()) {
        std::vector<std::string_view> keys;
        for (const auto& s : specs) keys.push_back(s.key);
        diags_.report(DiagId::detail_not_allowed, detail.key.range, detail.key.text, action, join(keys));
        continue;
      }
      auto [it, inserted] = seen.emplace(detail.key.text, detail.key.range);
      if (!inserted)
        diags_.report(DiagId::duplicate_detail, detail.key.range, detail.key.text).note(it->second, DiagId::note_previous_definition);
      check_amount(detail, *spec);
    }
  }

  void check_amount(const ast::Detail& detail, const DetailSpec& spec) {
    std::vector<Dimension> allowed;
    for (auto u : spec.example_units) allowed.push_back(support::parse_unit(u).unit->dimension);
    // A range is judged by the unit that applies to it (written on the upper bound, or on both).
    const auto* range = boost::get<ast::Range>(&detail.amount);
    const ast::Quantity& q = range ? range->high : boost::get<ast::Quantity>(detail.amount);
    const SourceRange where = range ? range->range : q.range;
    const std::string shown = range ? format_range(*range) : format_quantity(q);
    if (!q.unit) {
      diags_.report(DiagId::missing_unit, where, shown, "a bare number", spec.example_units.front());
      return;
    }
    auto unit = resolve_unit(*q.unit);
    if (!unit) return;
    if (std::find(allowed.begin(), allowed.end(), unit->dimension) == allowed.end()) {
      diags_.report(DiagId::detail_dimension, where, spec.key, describe_with_article(allowed.front()),
                    spec.example_units.front(), shown, describe_with_article(unit->dimension));
      return;
    }
    if (spec.dose && !starts_with_mass(unit->spelling)) {
      diags_.report(DiagId::dose_not_mass, where, spec.key, shown);
      return;
    }
    if (range) check_range(*range, ValueType{kb::Slot::Type::quantity, unit->dimension, unit->spelling}, spec.key);
  }

  void check_datum(const ast::Name& datum) {
    const auto dot = datum.text.find('.');
    const std::string type_name = datum.text.substr(0, dot);
    ast::Name type_part{{SourceRange{datum.range.file, datum.range.begin,
                                     static_cast<std::uint32_t>(datum.range.begin + type_name.size())}},
                        type_name};
    const auto* type = resolve_fact_type(type_part);
    if (!type || dot == std::string::npos) return;
    const auto slot_begin = static_cast<std::uint32_t>(datum.range.begin + dot + 1);
    ast::Name slot{{SourceRange{datum.range.file, slot_begin, datum.range.end}}, datum.text.substr(dot + 1)};
    resolve_slot(*type, slot);
  }

  void check_conclude(const ast::Conclude& conclude) {
    const auto& fact = conclude.fact;
    const auto* type = kb_.find_fact_type(fact.type.text);
    if (!type) {
      resolve_fact_type(fact.type);
    } else if (type->kind != kb::FactType::Kind::derived) {
      diags_.report(DiagId::conclude_not_derived, fact.type.range, type->name,
                    article(std::string(kb::fact_kind_name(type->kind)) + " fact type"))
          .note(type->range, DiagId::note_declared_here, type->name);
    } else {
      concluded.insert(type->name);
    }
    std::set<std::string> given;
    for (const auto& sc : fact.slots) {
      given.insert(sc.slot.text);
      const kb::Slot* slot = type ? resolve_slot(*type, sc.slot) : nullptr;
      const auto* one = boost::get<ast::OneOf>(&sc.constraint);
      if (!one || one->alternatives.size() != 1) {
        diags_.report(DiagId::conclude_needs_value, sc.range, sc.slot.text);
        continue;
      }
      const auto& value = one->alternatives.front();
      if (const auto* var = boost::get<ast::Variable>(&value)) {
        use_variable(*var, std::nullopt, nullptr, /*binds=*/false);
        continue;
      }
      if (boost::get<ast::Range>(&value)) {
        diags_.report(DiagId::conclude_needs_value, sc.range, sc.slot.text);
        continue;
      }
      check_value(value, slot ? std::optional(slot_value_type(fact, *slot)) : std::nullopt, slot,
                  sc.slot.text, false);
    }
    if (!fact.tests.empty()) diags_.report(DiagId::conclude_needs_value, fact.tests.front().range, "where");
    if (type && type->kind == kb::FactType::Kind::derived) {
      for (const auto& slot : type->slots)
        if (!given.count(slot.name)) diags_.report(DiagId::conclude_unset_slot, fact.range, type->name, slot.name);
    }
  }

  // ---- evidence --------------------------------------------------------------------------

  void check_evidence(const ast::Rule& rule, bool gives_advice) {
    std::vector<const kb::Source*> sources;
    std::map<std::string, SourceRange> seen;
    for (const auto* cite : clauses_.cites) {
      for (const auto& key : cite->keys) {
        auto [it, inserted] = seen.emplace(key.text, key.range);
        if (!inserted) {
          diags_.report(DiagId::duplicate_citation, key.range, key.text).note(it->second, DiagId::note_previous_definition);
          continue;
        }
        if (const auto* source = kb_.find_source(key.text)) {
          sources.push_back(source);
          cited.insert(source->key);
          continue;
        }
        auto d = diags_.report(DiagId::unknown_source, key.range, key.text);
        if (auto s = support::closest_match(key.text, kb_.source_keys())) d.suggest(*s);
      }
    }
    if (gives_advice && seen.empty()) {
      diags_.report(DiagId::missing_citation, rule.name.range, rule.name.text);
      return;
    }
    // A cited key that does not resolve has been reported; judge the grade on what resolved.
    if (sources.size() != seen.size()) return;
    const kb::Source* best = nullptr;
    for (const auto* s : sources) {
      if (s->level.kind != kb::EvidenceLevel::Kind::graded) continue;
      const auto rank = [](const kb::EvidenceLevel& l) { return std::pair(l.tier, l.subtier); };
      if (!best || rank(s->level) < rank(best->level)) best = s;
    }
    const auto* grade = clauses_.grade;
    if (!best) {
      if (grade) {
        std::vector<std::string> kinds;
        for (const auto* s : sources) kinds.push_back(s->level.spelling());
        std::sort(kinds.begin(), kinds.end());
        kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
        std::vector<std::string_view> views(kinds.begin(), kinds.end());
        diags_.report(DiagId::grade_without_evidence, grade->letter.range, grade->letter.text, join(views, " or "));
      }
      return;
    }
    if (!grade) {
      if (gives_advice) diags_.report(DiagId::missing_grade, rule.name.range, rule.name.text);
      return;
    }
    const char given = grade->letter.text.front();
    const char strongest = best->level.strongest_grade();
    if (given < strongest) {
      auto d = diags_.report(DiagId::grade_too_strong, grade->letter.range, grade->letter.text, best->level.spelling(),
                             std::string(1, strongest));
      for (const auto* s : sources) {
        if (s->level.kind == kb::EvidenceLevel::Kind::graded)
          d.note(s->level_range, DiagId::note_source_level, s->key, s->level.spelling());
        else
          d.note(s->level_range, DiagId::note_source_ungraded, s->key, s->level.spelling());
      }
    } else if (given > strongest && !grade->because) {
      diags_.report(DiagId::weaker_grade_without_reason, grade->letter.range, grade->letter.text,
                    fmt::format("up to {} on level {} evidence", strongest, best->level.spelling()));
    }
  }

  const kb::KnowledgeBase& kb_;
  support::DiagnosticEngine& diags_;
  const ast::Rule* rule_ = nullptr;
  std::map<std::string, VariableInfo> variables_;
  struct LocalVariable {
    SourceRange bound_at;
    std::string keyword;  // not or exists
  };
  std::map<std::string, LocalVariable> local_variables_;  // bound inside not/exists of this rule
  int negation_depth_ = 0;  // inside not or exists: variables bound here are local
  int negated_depth_ = 0;   // inside not: a pattern here need not ever match
};

void check_rule_names(const std::vector<ast::RuleFile>& files, support::DiagnosticEngine& diags) {
  std::map<std::string, SourceRange> seen;
  for (const auto& file : files) {
    for (const auto& rule : file.rules) {
      auto [it, inserted] = seen.emplace(rule.name.text, rule.name.range);
      if (!inserted)
        diags.report(DiagId::duplicate_rule, rule.name.range, rule.name.text).note(it->second, DiagId::note_previous_definition);
    }
  }
}

}  // namespace

void check_rules(const std::vector<ast::RuleFile>& files, const kb::KnowledgeBase& kb, support::DiagnosticEngine& diags) {
  check_rule_names(files, diags);
  RuleChecker checker(kb, diags);
  for (const auto& file : files)
    for (const auto& rule : file.rules) checker.check(rule);

  // A positive pattern on a derived fact that no rule concludes can never match.
  for (const auto& use : checker.derived_uses) {
    if (checker.concluded.count(use.type)) continue;
    diags.report(DiagId::rule_never_matches, use.range, use.rule, fmt::format("no rule concludes '{}'", use.type));
  }
  // Sources neither a rule nor a kb entry cites: only worth saying when rules were checked.
  if (files.empty()) return;
  for (const auto& drug : kb.drugs) {
    for (const auto* modulation : {&drug.cyp3a4, &drug.pgp})
      if (*modulation) checker.cited.insert(modulation->value().source);
  }
  for (const auto& source : kb.sources) {
    if (!checker.cited.count(source.key)) diags.report(DiagId::unused_source, source.range, source.key);
  }
}

}  // namespace rapa::parser
