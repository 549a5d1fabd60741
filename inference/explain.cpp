// Explanations built on the engine's public record: proofs (why), the first failing condition
// (why not) and the data an undetermined firing waits for. They re-evaluate conditions with the
// interpreter because the network keeps no record of tests that failed.
#include <algorithm>
#include <charconv>
#include <deque>
#include <set>

#include <fmt/format.h>

#include "inference/engine.hpp"
#include "inference/interpret.hpp"

namespace rapa::inference {

namespace {

/// Every live fact, by type: the interpreter's view of working memory for explanations.
class LiveFacts final : public FactSource {
 public:
  explicit LiveFacts(const Engine& engine) : engine_(engine), by_type_(engine.rules().types.size()) {
    for (FactId id : engine.facts()) by_type_[engine.type_of(id)].push_back(id);
  }
  std::span<const FactId> candidates(const Pattern& pattern) const override { return by_type_[pattern.type]; }
  std::span<const FactId> of_type(TypeId type) const { return by_type_[type]; }
  std::span<const Value> slots(FactId fact) const override { return engine_.slots_of(fact); }
  Truth existence(FactId fact) const override { return engine_.truth_of(fact); }

 private:
  const Engine& engine_;
  std::vector<std::vector<FactId>> by_type_;
};

/// The question a fact answers or stands in for, if any.
const Question* question_of(const RuleBase& rules, TypeId type, std::span<const Value> slots) {
  for (const Question& q : rules.questions)
    if (q.type == type && (!q.key || slots[q.key->first].same(q.key->second))) return &q;
  return nullptr;
}

class MissingCollector {
 public:
  MissingCollector(const Engine& engine, const LiveFacts& live) : engine_(engine), live_(live) {}

  void firing(FiringId id) {
    if (!seen_firings_.insert(id).second) return;
    const Firing& f = engine_.firing(id);
    const Production& p = engine_.rules().rules[f.rule].productions[f.production];
    conjunction(p.elements, f.matched, Env(f.bindings.begin(), f.bindings.end()));
  }

  std::vector<MissingDatum> take() { return std::move(out_); }

 private:
  void conjunction(std::span<const Element> elements, std::span<const FactId> matched, const Env& env) {
    std::size_t next = 0;
    for (const Element& e : elements) {
      if (e.kind == Element::Kind::pattern) {
        if (next < matched.size()) fact(matched[next++], e.pattern);
        continue;
      }
      // An undetermined negation: the matches of its body that might exist are what we need
      // to know about.
      Env inner = env;
      for_each_match(e.body, live_, inner, [&](std::span<const FactId> m, const Env& menv, Truth truth) {
        if (truth == Truth::undetermined) {
          std::vector<FactId> copy(m.begin(), m.end());
          conjunction(e.body, copy, menv);
        }
        return true;
      });
    }
  }

  void fact(FactId id, const Pattern& pattern) {
    const RuleBase& rules = engine_.rules();
    const Origin& origin = engine_.origin_of(id);
    auto slots = engine_.slots_of(id);
    if (origin.kind == Origin::Kind::placeholder) {
      add(rules.questions[origin.question].label, UnknownReason::not_asked, id);
    } else {
      const Question* q = question_of(rules, engine_.type_of(id), slots);
      auto consider = [&](SlotIndex slot) {
        if (!slots[slot].is_unknown()) return;
        const FactTypeInfo& type = rules.types[engine_.type_of(id)];
        std::string label = q && q->key ? q->label : type.name + "." + type.slots[slot].name;
        add(label, slots[slot].reason(), id);
      };
      for (const SlotTest& t : pattern.tests) consider(t.slot);
      for (const auto& [slot, var] : pattern.binds) consider(slot);
    }
    if (engine_.truth_of(id) == Truth::undetermined)
      for (FiringId s : engine_.supports(id))
        if (engine_.firing(s).truth == Truth::undetermined) firing(s);
  }

  void add(std::string label, UnknownReason reason, FactId fact) {
    for (const MissingDatum& d : out_)
      if (d.label == label) return;
    out_.push_back(MissingDatum{std::move(label), reason, fact});
  }

  const Engine& engine_;
  const LiveFacts& live_;
  std::set<FiringId> seen_firings_;
  std::vector<MissingDatum> out_;
};

/// An `exists` condition as the lowering writes it: a negation of negations, `not (not C1 and
/// not C2 ...)`, which holds when some Ci has a match (one Ci per alternative inside it).
bool is_exists(const Element& e) {
  return e.kind == Element::Kind::negation && !e.body.empty() &&
         std::all_of(e.body.begin(), e.body.end(), [](const Element& inner) { return inner.kind == Element::Kind::negation; });
}

/// For each `exists` condition of a production, the facts of its best match under the firing's
/// bindings (a definite match before an undetermined one): the evidence that it holds.
std::vector<FactId> exists_witnesses(const LiveFacts& live, const Production& production,
                                     std::span<const Value> bindings) {
  std::vector<FactId> witnesses;
  for (const Element& e : production.elements) {
    if (!is_exists(e)) continue;
    std::vector<FactId> best;
    Truth best_truth = Truth::no;
    for (const Element& alternative : e.body) {
      Env env(bindings.begin(), bindings.end());
      for_each_match(alternative.body, live, env, [&](std::span<const FactId> m, const Env&, Truth truth) {
        if (best_truth == Truth::no || (truth == Truth::yes && best_truth != Truth::yes)) {
          best.assign(m.begin(), m.end());
          best_truth = truth;
        }
        return best_truth != Truth::yes;
      });
      if (best_truth == Truth::yes) break;
    }
    for (FactId fact : best)
      if (std::find(witnesses.begin(), witnesses.end(), fact) == witnesses.end()) witnesses.push_back(fact);
  }
  return witnesses;
}

bool has_advice(const Rule& rule) {
  return std::any_of(rule.actions.begin(), rule.actions.end(),
                     [](const Action& a) { return a.kind == Action::Kind::advice; });
}

}  // namespace

std::string Engine::format(const Value& value, const SlotInfo* slot) const {
  switch (value.kind()) {
    case Value::Kind::symbol: return std::string(symbol_name(value.as_symbol()));
    case Value::Kind::text: return fmt::format("\"{}\"", symbol_name(value.as_symbol()));
    case Value::Kind::integer: return std::to_string(value.as_integer());
    case Value::Kind::unknown: return fmt::format("unknown ({})", unknown_reason_name(value.reason()));
    case Value::Kind::number: break;
  }
  double shown = value.as_double();
  std::string unit;
  if (slot && !slot->display_unit.empty()) {
    shown *= slot->display_scale;
    unit = " " + slot->display_unit;
  }
  char buffer[64];
  // Twelve significant digits: converting to base units and back leaves noise in the last bits
  // (40 years reads 39.99999999999999), and no clinical figure has more than a few digits.
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, shown, std::chars_format::general, 12);
  return std::string(buffer, ec == std::errc{} ? end : buffer) + unit;
}

std::vector<NeedsData> Engine::needs_data() const {
  std::vector<NeedsData> out;
  LiveFacts live(*this);
  for (FiringId id = 0; id < firing_count(); ++id) {
    const Firing* f = &firing(id);
    if (f->withdrawn || f->truth != Truth::undetermined || !has_advice(rules().rules[f->rule])) continue;
    MissingCollector collector(*this, live);
    collector.firing(id);
    out.push_back(NeedsData{id, collector.take()});
  }
  return out;
}

Proof Engine::why(FiringId id) const {
  Proof proof;
  LiveFacts live(*this);
  std::set<FiringId> seen{id};
  std::set<FactId> leaves;
  std::deque<FiringId> queue{id};
  while (!queue.empty()) {
    FiringId next = queue.front();
    queue.pop_front();
    const Firing& f = firing(next);
    const Rule& rule = rules().rules[f.rule];
    proof.steps.push_back(Proof::Step{next, std::vector<FactId>(f.matched.begin(), f.matched.end()),
                                      exists_witnesses(live, rule.productions[f.production], f.bindings)});
    for (const Citation& c : rule.citations)
      if (std::find(proof.citations.begin(), proof.citations.end(), c.source) == proof.citations.end())
        proof.citations.push_back(c.source);
    const Proof::Step& step = proof.steps.back();
    for (const auto* facts : {&step.premises, &step.witnesses}) {
      for (FactId fact : *facts) {
        if (origin_of(fact).kind != Origin::Kind::derived) {
          leaves.insert(fact);
          continue;
        }
        for (FiringId s : supports(fact))
          if (seen.insert(s).second) queue.push_back(s);
      }
    }
  }
  proof.leaves.assign(leaves.begin(), leaves.end());
  return proof;
}

namespace {

/// The first test of `pattern` a fact fails under env, in words; empty when none fails.
std::string first_failure(const Engine& engine, const Rule& rule, const Pattern& pattern, FactId fact, Env env) {
  const RuleBase& rules = engine.rules();
  const FactTypeInfo& type = rules.types[pattern.type];
  auto slots = engine.slots_of(fact);
  for (const SlotTest& test : pattern.tests) {
    if (eval_slot_test(test, slots, env) != Truth::no) continue;
    const SlotInfo& slot = type.slots[test.slot];
    std::string wanted;
    if (test.choices.empty()) {
      wanted = std::string(op_spelling(test.op)) + " " + engine.format(term_value(test.operand, env), &slot);
    } else {
      wanted = "one of";
      for (std::size_t i = 0; i < test.choices.size(); ++i)
        wanted += (i ? ", " : " ") + engine.format(term_value(test.choices[i], env), &slot);
    }
    return slot.name + " should be " + wanted + ", and is " + engine.format(slots[test.slot], &slot);
  }
  for (const auto& [slot, var] : pattern.binds) env[var] = slots[slot];
  for (const Test& test : pattern.where) {
    if (compare(test.op, term_value(test.lhs, env), term_value(test.rhs, env)) != Truth::no) continue;
    auto side = [&](const Term& t) {
      std::string value = engine.format(term_value(t, env));
      return t.kind == Term::Kind::variable ? "?" + rule.variables[t.var] + " (" + value + ")" : value;
    };
    return "where " + side(test.lhs) + " " + std::string(op_spelling(test.op)) + " " + side(test.rhs) + " fails";
  }
  return {};
}

}  // namespace

WhyNot Engine::why_not(RuleId rule_id) const {
  const Rule& rule = rules().rules.at(rule_id);
  LiveFacts live(*this);
  WhyNot answer;
  answer.rule = rule_id;
  for (std::uint16_t p = 0; p < rule.productions.size(); ++p) {
    const auto& elements = rule.productions[p].elements;
    WhyNot::ProductionReport report;
    report.production = p;
    for (FiringId id = 0; id < firing_count(); ++id) {
      const Firing* f = &firing(id);
      if (f->rule != rule_id || f->production != p || f->withdrawn) continue;
      if (f->truth == Truth::yes) report.status = WhyNot::Status::fired;
      else if (report.status != WhyNot::Status::fired) report.status = WhyNot::Status::undetermined;
    }
    // How far partial matches get: the deepest element reached, and the bindings there.
    std::size_t deepest = 0;
    Env deepest_env(rule.variables.size());
    std::function<void(std::size_t, Env&)> search = [&](std::size_t at, Env& env) {
      if (at > deepest || (at == 0 && deepest == 0)) deepest = at, deepest_env = env;
      if (at == elements.size()) return;
      const Element& e = elements[at];
      if (e.kind == Element::Kind::negation) {
        Env inner = env;
        if (truth_not(best_match(e.body, live, inner)) != Truth::no) search(at + 1, env);
        return;
      }
      for (FactId fact : live.of_type(e.pattern.type)) {
        Env next = env;
        if (match_pattern(e.pattern, slots_of(fact), truth_of(fact), next) != Truth::no) search(at + 1, next);
      }
    };
    Env start(rule.variables.size());
    search(0, start);
    report.element = deepest;
    if (deepest < elements.size()) {
      const Element& e = elements[deepest];
      if (e.kind == Element::Kind::pattern) {
        for (FactId fact : live.of_type(e.pattern.type))
          report.attempts.push_back(WhyNot::Attempt{fact, first_failure(*this, rule, e.pattern, fact, deepest_env)});
      } else {
        Env inner = deepest_env;
        for_each_match(e.body, live, inner, [&](std::span<const FactId> m, const Env&, Truth truth) {
          if (truth != Truth::yes) return true;
          report.blocking.assign(m.begin(), m.end());
          return false;
        });
      }
    }
    answer.productions.push_back(std::move(report));
  }
  return answer;
}

}  // namespace rapa::inference
