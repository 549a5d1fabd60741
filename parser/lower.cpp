// Lowering a rule, in three steps: its conditions are expanded into disjunctive normal form on
// the syntax tree (Expander); each conjunction is then lowered with its own record of which
// variables are bound (Lowerer::element), because which pattern binds a variable depends on the
// branch taken; the actions come last, once every variable has its number.
#include "parser/lower.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parser/literal.hpp"
#include "parser/text.hpp"
#include "support/diagnostics.hpp"
#include "support/units.hpp"

namespace rapa::parser {
namespace {

namespace inf = inference;

/// Productions kept per rule. Each `either`, and each alternative that is itself a range, multiplies
/// them; a rule that needs more is almost certainly a mistake.
/// TODO(checker): diagnose a rule whose expansion exceeds this; until then the first
/// kMaxProductions are kept and the rest are silently lost.
constexpr std::size_t kMaxProductions = 256;

// ---- disjunctive normal form, on the syntax tree ---------------------------------------------

/// One element of a conjunction: a pattern with no disjunction left in it, or the negation of a
/// conjunction.
struct Item {
  std::shared_ptr<const ast::Pattern> pattern;  // null for a negation
  std::vector<Item> negated;
  support::SourceRange range;
};
using Conjunction = std::vector<Item>;
using Disjunction = std::vector<Conjunction>;

ast::CompareOp mirrored(ast::CompareOp op) {
  switch (op) {
    case ast::CompareOp::lt:
      return ast::CompareOp::gt;
    case ast::CompareOp::le:
      return ast::CompareOp::ge;
    case ast::CompareOp::gt:
      return ast::CompareOp::lt;
    case ast::CompareOp::ge:
      return ast::CompareOp::le;
    case ast::CompareOp::eq:
    case ast::CompareOp::ne:
      break;
  }
  return op;
}

class Expander {
 public:
  bool truncated = false;

  /// A sequence holds when all its conditions do: the cross product of their alternatives.
  Disjunction sequence(const std::vector<ast::Condition>& conditions) {
    Disjunction result{Conjunction{}};
    for (const auto& condition : conditions) {
      const Disjunction next = expand(condition);
      Disjunction product;
      for (const auto& left : result) {
        for (const auto& right : next) {
          Conjunction both = left;
          both.insert(both.end(), right.begin(), right.end());
          add(product, std::move(both));
        }
      }
      result = std::move(product);
    }
    return result;
  }

 private:
  template <class T>
  void add(std::vector<T>& list, T item) {
    if (list.size() >= kMaxProductions) {
      truncated = true;
      return;
    }
    list.push_back(std::move(item));
  }

  Disjunction expand(const ast::Condition& condition) {
    if (const auto* pattern = boost::get<ast::Pattern>(&condition)) {
      Disjunction result;
      for (auto& variant : variants(*pattern))
        result.push_back(
            {Item{std::make_shared<const ast::Pattern>(std::move(variant)), {}, pattern->range}});
      return result;
    }
    if (const auto* negation = boost::get<ast::Negation>(&condition)) {
      // not (C1 or C2) = not C1 and not C2
      Conjunction all;
      for (auto& c : sequence(negation->body)) all.push_back(Item{nullptr, std::move(c), negation->range});
      return {std::move(all)};
    }
    if (const auto* existence = boost::get<ast::Existence>(&condition)) {
      // exists C = not not C, and `not C` is the conjunction above
      Item outer{nullptr, {}, existence->range};
      for (auto& c : sequence(existence->body))
        outer.negated.push_back(Item{nullptr, std::move(c), existence->range});
      return {Conjunction{std::move(outer)}};
    }
    Disjunction result;
    for (const auto& branch : boost::get<ast::Alternatives>(condition).branches)
      for (auto& c : sequence(branch.conditions)) add(result, std::move(c));
    return result;
  }

  /// A slot test holds one value or a set of choices, never a set of ranges: a pattern whose
  /// constraint is a disjunction of ranges (`age: 0..1 years | 65..120 years`, `value: != 4..15
  /// ng/mL`) becomes one pattern per alternative.
  std::vector<ast::Pattern> variants(const ast::Pattern& pattern) {
    std::vector<ast::Pattern> result{pattern};
    const auto multiply = [&](auto member, std::size_t index, const auto& alternatives) {
      if (alternatives.empty()) return;
      std::vector<ast::Pattern> next;
      for (const auto& p : result) {
        for (const auto& alternative : alternatives) {
          ast::Pattern copy = p;
          (copy.*member)[index] = alternative;
          add(next, std::move(copy));
        }
      }
      result = std::move(next);
    };
    for (std::size_t i = 0; i < pattern.slots.size(); ++i) {
      std::vector<ast::SlotConstraint> alternatives;
      for (auto& constraint : split(pattern.slots[i].constraint)) {
        alternatives.push_back(pattern.slots[i]);
        alternatives.back().constraint = std::move(constraint);
      }
      multiply(&ast::Pattern::slots, i, alternatives);
    }
    for (std::size_t i = 0; i < pattern.tests.size(); ++i)
      multiply(&ast::Pattern::tests, i, split(pattern.tests[i]));
    return result;
  }

  static ast::Comparison comparison(ast::CompareOp op, ast::Value operand, support::SourceRange range) {
    ast::Comparison c;
    c.range = range;
    c.op = op;
    c.operand = std::move(operand);
    return c;
  }

  /// The alternatives of a slot constraint that is a disjunction involving a range; none
  /// otherwise.
  static std::vector<ast::Constraint> split(const ast::Constraint& constraint) {
    std::vector<ast::Constraint> result;
    if (const auto* cmp = boost::get<ast::Comparison>(&constraint)) {
      const auto* range = boost::get<ast::Range>(&cmp->operand);
      if (!range || cmp->op != ast::CompareOp::ne) return result;
      result.emplace_back(comparison(ast::CompareOp::lt, range_low(*range), cmp->range));
      result.emplace_back(comparison(ast::CompareOp::gt, range->high, cmp->range));
      return result;
    }
    const auto& one = boost::get<ast::OneOf>(constraint);
    if (one.alternatives.size() < 2) return result;
    ast::OneOf singles = one;  // the alternatives that are single values stay one set of choices
    singles.alternatives.clear();
    std::vector<ast::Constraint> ranges;
    for (const auto& value : one.alternatives) {
      if (const auto* range = boost::get<ast::Range>(&value)) {
        ast::OneOf alone = one;
        alone.alternatives = {*range};
        ranges.emplace_back(std::move(alone));
      } else {
        singles.alternatives.push_back(value);
      }
    }
    if (ranges.empty()) return result;
    if (!singles.alternatives.empty()) result.emplace_back(std::move(singles));
    for (auto& r : ranges) result.push_back(std::move(r));
    return result;
  }

  /// `where ?x != 5..15 ng/mL` is `?x < 5 ng/mL or ?x > 15 ng/mL`.
  static std::vector<ast::Test> split(const ast::Test& test) {
    std::vector<ast::Test> result;
    if (test.op != ast::CompareOp::ne) return result;
    const ast::Value* range_side = boost::get<ast::Range>(&test.rhs) ? &test.rhs : &test.lhs;
    const auto* range = boost::get<ast::Range>(range_side);
    if (!range) return result;
    const ast::Value& other = range_side == &test.rhs ? test.lhs : test.rhs;
    for (auto [op, bound] :
         {std::pair{ast::CompareOp::lt, range_low(*range)}, std::pair{ast::CompareOp::gt, range->high}}) {
      ast::Test t = test;
      t.lhs = other;
      t.op = op;
      t.rhs = bound;
      result.push_back(std::move(t));
    }
    return result;
  }
};

// ---- lowering --------------------------------------------------------------------------------

inf::Op lowered_op(ast::CompareOp op, bool numeric) {
  switch (op) {
    case ast::CompareOp::lt:
      return inf::Op::lt;
    case ast::CompareOp::le:
      return inf::Op::le;
    case ast::CompareOp::gt:
      return inf::Op::gt;
    case ast::CompareOp::ge:
      return inf::Op::ge;
    case ast::CompareOp::eq:
      return numeric ? inf::Op::eq : inf::Op::same;
    case ast::CompareOp::ne:
      return numeric ? inf::Op::ne : inf::Op::differ;
  }
  return inf::Op::same;
}

bool is_numeric(const kb::Slot* slot) {
  return slot && (slot->type == kb::Slot::Type::quantity || slot->type == kb::Slot::Type::integer);
}

inf::FactTypeInfo::Kind lowered_kind(kb::FactType::Kind kind) {
  switch (kind) {
    case kb::FactType::Kind::input:
      return inf::FactTypeInfo::Kind::input;
    case kb::FactType::Kind::derived:
      return inf::FactTypeInfo::Kind::derived;
    case kb::FactType::Kind::kb:
      return inf::FactTypeInfo::Kind::kb;
  }
  return inf::FactTypeInfo::Kind::input;
}

/// What is known of a variable from the slot that binds it.
struct Binding {
  const kb::Slot* slot = nullptr;
  const support::Unit* unit = nullptr;  // the slot's unit, or the lab's for a lab value
  bool top_level = false;
};

using Bound = std::set<inf::VarId>;

class Lowerer {
 public:
  Lowerer(const kb::KnowledgeBase& kb, const support::SourceManager& sources, inf::RuleBase& out)
      : kb_(kb), sources_(sources), out_(out) {}

  /// Every name a fact can hold, so that the engine can find a patient's symbols without adding
  /// to the table.
  void vocabulary() {
    for (const auto& type : kb_.fact_types) {
      out_.symbols.intern(type.name);
      for (const auto& slot : type.slots) {
        out_.symbols.intern(slot.name);
        for (const auto& value : slot.values) out_.symbols.intern(value);
      }
    }
    for (const auto& drug : kb_.drugs) out_.symbols.intern(drug.id);
    for (const auto& diagnosis : kb_.diagnoses) out_.symbols.intern(diagnosis.code);
    for (const auto& lab : kb_.labs) out_.symbols.intern(lab.id);
  }

  void types() {
    for (const auto& type : kb_.fact_types) {
      inf::FactTypeInfo info{type.name, lowered_kind(type.kind), {}};
      for (const auto& slot : type.slots) {
        inf::SlotInfo s{slot.name, {}, 1.0};
        if (slot.unit) {
          s.display_unit = slot.unit->spelling;
          s.display_scale = 1.0 / slot.unit->factor;
        }
        info.slots.push_back(std::move(s));
      }
      out_.types.push_back(std::move(info));
    }
  }

  void evidence_sources() {
    for (const auto& s : kb_.sources)
      out_.sources.push_back({s.key, s.citation, s.doi, s.url, s.level.spelling(), s.level_derived});
  }

  /// The kb fact types of kb/schema.yaml: one cyp3a4 or pgp fact per drug with that modulation.
  void modulation_facts() {
    for (const auto& drug : kb_.drugs) {
      for (const auto& [type_name, modulation] :
           {std::pair{"cyp3a4", &drug.cyp3a4}, std::pair{"pgp", &drug.pgp}}) {
        const auto* type = kb_.find_fact_type(type_name);
        const auto id = out_.find_type(type_name);
        if (!*modulation || !type || !id) continue;
        inf::InitialFact fact{*id, {}, (*modulation)->range};
        for (const auto& slot : type->slots) {
          if (slot.name == "drug")
            fact.slots.push_back(symbol(drug.id));
          else if (slot.name == "role")
            fact.slots.push_back(symbol(kb::role_name((*modulation)->role)));
          else if (slot.name == "strength")
            fact.slots.push_back(symbol(kb::strength_name((*modulation)->strength)));
          else
            fact.slots.push_back(inf::Value::unknown(inf::UnknownReason::not_asked));
        }
        out_.facts.push_back(std::move(fact));
      }
    }
  }

  void rule(const ast::Rule& r) {
    rule_ = inf::Rule{};
    var_ids_.clear();
    bindings_.clear();
    failed_ = false;
    rule_.name = r.name.text;
    rule_.range = r.name.range;
    for (const auto* clauses : {&r.head, &r.tail})
      for (const auto& c : *clauses) clause(c);
    Expander expander;
    for (const auto& conjunction : expander.sequence(r.conditions)) {
      Bound bound;
      inf::Production production;
      for (const auto& item : conjunction) production.elements.push_back(element(item, bound, true));
      rule_.productions.push_back(std::move(production));
    }
    for (const auto& a : r.actions) action(a);
    // Never a rule with a condition or an action missing: it would fire where it should not.
    if (failed_ || rule_.productions.empty()) return;
    out_.rules.push_back(std::move(rule_));
  }

  /// For input types whose absence means "not asked": the whole type, or each key value the
  /// rules name.
  void questions() {
    for (const auto& type : kb_.fact_types) {
      const auto id = out_.find_type(type.name);
      if (type.kind != kb::FactType::Kind::input || type.absent != kb::FactType::Absent::unknown || !id)
        continue;
      const kb::Slot* key = type.key.empty() ? nullptr : type.find_slot(type.key);
      if (!key) {
        out_.questions.push_back({*id, std::nullopt, type.question.empty() ? type.name : type.question});
        continue;
      }
      const auto index = static_cast<inf::SlotIndex>(key - type.slots.data());
      std::vector<inf::Value> asked;
      for (const auto& lowered : out_.rules)
        for (const auto& production : lowered.productions)
          collect_keys(production.elements, *id, index, asked);
      for (const auto& value : asked)
        out_.questions.push_back({*id, std::pair{index, value}, label(*key, value)});
    }
  }

 private:
  // ---- values ----------------------------------------------------------------------------

  inf::Value symbol(std::string_view name) { return inf::Value::symbol(out_.symbols.intern(name)); }

  std::string_view drug_id(std::string_view name) const {
    const auto* drug = kb_.find_drug(name);
    return drug ? std::string_view(drug->id) : name;
  }

  /// A name as the slot's vocabulary spells it: a brand or Chinese name becomes the drug's id.
  std::string_view canonical(const kb::Slot* slot, std::string_view name) const {
    if (!slot) return name;
    if (slot->vocabulary == "drugs") return drug_id(name);
    if (slot->vocabulary == "diagnoses")
      if (const auto* diagnosis = kb_.find_diagnosis(name)) return diagnosis->code;
    if (slot->vocabulary == "labs")
      if (const auto* lab = kb_.find_lab(name)) return lab->id;
    return name;
  }

  DecodedText decode(const ast::Text& text) const {
    support::DiagnosticEngine already_reported;  // the checker has said what is wrong with it
    return decode_text(text, already_reported);
  }

  /// A number in base units. A bare number is read in `bare_unit`, the unit of the slot it is
  /// compared with (`where ?age >= 18` means 18 years, a bare 50 in a % slot means 50 %).
  std::optional<inf::Value> number(const ast::Quantity& q, const kb::Slot* slot,
                                   const support::Unit* bare_unit) {
    std::optional<double> base = in_base(q);
    if (!q.unit && bare_unit) base = q.value * bare_unit->factor;
    if (!base || !std::isfinite(*base)) {
      failed_ = true;
      return std::nullopt;
    }
    // Integers stay integers, because fact identity tells 3 from 3.0.
    constexpr double kExact = 9.0e15;  // doubles hold every integer up to here
    if (slot && slot->type == kb::Slot::Type::integer && !q.unit && std::nearbyint(*base) == *base &&
        std::fabs(*base) < kExact)
      return inf::Value::integer(static_cast<std::int64_t>(*base));
    return inf::Value::number(*base);
  }

  /// A constant as the slot holds it; nullopt for a variable or a range.
  std::optional<inf::Value> constant(const ast::Value& value, const kb::Slot* slot,
                                     const support::Unit* bare_unit) {
    if (const auto* name = boost::get<ast::Name>(&value)) return symbol(canonical(slot, name->text));
    if (const auto* q = boost::get<ast::Quantity>(&value)) return number(*q, slot, bare_unit);
    if (const auto* text = boost::get<ast::Text>(&value))
      return inf::Value::text(out_.symbols.intern(decode(*text).plain));
    return std::nullopt;
  }

  /// The unit of a quantity slot in this pattern: its own, or the lab test's for a lab value.
  const support::Unit* slot_unit(const ast::Pattern& pattern, const kb::Slot& slot) const {
    if (slot.unit) return &*slot.unit;
    const auto* lab = unit_lab(pattern, slot, kb_);
    return lab ? &lab->unit : nullptr;
  }

  // ---- variables -------------------------------------------------------------------------

  inf::VarId variable(const std::string& name) {
    if (auto it = var_ids_.find(name); it != var_ids_.end()) return it->second;
    if (rule_.variables.size() > std::numeric_limits<inf::VarId>::max()) {
      failed_ = true;
      return 0;
    }
    const auto id = static_cast<inf::VarId>(rule_.variables.size());
    rule_.variables.push_back(name);
    var_ids_.emplace(name, id);
    return id;
  }

  void note_binding(inf::VarId id, const ast::Pattern& pattern, const kb::Slot& slot, bool top_level) {
    auto& binding = bindings_[id];
    // Placeholders show top-level variables: a binding inside a negation gives way to one outside.
    if (binding.slot && (binding.top_level || !top_level)) return;
    binding = {&slot, slot_unit(pattern, slot), top_level};
  }

  const Binding* binding_of(const ast::Value& value) {
    const auto* var = boost::get<ast::Variable>(&value);
    if (!var) return nullptr;
    auto it = bindings_.find(variable(var->name));
    return it == bindings_.end() ? nullptr : &it->second;
  }

  // ---- conditions ------------------------------------------------------------------------

  inf::Element element(const Item& item, Bound& bound, bool top_level) {
    inf::Element e;
    e.range = item.range;
    if (item.pattern) {
      e.pattern = pattern(*item.pattern, bound, top_level);
      return e;
    }
    e.kind = inf::Element::Kind::negation;
    Bound inner = bound;  // a variable first bound inside a negation is local to it
    for (const auto& sub : item.negated) e.body.push_back(element(sub, inner, false));
    return e;
  }

  inf::Pattern pattern(const ast::Pattern& p, Bound& bound, bool top_level) {
    inf::Pattern out;
    out.range = p.range;
    const auto* type = kb_.find_fact_type(p.type.text);
    const auto type_id = out_.find_type(p.type.text);
    if (!type || !type_id) {
      failed_ = true;
      return out;
    }
    out.type = *type_id;
    // Slot tests see only variables bound before this pattern; one bound here and used again in
    // a later slot is compared in `where`, through a variable holding that slot's value.
    Bound here;
    for (const auto& sc : p.slots) {
      const auto* slot = type->find_slot(sc.slot.text);
      if (!slot) {
        failed_ = true;
        continue;
      }
      const auto index = static_cast<inf::SlotIndex>(slot - type->slots.data());
      const bool numeric = is_numeric(slot);
      const support::Unit* unit = slot_unit(p, *slot);
      const auto use = [&](const ast::Variable& var, inf::Op op) {
        const auto id = variable(var.name);
        if (bound.count(id)) {
          out.tests.push_back({index, op, inf::Term::of_var(id), {}});
        } else if (here.count(id)) {
          const auto value = variable(var.name + "." + slot->name);  // no variable name has a dot
          out.binds.emplace_back(index, value);
          here.insert(value);
          out.where.push_back({op, inf::Term::of_var(value), inf::Term::of_var(id)});
        } else {
          failed_ = true;  // used before it is bound: the checker has reported it
        }
      };
      const auto range_tests = [&](const ast::Range& range) {
        const auto low = number(range_low(range), slot, unit), high = number(range.high, slot, unit);
        if (!low || !high) return;
        out.tests.push_back({index, inf::Op::ge, inf::Term::of(*low), {}});
        out.tests.push_back({index, inf::Op::le, inf::Term::of(*high), {}});
      };

      if (const auto* cmp = boost::get<ast::Comparison>(&sc.constraint)) {
        const auto op = lowered_op(cmp->op, numeric);
        if (const auto* var = boost::get<ast::Variable>(&cmp->operand)) {
          use(*var, op);
        } else if (const auto* range = boost::get<ast::Range>(&cmp->operand)) {
          if (cmp->op == ast::CompareOp::eq)
            range_tests(*range);
          else
            failed_ = true;  // `!=` was split by the Expander; `<` a range has no meaning
        } else if (auto c = constant(cmp->operand, slot, unit)) {
          out.tests.push_back({index, op, inf::Term::of(*c), {}});
        }
        continue;
      }
      const auto& one = boost::get<ast::OneOf>(sc.constraint);
      if (one.alternatives.size() == 1) {
        const auto& value = one.alternatives.front();
        if (const auto* var = boost::get<ast::Variable>(&value)) {
          const auto id = variable(var->name);
          if (bound.count(id) || here.count(id)) {
            use(*var, lowered_op(ast::CompareOp::eq, numeric));
          } else {
            out.binds.emplace_back(index, id);
            here.insert(id);
            note_binding(id, p, *slot, top_level);
          }
        } else if (const auto* range = boost::get<ast::Range>(&value)) {
          range_tests(*range);
        } else if (auto c = constant(value, slot, unit)) {
          out.tests.push_back({index, lowered_op(ast::CompareOp::eq, numeric), inf::Term::of(*c), {}});
        }
        continue;
      }
      inf::SlotTest choices{index, inf::Op::same, {}, {}};
      for (const auto& value : one.alternatives) {
        if (const auto* var = boost::get<ast::Variable>(&value)) {
          // A variable bound in this very pattern cannot be seen by a slot test.
          if (bound.count(variable(var->name)))
            choices.choices.push_back(inf::Term::of_var(variable(var->name)));
          else
            failed_ = true;
        } else if (auto c = constant(value, slot, unit)) {
          choices.choices.push_back(inf::Term::of(*c));
        }
      }
      out.tests.push_back(std::move(choices));
    }
    bound.insert(here.begin(), here.end());
    for (const auto& test : p.tests) where(out, test, bound);
    return out;
  }

  void where(inf::Pattern& out, const ast::Test& test, const Bound& bound) {
    const ast::Value* lhs = &test.lhs;
    const ast::Value* rhs = &test.rhs;
    auto op = test.op;
    // The variable on the left, so that the constant on the right is read as its slot holds it.
    if (!boost::get<ast::Variable>(lhs) && boost::get<ast::Variable>(rhs)) {
      std::swap(lhs, rhs);
      op = mirrored(op);
    }
    const Binding* left = binding_of(*lhs);
    const kb::Slot* slot = left ? left->slot : nullptr;
    const support::Unit* unit = left ? left->unit : nullptr;
    const bool numeric = is_numeric(slot) || boost::get<ast::Quantity>(lhs) ||
                         boost::get<ast::Quantity>(rhs) || boost::get<ast::Range>(rhs) ||
                         is_numeric(binding_of(*rhs) ? binding_of(*rhs)->slot : nullptr);
    const auto term = [&](const ast::Value& value) -> std::optional<inf::Term> {
      if (const auto* var = boost::get<ast::Variable>(&value)) {
        const auto id = variable(var->name);
        if (bound.count(id)) return inf::Term::of_var(id);
      } else if (auto c = constant(value, slot, unit)) {
        return inf::Term::of(*c);
      }
      failed_ = true;
      return std::nullopt;
    };
    const auto l = term(*lhs);
    if (const auto* range = boost::get<ast::Range>(rhs)) {
      const auto low = number(range_low(*range), slot, unit), high = number(range->high, slot, unit);
      // `!=` a range was split by the Expander; `<` a range has no meaning.
      if (op != ast::CompareOp::eq) failed_ = true;
      if (!l || !low || !high || op != ast::CompareOp::eq) return;
      out.where.push_back({inf::Op::ge, *l, inf::Term::of(*low)});
      out.where.push_back({inf::Op::le, *l, inf::Term::of(*high)});
      return;
    }
    const auto r = term(*rhs);
    if (l && r) out.where.push_back({lowered_op(op, numeric), *l, *r});
  }

  void collect_keys(const std::vector<inf::Element>& elements, inf::TypeId type, inf::SlotIndex key,
                    std::vector<inf::Value>& asked) const {
    const auto add = [&](const inf::Term& term) {
      if (term.kind != inf::Term::Kind::constant) return;
      for (const auto& v : asked)
        if (v.same(term.constant)) return;
      asked.push_back(term.constant);
    };
    for (const auto& e : elements) {
      if (e.kind == inf::Element::Kind::negation) {
        collect_keys(e.body, type, key, asked);
        continue;
      }
      if (e.pattern.type != type) continue;
      for (const auto& test : e.pattern.tests) {
        if (test.slot != key || (test.op != inf::Op::same && test.op != inf::Op::eq)) continue;
        if (test.choices.empty()) add(test.operand);
        for (const auto& choice : test.choices) add(choice);
      }
    }
  }

  /// The vocabulary's name for a key value (a lab test's "platelet count"), else the value.
  std::string label(const kb::Slot& key, const inf::Value& value) const {
    if (value.kind() != inf::Value::Kind::symbol && value.kind() != inf::Value::Kind::text) return key.name;
    const std::string name(out_.symbols.name(value.as_symbol()));
    if (key.vocabulary == "labs")
      if (const auto* lab = kb_.find_lab(name)) return lab->name;
    if (key.vocabulary == "diagnoses")
      if (const auto* diagnosis = kb_.find_diagnosis(name)) return diagnosis->name;
    return name;
  }

  // ---- clauses and actions ---------------------------------------------------------------

  void clause(const ast::Clause& c) {
    if (const auto* title = boost::get<ast::Title>(&c)) {
      rule_.title = decode(title->text).plain;
    } else if (const auto* salience = boost::get<ast::Salience>(&c)) {
      rule_.salience = salience->value;
    } else if (const auto* grade = boost::get<ast::Grade>(&c)) {
      const auto& letter = grade->letter.text;
      rule_.grade = letter.size() == 1 && letter[0] >= 'A' && letter[0] <= 'D' ? letter[0] : '\0';
      rule_.grade_consensus = grade->consensus;
      if (grade->because) rule_.grade_because = decode(*grade->because).plain;
    } else if (const auto* cite = boost::get<ast::Cite>(&c)) {
      for (const auto& key : cite->keys) {
        const auto index = out_.find_source(key.text);
        if (!index) continue;  // unknown: reported by the checker
        const inf::Citation citation{static_cast<std::uint32_t>(*index)};
        bool cited = false;
        for (const auto& earlier : rule_.citations) cited |= earlier.source == citation.source;
        if (!cited) rule_.citations.push_back(citation);
      }
    } else if (const auto* rationale = boost::get<ast::Rationale>(&c)) {
      rule_.rationale = decode(rationale->text).plain;
    }
  }

  void action(const ast::Action& a) {
    inf::Action out;
    inf::AdviceAction& advice = out.advice;
    if (const auto* recommend = boost::get<ast::Recommend>(&a)) {
      advice = {inf::AdviceKind::recommend,
                inf::Term::of(symbol(drug_id(recommend->drug.text))),
                {},
                details_of(recommend->details),
                recommend->text ? template_of(*recommend->text) : inf::TextTemplate{},
                recommend->range};
    } else if (const auto* warn = boost::get<ast::Warn>(&a)) {
      advice = {inf::AdviceKind::warn,   std::nullopt, warn->severity.text, {},
                template_of(warn->text), warn->range};
    } else if (const auto* contra = boost::get<ast::Contraindicate>(&a)) {
      advice = {inf::AdviceKind::contraindicate,
                inf::Term::of(symbol(drug_id(contra->drug.text))),
                {},
                {},
                template_of(contra->text),
                contra->range};
    } else if (const auto* monitor = boost::get<ast::Monitor>(&a)) {
      const auto* lab = kb_.find_lab(monitor->what.text);
      advice = {inf::AdviceKind::monitor,
                inf::Term::of(symbol(lab ? lab->id : monitor->what.text)),
                {},
                details_of(monitor->details),
                template_of(monitor->text),
                monitor->range};
    } else if (const auto* ask = boost::get<ast::Ask>(&a)) {
      advice = {inf::AdviceKind::ask,
                inf::Term::of(symbol(ask->datum.text)),
                {},
                {},
                template_of(ask->text),
                ask->range};
    } else if (const auto* info = boost::get<ast::Info>(&a)) {
      advice = {inf::AdviceKind::info, std::nullopt, {}, {}, template_of(info->text), info->range};
    } else {
      out.kind = inf::Action::Kind::assert_fact;
      out.assertion = conclusion(boost::get<ast::Conclude>(a));
    }
    rule_.actions.push_back(std::move(out));
  }

  std::vector<inf::Detail> details_of(const std::vector<ast::Detail>& details) {
    std::vector<inf::Detail> out;
    for (const auto& d : details) {
      const auto* range = boost::get<ast::Range>(&d.amount);
      const ast::Quantity& high = range ? range->high : boost::get<ast::Quantity>(d.amount);
      const auto low = in_base(range ? range_low(*range) : high), top = in_base(high);
      if (!low || !top) {
        failed_ = true;
        continue;
      }
      const auto amount = range ? range->range : high.range;
      out.push_back(
          {d.key.text, *low, *top, written(amount, range ? format_range(*range) : format_quantity(high))});
    }
    return out;
  }

  /// The source text of a node, as the author wrote it; `fallback` when the range is not in
  /// the sources given.
  std::string written(support::SourceRange range, std::string fallback) const {
    if (!range.valid() || range.file > sources_.file_count() || range.end < range.begin) return fallback;
    const auto text = sources_.text(range.file);
    if (range.end > text.size()) return fallback;
    return std::string(text.substr(range.begin, range.end - range.begin));
  }

  inf::TextTemplate template_of(const ast::Text& t) {
    const auto decoded = decode(t);
    inf::TextTemplate out;
    const auto literal = [&](std::size_t from, std::size_t to) {
      if (to > from) out.push_back({decoded.plain.substr(from, to - from), std::nullopt, {}, 1.0});
    };
    std::size_t at = 0;
    for (const auto& placeholder : decoded.placeholders) {
      literal(at, placeholder.offset);
      at = placeholder.offset + placeholder.variable.size() + 3;  // {?name}
      const auto id = var_ids_.find(placeholder.variable);
      if (id == var_ids_.end()) {
        failed_ = true;  // unbound: the checker has reported it
        continue;
      }
      inf::TextPiece piece{{}, id->second, {}, 1.0};
      if (auto b = bindings_.find(id->second);
          b != bindings_.end() && b->second.unit && is_numeric(b->second.slot)) {
        piece.display_unit = b->second.unit->spelling;
        piece.display_scale = 1.0 / b->second.unit->factor;
      }
      out.push_back(std::move(piece));
    }
    literal(at, decoded.plain.size());
    return out;
  }

  inf::AssertAction conclusion(const ast::Conclude& conclude) {
    inf::AssertAction out;
    out.range = conclude.range;
    const auto& fact = conclude.fact;
    const auto* type = kb_.find_fact_type(fact.type.text);
    const auto id = out_.find_type(fact.type.text);
    if (!type || !id) {
      failed_ = true;
      return out;
    }
    out.type = *id;
    for (const auto& slot : type->slots) {
      const ast::SlotConstraint* given = nullptr;
      for (const auto& sc : fact.slots)
        if (sc.slot.text == slot.name) given = &sc;
      const auto* one = given ? boost::get<ast::OneOf>(&given->constraint) : nullptr;
      std::optional<inf::Term> term;
      if (!given) {
        term = inf::Term::of(inf::Value::unknown(inf::UnknownReason::not_asked));
      } else if (one && one->alternatives.size() == 1) {
        const auto& value = one->alternatives.front();
        if (const auto* var = boost::get<ast::Variable>(&value)) {
          if (auto it = var_ids_.find(var->name); it != var_ids_.end()) term = inf::Term::of_var(it->second);
        } else if (auto c = constant(value, &slot, slot_unit(fact, slot))) {
          term = inf::Term::of(*c);
        }
      }
      if (!term) failed_ = true;  // alternatives, a range or an unbound variable: reported by the checker
      out.slots.push_back(term ? *term : inf::Term::of(inf::Value::unknown(inf::UnknownReason::not_asked)));
    }
    return out;
  }

  const kb::KnowledgeBase& kb_;
  const support::SourceManager& sources_;
  inf::RuleBase& out_;
  inf::Rule rule_;
  std::map<std::string, inf::VarId> var_ids_;
  std::map<inf::VarId, Binding> bindings_;
  bool failed_ = false;  // the rule cannot be lowered faithfully; it is left out
};

}  // namespace

std::shared_ptr<const inference::RuleBase> lower(const CheckedRuleBase& checked,
                                                 const support::SourceManager& sources) {
  auto out = std::make_shared<inference::RuleBase>();
  Lowerer lowerer(checked.kb, sources, *out);
  lowerer.vocabulary();
  lowerer.types();
  lowerer.evidence_sources();
  lowerer.modulation_facts();
  for (const auto& file : checked.files)
    for (const auto& rule : file.rules) lowerer.rule(rule);
  lowerer.questions();
  return out;
}

}  // namespace rapa::parser
