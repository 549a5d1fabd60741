// The consultation as JSON, for programs: docs/advice.schema.json is its contract, so a field
// is added there first and never renamed. Keys keep the schema's order (ordered_json) so that a
// person reading the output finds them where the documentation puts them.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "consult/render.hpp"
#include "consult/render_common.hpp"

namespace rapa::consult {

namespace {

using nlohmann::ordered_json;

ordered_json string_or_null(const std::string& text) { return text.empty() ? ordered_json(nullptr) : ordered_json(text); }

ordered_json origin_json(const Knowledge& knowledge, const inference::Engine& engine, inference::FactId fact,
                         const RenderOptions& options) {
  const inference::Origin& origin = engine.origin_of(fact);
  ordered_json j;
  switch (origin.kind) {
    case inference::Origin::Kind::input: j["kind"] = "input"; break;
    case inference::Origin::Kind::kb: j["kind"] = "kb"; break;
    case inference::Origin::Kind::derived: {
      j["kind"] = "derived";
      // The firings that concluded it: the proof's steps with these ids explain it.
      ordered_json by = ordered_json::array();
      for (inference::FiringId support : engine.supports(fact)) by.push_back(support);
      j["concluded_by"] = std::move(by);
      return j;
    }
    case inference::Origin::Kind::placeholder:
      j["kind"] = "placeholder";
      j["question"] = engine.rules().questions.at(origin.question).label;
      return j;
  }
  if (!origin.range.valid()) return j;
  std::size_t line = knowledge.sources->line_column(origin.range.file, origin.range.begin).line;
  // A batch record's buffer is one line of the cohort: its line 1 is the cohort's line N.
  if (origin.kind == inference::Origin::Kind::input && options.cohort_line != 0) line += options.cohort_line - 1;
  std::string file(knowledge.sources->name(origin.range.file));
  j["file"] = origin.kind == inference::Origin::Kind::kb ? render_detail::shown_path(file, options) : file;
  j["line"] = line;
  return j;
}

/// A cited source: a CitationView of an advice, or a SourceInfo of the rule base (same fields).
template <class Source>
ordered_json citation_json(const Source& source) {
  return {{"key", source.key},
          {"citation", source.citation},
          {"doi", string_or_null(source.doi)},
          {"url", string_or_null(source.url)},
          {"level", source.level},
          {"level_derived", source.level_derived}};
}

/// The slot a variable of `production` was first bound from, so that its value is shown in that
/// slot's unit; null when a test bound it (then it is shown as stored).
const inference::SlotInfo* binding_slot(const inference::RuleBase& rules, const inference::Production& production,
                                        inference::VarId var) {
  for (const inference::Element& element : production.elements) {
    if (element.kind != inference::Element::Kind::pattern) continue;
    for (const auto& [slot, bound] : element.pattern.binds)
      if (bound == var) return &rules.types[element.pattern.type].slots[slot];
  }
  return nullptr;
}

/// The variables a firing bound, by name: what the rule's `?d` stood for in this match.
/// Hidden variables (named with a dot by the lowering) and unbound ones are left out.
ordered_json bindings_json(const inference::Engine& engine, const inference::Firing& firing) {
  const inference::RuleBase& rules = engine.rules();
  const inference::Rule& rule = rules.rules[firing.rule];
  ordered_json j = ordered_json::object();
  for (std::size_t var = 0; var < firing.bindings.size() && var < rule.variables.size(); ++var) {
    const inference::Value& value = firing.bindings[var];
    const std::string& name = rule.variables[var];
    if (name.find('.') != std::string::npos) continue;
    if (value.is_unknown() && value.reason() == inference::UnknownReason::not_asked) continue;
    const auto* slot = binding_slot(rules, rule.productions.at(firing.production), static_cast<inference::VarId>(var));
    j[name] = engine.format(value, slot);
  }
  return j;
}

ordered_json proof_json(const Knowledge& knowledge, const inference::Engine& engine, inference::FiringId firing,
                        const RenderOptions& options) {
  const inference::RuleBase& rules = engine.rules();
  const inference::Proof proof = engine.why(firing);
  ordered_json steps = ordered_json::array();
  for (const inference::Proof::Step& step : proof.steps) {
    const inference::Firing& fired = engine.firing(step.firing);
    const inference::Rule& rule = rules.rules[fired.rule];
    const auto facts_json = [&](const std::vector<inference::FactId>& ids) {
      ordered_json facts = ordered_json::array();
      for (inference::FactId fact : ids) {
        ordered_json f;
        f["id"] = fact;
        f["fact"] = describe_fact(knowledge, engine, fact);
        f["origin"] = origin_json(knowledge, engine, fact, options);
        facts.push_back(std::move(f));
      }
      return facts;
    };
    ordered_json cites = ordered_json::array();
    for (const inference::Citation& c : rule.citations) cites.push_back(rules.sources.at(c.source).key);
    ordered_json s;
    s["firing"] = step.firing;
    s["rule"] = {{"name", rule.name},
                 {"title", rule.title},
                 {"defined_at", render_detail::shown_path(location(*knowledge.sources, rule.range), options)}};
    s["cites"] = std::move(cites);
    s["bindings"] = bindings_json(engine, fired);
    s["facts"] = facts_json(step.premises);
    s["witnesses"] = facts_json(step.witnesses);
    steps.push_back(std::move(s));
  }
  ordered_json citations = ordered_json::array(), sources = ordered_json::array();
  for (std::uint32_t source : proof.citations) {
    citations.push_back(rules.sources.at(source).key);
    sources.push_back(citation_json(rules.sources.at(source)));
  }
  ordered_json j;
  j["steps"] = std::move(steps);
  j["citations"] = std::move(citations);
  j["sources"] = std::move(sources);
  return j;
}

ordered_json advice_json(const AdviceView& advice, const Knowledge& knowledge, const inference::Engine& engine,
                         const RenderOptions& options) {
  ordered_json j;
  j["number"] = advice.number;
  j["kind"] = std::string(inference::advice_kind_name(advice.kind));
  j["subject"] = string_or_null(advice.subject);
  j["severity"] = string_or_null(advice.severity);
  ordered_json details = ordered_json::array();
  for (const DetailView& d : advice.details) details.push_back({{"key", d.key}, {"shown", d.shown}});
  j["details"] = std::move(details);
  j["text"] = advice.text;
  j["rule"] = {{"name", advice.rule},
               {"title", advice.title},
               {"defined_at", render_detail::shown_path(advice.defined_at, options)}};
  if (advice.grade == '\0') {
    j["grade"] = nullptr;
  } else {
    j["grade"] = {{"letter", std::string(1, advice.grade)},
                  {"derived", !advice.grade_consensus},
                  {"because", string_or_null(advice.grade_because)}};
  }
  ordered_json citations = ordered_json::array();
  for (const CitationView& c : advice.citations) {
    citations.push_back(citation_json(c));
  }
  j["citations"] = std::move(citations);
  j["proof"] = proof_json(knowledge, engine, advice.firing, options);
  return j;
}

}  // namespace

std::string describe_fact(const Knowledge& knowledge, const inference::Engine& engine, inference::FactId fact) {
  const inference::FactTypeInfo& type = engine.rules().types[engine.type_of(fact)];
  const auto slots = engine.slots_of(fact);
  const kb::FactType* declared = knowledge.checked.kb.find_fact_type(type.name);
  std::string out = type.name + "(";
  bool first = true;
  for (std::size_t i = 0; i < slots.size() && i < type.slots.size(); ++i) {
    const inference::Value& value = slots[i];
    if (value.is_unknown() && value.reason() == inference::UnknownReason::not_asked) continue;
    inference::SlotInfo shown = type.slots[i];
    if (value.is_numeric() && shown.display_unit.empty() && declared) {
      // The unit comes from another slot's value: a lab value is shown in its test's unit.
      const kb::Slot* slot = declared->find_slot(shown.name);
      if (slot && !slot->unit_from.empty()) {
        auto from = std::find_if(type.slots.begin(), type.slots.end(),
                                 [&](const inference::SlotInfo& s) { return s.name == slot->unit_from; });
        const auto index = static_cast<std::size_t>(from - type.slots.begin());
        if (from != type.slots.end() && index < slots.size() && slots[index].kind() == inference::Value::Kind::symbol) {
          if (const auto* lab = knowledge.checked.kb.find_lab(engine.symbol_name(slots[index].as_symbol()))) {
            shown.display_unit = lab->unit.spelling;
            shown.display_scale = 1.0 / lab->unit.factor;
          }
        }
      }
    }
    out += (first ? "" : ", ") + shown.name + ": " + engine.format(value, &shown);
    first = false;
  }
  return out + ")";
}

std::string render_json(const Consultation& consultation, const Knowledge& knowledge, const inference::Engine& engine,
                        const RenderOptions& options) {
  ordered_json root;
  root["patient"] = options.patient;
  if (options.cohort_line != 0) root["line"] = options.cohort_line;
  root["rules_version"] = consultation.rules_version;
  root["critical"] = consultation.critical;
  ordered_json advice = ordered_json::array();
  for (const AdviceView& a : consultation.advice) advice.push_back(advice_json(a, knowledge, engine, options));
  root["advice"] = std::move(advice);
  ordered_json needs_data = ordered_json::array();
  for (const NeedsDataView* needs : render_detail::distinct_needs(consultation.needs_data)) {
    const NeedsDataView& n = *needs;
    ordered_json missing = ordered_json::array();
    for (const MissingView& m : n.missing) missing.push_back({{"label", m.label}, {"reason", m.reason}});
    ordered_json j;
    j["rule"] = {{"name", n.rule}, {"title", n.title}, {"defined_at", render_detail::shown_path(n.defined_at, options)}};
    j["missing"] = std::move(missing);
    j["at_stake"] = n.at_stake;
    needs_data.push_back(std::move(j));
  }
  root["needs_data"] = std::move(needs_data);
  root["fired"] = consultation.fired;
  // Texts are validated UTF-8 before they reach the engine; replace rather than throw should a
  // byte slip through.
  std::string out = root.dump(options.indent, ' ', false, ordered_json::error_handler_t::replace);
  return out + "\n";
}

}  // namespace rapa::consult
