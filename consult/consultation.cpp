#include "consult/consultation.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "inference/interpret.hpp"

namespace rapa::consult {

namespace {

using inference::AdviceKind;

bool load_into(Knowledge& knowledge, support::FileId file, inference::Engine& engine, support::DiagnosticEngine& diags) {
  auto intern = [&](std::string_view name) { return engine.intern(name); };
  auto patient = parser::load_patient(*knowledge.sources, file, knowledge.checked.kb, *knowledge.rules, intern, diags);
  if (!patient) return false;
  for (auto& fact : patient->facts) {
    inference::Origin origin;
    origin.kind = inference::Origin::Kind::input;
    origin.range = fact.range;
    engine.assert_fact(fact.type, std::move(fact.slots), origin);
  }
  for (std::size_t question : patient->answered_none) engine.answer_none(question);
  return true;
}

/// Reading order of advice kinds, and of warnings by severity.
int group_of(AdviceKind kind) {
  switch (kind) {
    case AdviceKind::recommend: return 0;
    case AdviceKind::contraindicate: return 1;
    case AdviceKind::warn: return 2;
    case AdviceKind::monitor: return 3;
    case AdviceKind::ask: return 4;
    case AdviceKind::info: return 5;
  }
  return 5;
}

int severity_rank(const std::string& severity) {
  static const char* const order[] = {"critical", "high", "moderate", "low"};
  for (int i = 0; i < 4; ++i)
    if (severity == order[i]) return i;
  return 4;
}

std::string render(const inference::TextTemplate& text, const inference::Engine& engine,
                   std::span<const inference::Value> bindings) {
  std::string out;
  for (const inference::TextPiece& piece : text) {
    if (!piece.var) {
      out += piece.literal;
      continue;
    }
    inference::SlotInfo shown{"", piece.display_unit, piece.display_scale};
    if (*piece.var >= bindings.size()) throw std::out_of_range("render: a placeholder names no variable of the rule");
    const inference::Value& value = bindings[*piece.var];
    // A text placeholder reads better without the quotes format() puts around texts.
    out += value.kind() == inference::Value::Kind::text ? std::string(engine.symbol_name(value.as_symbol()))
                                                          : engine.format(value, &shown);
  }
  return out;
}

std::string subject_of(const inference::AdviceAction& action, const inference::Engine& engine,
                       std::span<const inference::Value> bindings) {
  if (!action.subject) return {};
  return engine.format(inference::term_value(*action.subject, bindings));
}

}  // namespace

bool load_patient_file(Knowledge& knowledge, const std::string& path, inference::Engine& engine,
                       support::DiagnosticEngine& diags) {
  auto loaded = knowledge.sources->load_file(path);
  if (loaded.failure) {
    parser::report_load_failure(*knowledge.sources, loaded.id, *loaded.failure, diags);
    return false;
  }
  return load_into(knowledge, loaded.id, engine, diags);
}

bool load_patient_text(Knowledge& knowledge, std::string name, std::string text, inference::Engine& engine,
                       support::DiagnosticEngine& diags) {
  if (auto failure = support::SourceManager::validate_text(text)) {
    auto id = knowledge.sources->add_buffer(std::move(name), "");
    parser::report_load_failure(*knowledge.sources, id, *failure, diags);
    return false;
  }
  auto id = knowledge.sources->add_buffer(std::move(name), std::move(text));
  return load_into(knowledge, id, engine, diags);
}

std::string summary(const inference::AdviceAction& action, const inference::Engine& engine,
                    std::span<const inference::Value> bindings) {
  std::string out(inference::advice_kind_name(action.kind));
  if (!action.severity.empty()) out += " " + action.severity;
  if (std::string subject = subject_of(action, engine, bindings); !subject.empty()) out += " " + subject;
  return out;
}

Consultation consult(const Knowledge& knowledge, const inference::Engine& engine) {
  const inference::RuleBase& rules = *knowledge.rules;
  Consultation result;
  result.fired = engine.fired();
  result.rules_version = knowledge.version;

  std::set<std::tuple<inference::RuleId, std::uint16_t, std::string, std::string>> seen;
  for (const inference::AdviceItem& item : engine.advice()) {
    const inference::Firing& firing = engine.firing(item.firing);
    const inference::Rule& rule = rules.rules[firing.rule];
    const inference::AdviceAction& action = rule.actions[item.action].advice;
    AdviceView view;
    view.kind = action.kind;
    view.subject = subject_of(action, engine, firing.bindings);
    view.severity = action.severity;
    view.text = render(action.text, engine, firing.bindings);
    if (!seen.emplace(firing.rule, item.action, view.subject, view.text).second) continue;  // another alternative
    for (const inference::Detail& d : action.details) view.details.push_back(DetailView{d.key, d.shown, d.low, d.high});
    view.rule = rule.name;
    view.title = rule.title;
    view.defined_at = location(*knowledge.sources, rule.range);
    view.grade = rule.grade;
    view.grade_consensus = rule.grade_consensus;
    view.grade_because = rule.grade_because;
    for (const inference::Citation& c : rule.citations) {
      const inference::SourceInfo& s = rules.sources.at(c.source);
      view.citations.push_back(CitationView{s.key, s.citation, s.doi, s.url, s.level, s.level_derived});
    }
    view.firing = item.firing;
    if (action.kind == AdviceKind::contraindicate || (action.kind == AdviceKind::warn && action.severity == "critical"))
      result.critical = true;
    result.advice.push_back(std::move(view));
  }
  std::stable_sort(result.advice.begin(), result.advice.end(), [](const AdviceView& a, const AdviceView& b) {
    return std::pair(group_of(a.kind), severity_rank(a.severity)) < std::pair(group_of(b.kind), severity_rank(b.severity));
  });
  for (std::size_t i = 0; i < result.advice.size(); ++i) result.advice[i].number = i + 1;

  // One item per rule and set of missing data: an unknown medicine list can match a rule once
  // per drug of the table, and the clinician needs to be asked once.
  std::map<std::string, std::size_t> item_of;
  for (const inference::NeedsData& needs : engine.needs_data()) {
    const inference::Firing& firing = engine.firing(needs.firing);
    const inference::Rule& rule = rules.rules[firing.rule];
    std::string key = rule.name;
    for (const inference::MissingDatum& m : needs.missing) key += "|" + m.label;
    if (auto found = item_of.find(key); found != item_of.end()) {
      NeedsDataView& same = result.needs_data[found->second];
      for (const inference::Action& a : rule.actions) {
        if (a.kind != inference::Action::Kind::advice) continue;
        std::string stake = summary(a.advice, engine, firing.bindings);
        if (std::find(same.at_stake.begin(), same.at_stake.end(), stake) == same.at_stake.end())
          same.at_stake.push_back(std::move(stake));
      }
      continue;
    }
    item_of.emplace(key, result.needs_data.size());
    NeedsDataView view;
    view.rule = rule.name;
    view.title = rule.title;
    view.defined_at = location(*knowledge.sources, rule.range);
    for (const inference::MissingDatum& m : needs.missing)
      view.missing.push_back(MissingView{m.label, std::string(inference::unknown_reason_name(m.reason))});
    for (const inference::Action& a : rule.actions)
      if (a.kind == inference::Action::Kind::advice) view.at_stake.push_back(summary(a.advice, engine, firing.bindings));
    view.firing = needs.firing;
    result.needs_data.push_back(std::move(view));
  }
  return result;
}

}  // namespace rapa::consult
