#include "tests/inference/random_rule_base.hpp"

#include <algorithm>

namespace rapa::testing {

using inference::Action;
using inference::AdviceKind;
using inference::Element;
using inference::FactTypeInfo;
using inference::Op;
using inference::Pattern;
using inference::Production;
using inference::Rule;
using inference::RuleBase;
using inference::SlotIndex;
using inference::SlotTest;
using inference::Term;
using inference::Test;
using inference::TypeId;
using inference::UnknownReason;
using inference::Value;
using inference::VarId;

namespace {

const std::vector<std::string> symbol_pool = {"a", "b", "c", "d", "e"};
const std::vector<double> number_pool = {0.5, 1.5, 2.0, 3.0, 4.5};
const std::vector<Op> all_ops = {Op::lt, Op::le, Op::gt, Op::ge, Op::eq, Op::ne, Op::same, Op::differ};
const std::vector<Op> identity_ops = {Op::eq, Op::ne, Op::same, Op::differ};
const std::vector<AdviceKind> advice_kinds = {
    AdviceKind::recommend, AdviceKind::warn, AdviceKind::contraindicate,
    AdviceKind::monitor,   AdviceKind::ask,  AdviceKind::info};

/// A variable in scope while a production is built, and what its values look like.
struct Var {
  VarId id = 0;
  Domain domain = Domain::symbol;
};

class Generator {
 public:
  Generator(Random& random, RandomCase& out) : random_(random), out_(out), rules_(*out.rules) {}

  void generate(const GeneratorOptions& options) {
    for (const auto& name : symbol_pool) symbols_.push_back(rules_.symbols.intern(name));
    int input_count = random_.between(3, 4);
    for (int i = 0; i < input_count; ++i)
      out_.input_types.push_back(add_type("in" + std::to_string(i), FactTypeInfo::Kind::input));
    kb_type_ = add_type("kb", FactTypeInfo::Kind::kb);
    int derived_count = random_.between(2, 3);
    // Derived types are ranked: a rule asserting rank k reads only ranks below k (stratified).
    for (int i = 0; i < derived_count; ++i)
      derived_types_.push_back(add_type("d" + std::to_string(i), FactTypeInfo::Kind::derived));

    add_kb_facts();
    add_questions();
    int rule_count = random_.between(2, options.max_rules);
    for (int r = 0; r < rule_count; ++r) add_rule(r);
    int fact_count = random_.between(0, options.max_input_facts);
    for (int i = 0; i < fact_count; ++i) out_.inputs.push_back(random_input_fact(out_, random_));
  }

 private:
  TypeId add_type(const std::string& name, FactTypeInfo::Kind kind) {
    FactTypeInfo info;
    info.name = name;
    info.kind = kind;
    std::vector<Domain> domains;
    int slot_count = random_.between(1, 3);
    for (int s = 0; s < slot_count; ++s) {
      info.slots.push_back({"s" + std::to_string(s), "", 1.0});
      domains.push_back(static_cast<Domain>(random_.below(4)));
    }
    rules_.types.push_back(std::move(info));
    out_.domains.push_back(std::move(domains));
    return static_cast<TypeId>(rules_.types.size() - 1);
  }

  Value random_value(Domain domain) {
    switch (domain) {
      case Domain::symbol:
        return Value::symbol(random_.pick(symbols_));
      case Domain::integer:
        return Value::integer(static_cast<std::int64_t>(random_.below(6)));
      case Domain::number:
        return Value::number(random_.pick(number_pool));
      case Domain::numeric:
        return random_.chance(50) ? Value::integer(static_cast<std::int64_t>(random_.below(6)))
                                  : Value::number(random_.pick(number_pool));
    }
    return Value::integer(0);
  }

  Domain slot_domain(TypeId type, std::size_t slot) const { return out_.domains[type][slot]; }

  Op random_op(Domain domain) {
    return domain == Domain::symbol ? random_.pick(identity_ops) : random_.pick(all_ops);
  }

  void add_kb_facts() {
    int count = random_.between(1, 4);
    for (int attempt = 0; attempt < 20 && static_cast<int>(rules_.facts.size()) < count; ++attempt) {
      inference::InitialFact fact;
      fact.type = kb_type_;
      for (std::size_t s = 0; s < rules_.types[kb_type_].slots.size(); ++s)
        fact.slots.push_back(random_value(slot_domain(kb_type_, s)));
      // The engine's kb facts are distinct by construction of a real kb; keep them so here.
      bool duplicate = std::any_of(rules_.facts.begin(), rules_.facts.end(), [&](const auto& other) {
        return identical_slots(other.slots, fact.slots);
      });
      if (!duplicate) rules_.facts.push_back(std::move(fact));
    }
  }

  void add_questions() {
    if (random_.chance(50)) {
      inference::Question question;
      question.type = random_.pick(out_.input_types);
      question.label = "all " + rules_.types[question.type].name;
      rules_.questions.push_back(std::move(question));
    }
    if (random_.chance(50)) {
      inference::Question question;
      question.type = random_.pick(out_.input_types);
      auto slot = static_cast<SlotIndex>(random_.below(rules_.types[question.type].slots.size()));
      question.key = std::make_pair(slot, random_value(slot_domain(question.type, slot)));
      question.label = "keyed " + rules_.types[question.type].name;
      rules_.questions.push_back(std::move(question));
    }
  }

  /// Prefers a variable of the same domain, so that joins and comparisons can hold.
  const Var* pick_var(const std::vector<Var>& vars, Domain domain) {
    if (vars.empty()) return nullptr;
    std::vector<Var> same;
    for (const Var& var : vars)
      if (var.domain == domain) same.push_back(var);
    if (!same.empty() && random_.chance(80)) {
      VarId id = random_.pick(same).id;
      return &*std::find_if(vars.begin(), vars.end(), [&](const Var& v) { return v.id == id; });
    }
    return &vars[random_.below(vars.size())];
  }

  TypeId readable_type(std::size_t readable_derived) {
    std::uint64_t roll = random_.below(10);
    if (roll < 2) return kb_type_;
    if (roll < 5 && readable_derived > 0) return derived_types_[random_.below(readable_derived)];
    return random_.pick(out_.input_types);
  }

  /// A pattern over `type`: tests use only `visible` (bound before it); its binds join `visible`.
  Pattern make_pattern(TypeId type, std::vector<Var>& visible, VarId& next_var) {
    Pattern pattern;
    pattern.type = type;
    std::vector<Var> own;
    for (std::size_t s = 0; s < rules_.types[type].slots.size(); ++s) {
      auto slot = static_cast<SlotIndex>(s);
      Domain domain = slot_domain(type, s);
      std::uint64_t roll = random_.below(10);
      if (roll < 2) continue;  // unconstrained slot
      if (roll < 4 || (roll >= 7 && visible.empty())) {
        own.push_back({next_var, domain});
        pattern.binds.emplace_back(slot, next_var++);
      } else if (roll < 6) {
        SlotTest test;
        test.slot = slot;
        test.op = random_.chance(40) ? Op::same : random_op(domain);
        test.operand = Term::of(random_value(domain));
        pattern.tests.push_back(test);
      } else if (roll < 7) {
        SlotTest test;
        test.slot = slot;
        int choices = random_.between(2, 3);
        for (int c = 0; c < choices; ++c) test.choices.push_back(Term::of(random_value(domain)));
        pattern.tests.push_back(test);
      } else {
        SlotTest test;
        test.slot = slot;
        test.op = random_.chance(70) ? Op::same : random_op(domain);
        test.operand = Term::of_var(pick_var(visible, domain)->id);
        pattern.tests.push_back(test);
      }
    }
    std::vector<Var> usable = visible;
    usable.insert(usable.end(), own.begin(), own.end());
    if (!usable.empty() && random_.chance(30)) {
      Test test;
      Var lhs = usable[random_.below(usable.size())];
      test.op = random_op(lhs.domain);
      test.lhs = Term::of_var(lhs.id);
      // Another variable when there is one: `?v < ?v` would only ever test the operator.
      std::vector<Var> others;
      for (const Var& v : usable)
        if (v.id != lhs.id) others.push_back(v);
      test.rhs = !others.empty() && random_.chance(40) ? Term::of_var(pick_var(others, lhs.domain)->id)
                                                       : Term::of(random_value(lhs.domain));
      pattern.where.push_back(test);
    }
    visible.insert(visible.end(), own.begin(), own.end());
    return pattern;
  }

  static Element pattern_element(Pattern pattern) {
    Element element;
    element.kind = Element::Kind::pattern;
    element.pattern = std::move(pattern);
    return element;
  }

  /// `not { ... }`: one pattern, a conjunction, or (as `exists`) a nested negation. Variables it
  /// binds stay inside it.
  Element make_negation(std::vector<Var> visible, VarId& next_var, std::size_t readable_derived, int depth) {
    Element negation;
    negation.kind = Element::Kind::negation;
    int size = random_.chance(35) ? 2 : 1;
    for (int i = 0; i < size; ++i) {
      if (depth < 2 && random_.chance(20)) {
        negation.body.push_back(make_negation(visible, next_var, readable_derived, depth + 1));
      } else {
        negation.body.push_back(
            pattern_element(make_pattern(readable_type(readable_derived), visible, next_var)));
      }
    }
    return negation;
  }

  /// Returns the variables bound at the top level, which the rule's actions may use.
  std::vector<Var> make_production(Production& production, VarId& next_var, std::size_t readable_derived) {
    std::vector<Var> visible;
    int positives = random_.between(1, 3);
    int negations = random_.chance(50) ? random_.between(1, 2) : 0;
    // Rarely, no positive pattern at all (`not medicine(azole)`), or no condition at all: such
    // productions hang off the network's root, a path of their own.
    std::uint64_t shape = random_.below(100);
    if (shape < 3) {
      positives = 0;
      negations = 0;
    } else if (shape < 8) {
      positives = 0;
      negations = std::max(negations, 1);
    }
    while (positives + negations > 0) {
      bool negate = negations > 0 &&
                    (positives == 0 || random_.below(static_cast<std::uint64_t>(positives + negations)) <
                                           static_cast<std::uint64_t>(negations));
      if (negate) {
        production.elements.push_back(make_negation(visible, next_var, readable_derived, 0));
        --negations;
      } else {
        production.elements.push_back(
            pattern_element(make_pattern(readable_type(readable_derived), visible, next_var)));
        --positives;
      }
    }
    return visible;
  }

  Term action_term(const std::vector<Var>& common, Domain domain) {
    if (!common.empty() && random_.chance(65)) return Term::of_var(pick_var(common, domain)->id);
    return Term::of(random_value(domain));
  }

  void add_rule(int index) {
    Rule rule;
    rule.name = "r" + std::to_string(index);
    rule.salience = random_.between(-2, 2);
    // Reads derived ranks below `readable`, may assert ranks from `readable` up.
    std::size_t readable = random_.below(derived_types_.size() + 1);

    int production_count = random_.chance(30) ? random_.between(2, 3) : 1;
    std::vector<Var> common;
    VarId variable_count = 0;
    for (int p = 0; p < production_count; ++p) {
      // Each production numbers its variables from 0, so that productions share the ids the
      // actions use; a variable bound at the top of every production is usable in actions.
      VarId next_var = 0;
      Production production;
      std::vector<Var> top = make_production(production, next_var, readable);
      if (p == 0) {
        common = top;
      } else {
        std::erase_if(common, [&](const Var& var) {
          return std::none_of(top.begin(), top.end(), [&](const Var& t) { return t.id == var.id; });
        });
      }
      variable_count = std::max(variable_count, next_var);
      rule.productions.push_back(std::move(production));
    }
    for (VarId v = 0; v < variable_count; ++v) rule.variables.push_back("v" + std::to_string(v));

    int action_count = random_.between(1, 3);
    for (int a = 0; a < action_count; ++a) {
      Action action;
      bool can_assert = readable < derived_types_.size();
      if (can_assert && random_.chance(a == 0 ? 75 : 40)) {
        action.kind = Action::Kind::assert_fact;
        TypeId type = derived_types_[readable + random_.below(derived_types_.size() - readable)];
        action.assertion.type = type;
        for (std::size_t s = 0; s < rules_.types[type].slots.size(); ++s)
          action.assertion.slots.push_back(action_term(common, slot_domain(type, s)));
      } else {
        action.kind = Action::Kind::advice;
        action.advice.kind = random_.pick(advice_kinds);
        if (random_.chance(60)) action.advice.subject = action_term(common, Domain::symbol);
        action.advice.text.push_back({"advice " + std::to_string(a), std::nullopt, "", 1.0});
      }
      rule.actions.push_back(std::move(action));
    }
    rules_.rules.push_back(std::move(rule));
  }

  Random& random_;
  RandomCase& out_;
  RuleBase& rules_;
  std::vector<inference::Symbol> symbols_;
  TypeId kb_type_ = 0;
  std::vector<TypeId> derived_types_;
};

}  // namespace

RandomCase random_case(std::uint64_t seed, const GeneratorOptions& options) {
  Random random(seed);
  RandomCase out;
  out.rules = std::make_shared<RuleBase>();
  Generator(random, out).generate(options);
  return out;
}

InputFact random_input_fact(const RandomCase& c, Random& random) {
  InputFact fact;
  fact.type = random.pick(c.input_types);
  const auto& domains = c.domains[fact.type];
  for (Domain domain : domains) {
    if (random.chance(15)) {
      fact.slots.push_back(Value::unknown(static_cast<UnknownReason>(random.below(3))));
      continue;
    }
    switch (domain) {
      case Domain::symbol: {
        auto symbol = c.rules->symbols.find(random.pick(symbol_pool));
        fact.slots.push_back(Value::symbol(*symbol));
        break;
      }
      case Domain::integer:
        fact.slots.push_back(Value::integer(static_cast<std::int64_t>(random.below(6))));
        break;
      case Domain::number:
        fact.slots.push_back(Value::number(random.pick(number_pool)));
        break;
      case Domain::numeric:
        fact.slots.push_back(random.chance(50) ? Value::integer(static_cast<std::int64_t>(random.below(6)))
                                               : Value::number(random.pick(number_pool)));
        break;
    }
  }
  return fact;
}

// ---------------------------------------------------------------------------------------------
// The listing

namespace {

std::string kind_name(FactTypeInfo::Kind kind) {
  switch (kind) {
    case FactTypeInfo::Kind::input:
      return "input";
    case FactTypeInfo::Kind::kb:
      return "kb";
    case FactTypeInfo::Kind::derived:
      return "derived";
    case FactTypeInfo::Kind::output:
      return "output";
  }
  return "?";
}

class Printer {
 public:
  explicit Printer(const RuleBase& rules) : rules_(rules) {}

  std::string value(const Value& v) const {
    return render_value(v, [&](inference::Symbol s) { return rules_.symbols.name(s); });
  }

  std::string term(const Term& t, const Rule& rule) const {
    if (t.kind == Term::Kind::constant) return value(t.constant);
    return "?" + (t.var < rule.variables.size() ? rule.variables[t.var] : "#" + std::to_string(t.var));
  }

  std::string slot(TypeId type, SlotIndex s) const { return rules_.types[type].slots[s].name; }

  std::string pattern(const Pattern& p, const Rule& rule) const {
    std::string out = rules_.types[p.type].name + "(";
    bool first = true;
    auto separate = [&] {
      if (!first) out += ", ";
      first = false;
    };
    for (const auto& test : p.tests) {
      separate();
      out += slot(p.type, test.slot);
      if (!test.choices.empty()) {
        out += " in {";
        for (std::size_t c = 0; c < test.choices.size(); ++c) {
          if (c) out += "|";
          out += term(test.choices[c], rule);
        }
        out += "}";
      } else {
        out += " " + std::string(op_spelling(test.op)) + " " + term(test.operand, rule);
      }
    }
    for (const auto& [s, var] : p.binds) {
      separate();
      out += slot(p.type, s) + " -> ?" + rule.variables[var];
    }
    out += ")";
    for (const auto& test : p.where)
      out += " where " + term(test.lhs, rule) + " " + std::string(op_spelling(test.op)) + " " +
             term(test.rhs, rule);
    return out;
  }

  void elements(const std::vector<Element>& list, const Rule& rule, const std::string& indent,
                std::string& out) const {
    for (const Element& element : list) {
      if (element.kind == Element::Kind::pattern) {
        out += indent + pattern(element.pattern, rule) + "\n";
      } else {
        out += indent + "not {\n";
        elements(element.body, rule, indent + "  ", out);
        out += indent + "}\n";
      }
    }
  }

  std::string rule_text(const Rule& rule, int level) const {
    std::string out = "rule " + rule.name + " (salience " + std::to_string(rule.salience) + ", level " +
                      std::to_string(level) + ")\n";
    for (std::size_t p = 0; p < rule.productions.size(); ++p) {
      out += "  production " + std::to_string(p) + ":\n";
      elements(rule.productions[p].elements, rule, "    ", out);
    }
    for (std::size_t a = 0; a < rule.actions.size(); ++a) {
      const Action& action = rule.actions[a];
      out += "  action " + std::to_string(a) + ": ";
      if (action.kind == Action::Kind::assert_fact) {
        const auto& assertion = action.assertion;
        out += "assert " + rules_.types[assertion.type].name + "(";
        for (std::size_t s = 0; s < assertion.slots.size(); ++s)
          out += (s ? ", " : "") + slot(assertion.type, static_cast<SlotIndex>(s)) + "=" +
                 term(assertion.slots[s], rule);
        out += ")\n";
      } else {
        out += std::string(advice_kind_name(action.advice.kind));
        if (action.advice.subject) out += " " + term(*action.advice.subject, rule);
        out += "\n";
      }
    }
    return out;
  }

 private:
  const RuleBase& rules_;
};

}  // namespace

std::string dump_rule_base(const RuleBase& rules) {
  Printer printer(rules);
  std::string out;
  for (const auto& type : rules.types) {
    out += "type " + type.name + " (" + kind_name(type.kind) + "):";
    for (const auto& slot : type.slots) out += " " + slot.name;
    out += "\n";
  }
  for (const auto& fact : rules.facts) {
    out += "kb fact " +
           render_fact(rules, fact.type, fact.slots,
                       [&](inference::Symbol s) { return rules.symbols.name(s); }) +
           "\n";
  }
  for (std::size_t q = 0; q < rules.questions.size(); ++q) {
    const auto& question = rules.questions[q];
    out += "question " + std::to_string(q) + ": " + rules.types[question.type].name;
    if (question.key)
      out += " keyed " + printer.slot(question.type, question.key->first) + "=" +
             printer.value(question.key->second);
    out += "\n";
  }
  std::vector<int> levels = rule_levels(rules);
  for (std::size_t r = 0; r < rules.rules.size(); ++r) out += printer.rule_text(rules.rules[r], levels[r]);
  return out;
}

std::string dump_inputs(const RuleBase& rules, const std::vector<InputFact>& inputs) {
  std::string out;
  for (const auto& fact : inputs)
    out += "input " +
           render_fact(rules, fact.type, fact.slots,
                       [&](inference::Symbol s) { return rules.symbols.name(s); }) +
           "\n";
  return out;
}

}  // namespace rapa::testing
