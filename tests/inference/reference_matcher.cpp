#include "tests/inference/reference_matcher.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace rapa::testing {

using inference::Element;
using inference::FactTypeInfo;
using inference::Op;
using inference::Pattern;
using inference::RuleBase;
using inference::RuleId;
using inference::Term;
using inference::Truth;
using inference::TypeId;
using inference::UnknownReason;
using inference::Value;

bool identical_values(const Value& a, const Value& b) {
  if (a.is_unknown() && b.is_unknown()) return a.reason() == b.reason();
  return a.same(b);
}

bool identical_slots(std::span<const Value> a, std::span<const Value> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!identical_values(a[i], b[i])) return false;
  return true;
}

namespace {
/// A slot or variable without a name, by its number.
std::string numbered(std::size_t i) { return "#" + std::to_string(i); }
}  // namespace

std::string render_value(const Value& value, const SymbolNamer& names) {
  switch (value.kind()) {
    case Value::Kind::symbol:
      return std::string(names(value.as_symbol()));
    case Value::Kind::text:
      return std::string("\"").append(names(value.as_symbol())).append("\"");
    case Value::Kind::integer:
      return std::to_string(value.as_integer());
    case Value::Kind::number: {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.17g", value.as_double());
      std::string text = buffer;
      // 3.0 must not read as the integer 3: they are different values.
      if (text.find_first_of(".en") == std::string::npos) text += ".0";
      return text;
    }
    case Value::Kind::unknown:
      switch (value.reason()) {
        case UnknownReason::not_asked:
          return "?not_asked";
        case UnknownReason::unknown:
          return "?unknown";
        case UnknownReason::declined:
          return "?declined";
      }
      return "?";
  }
  return "?";
}

std::string render_fact(const RuleBase& rules, TypeId type, std::span<const Value> slots,
                        const SymbolNamer& names) {
  const FactTypeInfo& info = rules.types[type];
  std::string out = info.name + "(";
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (i > 0) out += ",";
    out.append(i < info.slots.size() ? info.slots[i].name : numbered(i)).append("=");
    out += render_value(slots[i], names);
  }
  return out + ")";
}

std::string_view truth_name(Truth truth) {
  switch (truth) {
    case Truth::no:
      return "no";
    case Truth::undetermined:
      return "undetermined";
    case Truth::yes:
      return "yes";
  }
  return "?";
}

namespace {

std::string join_matched(const std::vector<std::string>& matched) {
  std::string out = "[";
  for (std::size_t i = 0; i < matched.size(); ++i) out += (i > 0 ? ";" : "") + matched[i];
  return out + "]";
}

}  // namespace

std::string render_firing(const RuleBase& rules, RuleId rule, std::size_t production,
                          const std::vector<std::string>& matched, Truth truth) {
  return rules.rules[rule].name + "#" + std::to_string(production) + join_matched(matched) + ":" +
         std::string(truth_name(truth));
}

std::string render_bindings(const RuleBase& rules, RuleId rule, std::span<const Value> bindings,
                            const SymbolNamer& names) {
  const auto& variables = rules.rules[rule].variables;
  std::string out = "{";
  for (std::size_t v = 0; v < bindings.size(); ++v) {
    if (v > 0) out += ",";
    out.append(v < variables.size() ? variables[v] : numbered(v)).append("=").append(render_value(bindings[v], names));
  }
  return out + "}";
}

std::string render_advice(const RuleBase& rules, RuleId rule, std::size_t action,
                          const std::vector<std::string>& matched) {
  return rules.rules[rule].name + "@" + std::to_string(action) + join_matched(matched);
}

namespace {

bool is_concluded(const FactTypeInfo& type) {
  return type.kind == FactTypeInfo::Kind::derived || type.kind == FactTypeInfo::Kind::output;
}

void collect_read_types(const RuleBase& rules, const std::vector<Element>& elements, std::set<TypeId>& out) {
  for (const Element& element : elements) {
    if (element.kind == Element::Kind::negation) {
      collect_read_types(rules, element.body, out);
    } else if (is_concluded(rules.types[element.pattern.type])) {
      out.insert(element.pattern.type);
    }
  }
}

}  // namespace

std::vector<int> rule_levels(const RuleBase& rules) {
  std::vector<std::set<TypeId>> reads(rules.rules.size());
  for (std::size_t r = 0; r < rules.rules.size(); ++r)
    for (const auto& production : rules.rules[r].productions)
      collect_read_types(rules, production.elements, reads[r]);

  std::vector<int> rule_level(rules.rules.size(), 1);
  std::vector<int> type_level(rules.types.size(), 0);
  // A fixpoint; the cap only matters for a rule base that is not stratified.
  for (std::size_t round = 0; round <= rules.rules.size() + 1; ++round) {
    std::fill(type_level.begin(), type_level.end(), 0);
    for (std::size_t r = 0; r < rules.rules.size(); ++r)
      for (const auto& action : rules.rules[r].actions)
        if (action.kind == inference::Action::Kind::assert_fact)
          type_level[action.assertion.type] = std::max(type_level[action.assertion.type], rule_level[r]);
    bool changed = false;
    for (std::size_t r = 0; r < rules.rules.size(); ++r) {
      int highest_read = 0;
      for (TypeId type : reads[r]) highest_read = std::max(highest_read, type_level[type]);
      if (rule_level[r] != 1 + highest_read) {
        rule_level[r] = 1 + highest_read;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return rule_level;
}

namespace {

using Env = std::vector<Value>;

struct WmFact {
  enum class Kind { kb, input, placeholder, derived };
  Kind kind = Kind::input;
  TypeId type = 0;
  std::vector<Value> slots;
  std::vector<Truth> support_truths;  // derived: one per supporting firing
};

Truth existence(const WmFact& fact) {
  // A placeholder stands for data nobody has given: whether such a fact exists is unknown.
  if (fact.kind == WmFact::Kind::placeholder) return Truth::undetermined;
  if (fact.kind != WmFact::Kind::derived) return Truth::yes;
  bool definite = std::find(fact.support_truths.begin(), fact.support_truths.end(), Truth::yes) !=
                  fact.support_truths.end();
  return definite ? Truth::yes : Truth::undetermined;
}

Truth truth_or(Truth a, Truth b) { return std::max(a, b); }

Truth truth_not(Truth t) {
  if (t == Truth::yes) return Truth::no;
  if (t == Truth::no) return Truth::yes;
  return Truth::undetermined;
}

const Value& value_of(const Term& term, const Env& env) {
  return term.kind == Term::Kind::constant ? term.constant : env[term.var];
}

/// Tests, then binds (into env), then where; the AND of everything and of the fact's existence.
Truth match_pattern(const Pattern& pattern, const WmFact& fact, Env& env) {
  Truth truth = existence(fact);
  for (const auto& test : pattern.tests) {
    const Value& slot = fact.slots[test.slot];
    Truth result = Truth::no;
    if (!test.choices.empty()) {
      for (const Term& choice : test.choices)
        result = truth_or(result, compare(Op::same, slot, value_of(choice, env)));
    } else {
      result = compare(test.op, slot, value_of(test.operand, env));
    }
    truth = truth_and(truth, result);
    if (truth == Truth::no) return Truth::no;
  }
  for (const auto& [slot, var] : pattern.binds) {
    // A variable that takes an unknown value makes whatever uses it unknown too.
    if (fact.slots[slot].is_unknown()) truth = truth_and(truth, Truth::undetermined);
    env[var] = fact.slots[slot];
  }
  for (const auto& test : pattern.where)
    truth = truth_and(truth, compare(test.op, value_of(test.lhs, env), value_of(test.rhs, env)));
  return truth;
}

using Visitor = std::function<void(const std::vector<std::size_t>& matched, const Env& env, Truth truth)>;

class Matcher {
 public:
  explicit Matcher(const std::vector<WmFact>& memory) : memory_(memory) {}

  /// Every match of elements[index..] extending `matched` and `env`, with truth above `no`.
  void each_match(const std::vector<Element>& elements, std::size_t index, std::vector<std::size_t>& matched,
                  const Env& env, Truth truth, const Visitor& visit) const {
    if (truth == Truth::no) return;
    if (index == elements.size()) {
      visit(matched, env, truth);
      return;
    }
    const Element& element = elements[index];
    if (element.kind == Element::Kind::negation) {
      each_match(elements, index + 1, matched, env, truth_and(truth, negation(element.body, env)), visit);
      return;
    }
    for (std::size_t fact = 0; fact < memory_.size(); ++fact) {
      if (memory_[fact].type != element.pattern.type) continue;
      Env extended = env;
      Truth result = match_pattern(element.pattern, memory_[fact], extended);
      if (result == Truth::no) continue;
      matched.push_back(fact);
      each_match(elements, index + 1, matched, extended, truth_and(truth, result), visit);
      matched.pop_back();
    }
  }

  /// not(the best truth over every match of the body); variables bound inside stay inside.
  Truth negation(const std::vector<Element>& body, const Env& env) const {
    Truth best = Truth::no;
    std::vector<std::size_t> matched;
    each_match(
        body, 0, matched, env, Truth::yes,
        [&](const std::vector<std::size_t>&, const Env&, Truth truth) { best = truth_or(best, truth); });
    return truth_not(best);
  }

 private:
  const std::vector<WmFact>& memory_;
};

struct FiringRecord {
  RuleId rule = 0;
  std::size_t production = 0;
  std::vector<std::size_t> matched;
  Env env;
  Truth truth = Truth::yes;
};

bool answers(const inference::Question& question, const InputFact& fact) {
  if (fact.type != question.type) return false;
  if (!question.key) return true;
  return fact.slots[question.key->first].same(question.key->second);
}

}  // namespace

ReferenceResult evaluate(const RuleBase& rules, const std::vector<InputFact>& inputs,
                         const std::set<std::size_t>& answered_none, const SymbolNamer& names) {
  std::vector<WmFact> memory;
  for (const auto& fact : rules.facts) memory.push_back({WmFact::Kind::kb, fact.type, fact.slots, {}});

  std::vector<InputFact> unique_inputs;
  for (const auto& input : inputs) {
    bool seen = std::any_of(unique_inputs.begin(), unique_inputs.end(), [&](const InputFact& other) {
      return other.type == input.type && identical_slots(other.slots, input.slots);
    });
    if (seen) continue;
    unique_inputs.push_back(input);
    memory.push_back({WmFact::Kind::input, input.type, input.slots, {}});
  }

  for (std::size_t q = 0; q < rules.questions.size(); ++q) {
    const auto& question = rules.questions[q];
    if (answered_none.contains(q)) continue;
    if (std::any_of(unique_inputs.begin(), unique_inputs.end(),
                    [&](const InputFact& f) { return answers(question, f); }))
      continue;
    std::vector<Value> slots(rules.types[question.type].slots.size(),
                             Value::unknown(UnknownReason::not_asked));
    if (question.key) slots[question.key->first] = question.key->second;
    memory.push_back({WmFact::Kind::placeholder, question.type, std::move(slots), {}});
  }

  std::vector<int> levels = rule_levels(rules);
  int top_level = levels.empty() ? 0 : *std::max_element(levels.begin(), levels.end());
  std::vector<FiringRecord> firings;
  std::set<std::vector<std::size_t>> fired_instances;  // rule, production, matched facts...

  for (int level = 1; level <= top_level; ++level) {
    while (true) {
      // Find every new instance against the memory as it is, then fire them all.
      std::vector<FiringRecord> fresh;
      Matcher matcher(memory);
      for (RuleId r = 0; r < rules.rules.size(); ++r) {
        if (levels[r] != level) continue;
        const auto& rule = rules.rules[r];
        for (std::size_t p = 0; p < rule.productions.size(); ++p) {
          std::vector<std::size_t> matched;
          Env env(rule.variables.size(), Value::unknown(UnknownReason::not_asked));
          matcher.each_match(rule.productions[p].elements, 0, matched, env, Truth::yes,
                             [&](const std::vector<std::size_t>& facts, const Env& bindings, Truth truth) {
                               std::vector<std::size_t> key{r, p};
                               key.insert(key.end(), facts.begin(), facts.end());
                               if (fired_instances.insert(key).second)
                                 fresh.push_back({r, p, facts, bindings, truth});
                             });
        }
      }
      if (fresh.empty()) break;
      for (auto& firing : fresh) {
        for (const auto& action : rules.rules[firing.rule].actions) {
          if (action.kind != inference::Action::Kind::assert_fact) continue;
          const auto& assertion = action.assertion;
          std::vector<Value> slots;
          for (const Term& term : assertion.slots) slots.push_back(value_of(term, firing.env));
          auto existing = std::find_if(memory.begin(), memory.end(), [&](const WmFact& fact) {
            return fact.type == assertion.type && identical_slots(fact.slots, slots);
          });
          if (existing != memory.end()) {
            existing->support_truths.push_back(firing.truth);
          } else {
            memory.push_back({WmFact::Kind::derived, assertion.type, std::move(slots), {firing.truth}});
          }
        }
        firings.push_back(std::move(firing));
      }
    }
  }

  ReferenceResult result;
  std::vector<std::string> contents;
  for (const auto& fact : memory) {
    contents.push_back(render_fact(rules, fact.type, fact.slots, names));
    result.facts.push_back(contents.back() + ":" + std::string(truth_name(existence(fact))));
  }
  for (const auto& firing : firings) {
    std::vector<std::string> matched;
    for (std::size_t fact : firing.matched) matched.push_back(contents[fact]);
    result.firings.push_back(render_firing(rules, firing.rule, firing.production, matched, firing.truth));
    result.bindings.push_back(result.firings.back() + " " +
                              render_bindings(rules, firing.rule, firing.env, names));
    const auto& actions = rules.rules[firing.rule].actions;
    bool has_advice = false;
    for (std::size_t a = 0; a < actions.size(); ++a) {
      if (actions[a].kind != inference::Action::Kind::advice) continue;
      has_advice = true;
      if (firing.truth == Truth::yes) result.advice.push_back(render_advice(rules, firing.rule, a, matched));
    }
    if (firing.truth == Truth::yes) ++result.fired;
    if (firing.truth == Truth::undetermined && has_advice) result.needs_data.push_back(result.firings.back());
  }
  for (auto* list : {&result.facts, &result.firings, &result.advice, &result.needs_data, &result.bindings})
    std::sort(list->begin(), list->end());
  return result;
}

ReferenceResult evaluate(const RuleBase& rules, const std::vector<InputFact>& inputs,
                         const std::set<std::size_t>& answered_none) {
  return evaluate(rules, inputs, answered_none, [&](inference::Symbol s) { return rules.symbols.name(s); });
}

std::string diff_lines(const std::vector<std::string>& expected, const std::vector<std::string>& actual,
                       std::size_t limit) {
  // Multisets: a line present twice on one side and once on the other is a difference.
  std::map<std::string, long> count;
  for (const auto& line : expected) ++count[line];
  for (const auto& line : actual) --count[line];
  std::string only_expected, only_actual;
  std::size_t shown_expected = 0, shown_actual = 0, total_expected = 0, total_actual = 0;
  for (const auto& [line, n] : count) {
    for (long i = 0; i < n; ++i, ++total_expected)
      if (shown_expected++ < limit) only_expected += "  - " + line + "\n";
    for (long i = 0; i < -n; ++i, ++total_actual)
      if (shown_actual++ < limit) only_actual += "  + " + line + "\n";
  }
  if (total_expected == 0 && total_actual == 0) return {};
  std::string out = "reference only (" + std::to_string(total_expected) + "):\n" + only_expected;
  out += "engine only (" + std::to_string(total_actual) + "):\n" + only_actual;
  return out;
}

}  // namespace rapa::testing
