#include "consult/session.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include <fmt/format.h>

#include "consult/consultation.hpp"
#include "consult/provenance.hpp"
#include "consult/render.hpp"
#include "consult/render_common.hpp"
#include "parser/patient.hpp"
#include "support/diagnostic_render.hpp"
#include "support/suggest.hpp"

namespace rapa::consult {

namespace {

struct CommandHelp {
  std::string_view name;
  std::string_view usage;
  std::string_view summary;
};

// One table for `help`, completion and "did you mean": the order is the order `help` lists.
constexpr CommandHelp command_table[] = {
    {"load", "load PATIENT.yaml", "start over with the facts of a patient file"},
    {"facts", "facts", "the input facts, numbered, with their origin; => conclusions"},
    {"set", "set TYPE(slot: value, ...)", "add a fact, written as in a patient file"},
    {"retract", "retract N", "remove input fact N and all that rested on it"},
    {"change", "change N slot: value, ...", "replace input fact N, with these slots changed"},
    {"advise", "advise", "the consultation for the facts as they are now"},
    {"why", "why N", "the proof of advice N: rules, facts, citations"},
    {"whynot", "whynot RULE", "a rule's first failing condition, facts tried"},
    {"sources", "sources KEY", "a source: citation, DOI or URL, design, level"},
    {"rules", "rules [PREFIX]", "rule names (starting with PREFIX) and titles"},
    {"help", "help [COMMAND]", "this list, or one command's usage"},
    {"quit", "quit", "end the session (also: exit, Ctrl-D)"},
};

const CommandHelp* find_command(std::string_view name) {
  for (const auto& c : command_table)
    if (c.name == name) return &c;
  return nullptr;
}

std::string_view trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

/// Splits "word rest" at the first blank.
std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  text = trim(text);
  const auto blank = text.find_first_of(" \t");
  if (blank == std::string_view::npos) return {text, {}};
  return {text.substr(0, blank), trim(text.substr(blank))};
}

std::optional<std::size_t> parse_number(std::string_view word) {
  std::size_t n = 0;
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), n);
  if (error != std::errc() || end != word.data() + word.size()) return std::nullopt;
  return n;
}

std::string with_suggestion(std::string message, std::string_view word,
                            const std::vector<std::string_view>& known) {
  if (auto match = support::closest_match(word, known))
    message += fmt::format("; did you mean '{}'?", *match);
  return message + "\n";
}

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

}  // namespace

Session::Session(Knowledge knowledge, std::string home)
    : knowledge_(std::move(knowledge)), home_(std::move(home)), engine_(knowledge_.rules) {
  std::string notes;  // the rule base's own facts may fire rules before any patient is loaded
  run_engine(notes, false);
}

std::vector<std::string_view> Session::command_names() {
  std::vector<std::string_view> names;
  for (const auto& c : command_table) names.push_back(c.name);
  return names;
}

Session::Reply Session::execute(std::string_view line) {
  const std::string_view text = trim(line);
  if (text.empty() || text.front() == '#') return {};
  ++commands_;
  command_ = std::string(text);
  const auto [command, args] = split_word(text);
  if (command == "load") return load(args);
  if (command == "facts") return facts();
  if (command == "set") return set(args, line);
  if (command == "retract") return retract(args);
  if (command == "change") return change(args);
  if (command == "advise") return advise();
  if (command == "why") return why(args);
  if (command == "whynot" || command == "why-not") return why_not(args);
  if (command == "sources" || command == "source") return sources(args);
  if (command == "rules") return rules(args);
  if (command == "help" || command == "?") return help(args);
  if (command == "quit" || command == "exit") return {"", true, true};
  return {with_suggestion(fmt::format("unknown command '{}'", command), command, command_names()) +
              "type 'help' for the commands\n",
          false, false};
}

// --- Facts -------------------------------------------------------------------------------------

Session::Reply Session::load(std::string_view args) {
  if (args.empty()) return {"usage: load PATIENT.yaml\n", false};
  support::DiagnosticEngine diags;
  // A file that does not load leaves the session as it was, so it is read into a new engine.
  inference::Engine fresh(knowledge_.rules);
  if (!load_patient_file(knowledge_, std::string(args), fresh, diags)) {
    return {support::render_text(*knowledge_.sources, diags.sorted(), {}) +
                fmt::format("not loaded: the session is unchanged\n"),
            false};
  }
  engine_ = std::move(fresh);
  numbered_.clear();
  for (inference::FactId f : engine_.facts())
    if (engine_.origin_of(f).kind == inference::Origin::Kind::input) numbered_.push_back(f);
  patient_ = std::string(args);
  // A new patient is news as a whole: 'advise' shows it, not a list of every item added.
  std::string notes;
  run_engine(notes, false);
  std::string text =
      diags.warning_count() ? support::render_text(*knowledge_.sources, diags.sorted(), {}) : "";
  text += fmt::format("loaded {}: {} facts\n", args, numbered_.size()) + notes;
  return {text};
}

Session::Reply Session::facts() const {
  std::string out;
  for (std::size_t i = 0; i < numbered_.size(); ++i) {
    if (!engine_.alive(numbered_[i])) continue;
    out += fmt::format("{:>3}  {}  ({})\n", i + 1, describe_fact(knowledge_, engine_, numbered_[i]),
                       origin_phrase(numbered_[i]));
  }
  if (out.empty()) out = "no input facts: 'load PATIENT.yaml' or 'set TYPE(slot: value, ...)'\n";
  std::string concluded;
  for (inference::FactId f : engine_.facts()) {
    if (engine_.origin_of(f).kind != inference::Origin::Kind::derived) continue;
    concluded += fmt::format("  => {}{}\n", describe_fact(knowledge_, engine_, f),
                             engine_.truth_of(f) == inference::Truth::undetermined ? "  (undetermined)" : "");
  }
  if (!concluded.empty()) out += "concluded:\n" + concluded;
  return {out};
}

bool Session::assert_written(std::string_view fact_text, std::string_view line, inference::FactId& fact,
                             std::string& error) {
  const std::string_view text = trim(fact_text);
  const auto open = text.find('(');
  if (open == std::string_view::npos || text.back() != ')') {
    error =
        "write the fact as TYPE(slot: value, ...), e.g. set medication(drug: voriconazole, status: active)\n";
    return false;
  }
  const std::string_view type = trim(text.substr(0, open));
  const std::string_view body = text.substr(open + 1, text.size() - open - 2);
  // The patient-file loader reads the fact, so that units, drug names and unknown words mean
  // exactly what they mean in a file: one section holding a one-entry list.
  const std::string prefix = std::string(type) + ":\n  - {";
  const std::string buffer = prefix + std::string(body) + "}\n";
  const std::string name = fmt::format("<command {}>", commands_);
  support::DiagnosticEngine diags;
  const support::FileId file = knowledge_.sources->add_buffer(name, buffer);
  typed_.emplace_back(file, command_);
  auto intern = [&](std::string_view n) { return engine_.intern(n); };
  auto patient = parser::load_patient(*knowledge_.sources, file, knowledge_.checked.kb, *knowledge_.rules,
                                      intern, diags);
  if (!patient || patient->facts.size() != 1) {
    // The caret goes under the line as the user typed it, not under the YAML made of it.
    const std::size_t type_column = static_cast<std::size_t>(type.data() - line.data());
    const std::size_t body_column = static_cast<std::size_t>(body.data() - line.data());
    auto column_of = [&](std::uint32_t offset) {
      if (offset < type.size()) return type_column + offset;
      if (offset >= prefix.size() && offset <= prefix.size() + body.size())
        return body_column + offset - prefix.size();
      return body_column;
    };
    for (const support::Diagnostic& d : diags.sorted()) {
      error += fmt::format("{}: {}\n", support::severity_name(d.severity), d.message);
      if (d.range.file != file) continue;
      const std::size_t begin = column_of(d.range.begin);
      const std::size_t end = std::max(begin + 1, column_of(d.range.end));
      error +=
          fmt::format("  {}\n  {}^{}\n", line, std::string(begin, ' '), std::string(end - begin - 1, '~'));
      if (d.fixit) error += fmt::format("  {}{}\n", std::string(begin, ' '), d.fixit->replacement);
      for (const support::Note& note : d.notes) error += fmt::format("note: {}\n", note.message);
    }
    if (error.empty()) error = "no fact given\n";
    return false;
  }
  inference::Origin origin;
  origin.kind = inference::Origin::Kind::input;
  origin.range = patient->facts.front().range;
  fact = engine_.assert_fact(patient->facts.front().type, std::move(patient->facts.front().slots), origin);
  return true;
}

Session::Reply Session::set(std::string_view args, std::string_view line) {
  inference::FactId fact = 0;
  std::string error;
  if (!assert_written(args, line, fact, error)) return {error, false};
  const bool known = std::find(numbered_.begin(), numbered_.end(), fact) != numbered_.end();
  if (!known) numbered_.push_back(fact);
  const std::size_t number =
      static_cast<std::size_t>(std::find(numbered_.begin(), numbered_.end(), fact) - numbered_.begin()) + 1;
  std::string notes;
  run_engine(notes);
  return {fmt::format("{} {}  {}\n", known ? "already there:" : "added", number,
                      describe_fact(knowledge_, engine_, fact)) +
          notes};
}

bool Session::numbered_fact(std::string_view word, std::size_t& index, std::string& error) const {
  const auto n = parse_number(word);
  if (!n || *n == 0 || *n > numbered_.size() || !engine_.alive(numbered_[*n - 1])) {
    error = fmt::format("no input fact numbered '{}'; 'facts' lists them\n", word);
    return false;
  }
  index = *n - 1;
  return true;
}

Session::Reply Session::retract(std::string_view args) {
  std::size_t index = 0;
  std::string error;
  if (args.empty()) return {"usage: retract N\n", false};
  if (!numbered_fact(args, index, error)) return {error, false};
  const std::string described = describe_fact(knowledge_, engine_, numbered_[index]);
  engine_.retract_fact(numbered_[index]);
  std::string notes;
  run_engine(notes);
  return {fmt::format("retracted {}  {}\n", index + 1, described) + notes};
}

Session::Reply Session::change(std::string_view args) {
  const auto [number, changes] = split_word(args);
  std::size_t index = 0;
  std::string error;
  if (changes.empty()) return {"usage: change N slot: value, ...\n", false};
  if (!numbered_fact(number, index, error)) return {error, false};
  // The new fact is the old one as `facts` shows it with the slots given appended: the loader
  // rejects a slot written twice, so the old values of changed slots are left out first.
  const inference::FactId old = numbered_[index];
  const std::string shown = describe_fact(knowledge_, engine_, old);
  const auto open = shown.find('(');
  std::set<std::string> changed;
  for (std::size_t at = 0; at < changes.size();) {
    const auto colon = changes.find(':', at);
    if (colon == std::string_view::npos) break;
    const auto comma = changes.find(',', colon);
    changed.emplace(trim(changes.substr(at, colon - at)));
    at = comma == std::string_view::npos ? changes.size() : comma + 1;
  }
  std::string kept;
  const std::string_view inner = std::string_view(shown).substr(open + 1, shown.size() - open - 2);
  for (std::size_t at = 0; at < inner.size();) {
    auto comma = inner.find(", ", at);
    if (comma == std::string_view::npos) comma = inner.size();
    const std::string_view slot = inner.substr(at, comma - at);
    const std::string_view slot_name = trim(slot.substr(0, slot.find(':')));
    if (!slot.empty() && !changed.count(std::string(slot_name))) kept += std::string(slot) + ", ";
    at = comma + 2;
  }
  const std::string type = shown.substr(0, open);
  // The caret of an error must point into the text parsed: the rewritten fact, shown as typed.
  const std::string rewritten = fmt::format("change {}  =>  {}({}{})", number, type, kept, changes);
  const std::string_view fact_text = std::string_view(rewritten).substr(rewritten.find("=>  ") + 4);
  // Asserted before the old one goes, so that a change that does not parse changes nothing.
  inference::FactId fact = 0;
  if (!assert_written(fact_text, rewritten, fact, error)) return {error + "not changed\n", false};
  if (fact == old) return {fmt::format("unchanged {}  {}\n", index + 1, shown)};
  engine_.retract_fact(old);
  numbered_[index] = fact;
  std::string notes;
  run_engine(notes);
  return {fmt::format("changed {}  {}\n", index + 1, describe_fact(knowledge_, engine_, fact)) + notes};
}

void Session::run_engine(std::string& notes, bool report_changes) {
  const inference::RunResult run = engine_.run();
  if (!run.completed) notes += "warning: the rules kept firing past the limit; the rule base needs fixing\n";
  // What the change did to the advice, in a line each, so that the effect of a fact shows
  // without reading the whole consultation again.
  std::vector<std::string> now;
  for (const AdviceView& advice : consult(knowledge_, engine_).advice) now.push_back(advice_line(advice));
  std::vector<std::string> sorted_before = advice_lines_, sorted_now = now;
  std::sort(sorted_before.begin(), sorted_before.end());
  std::sort(sorted_now.begin(), sorted_now.end());
  std::vector<std::string> gone, added;
  std::set_difference(sorted_before.begin(), sorted_before.end(), sorted_now.begin(), sorted_now.end(),
                      std::back_inserter(gone));
  std::set_difference(sorted_now.begin(), sorted_now.end(), sorted_before.begin(), sorted_before.end(),
                      std::back_inserter(added));
  for (const std::string& line : added)
    if (report_changes) notes += "  + " + line + "\n";
  for (const std::string& line : gone)
    if (report_changes) notes += "  - " + line + "\n";
  advice_lines_ = std::move(now);
}

std::string Session::advice_line(const AdviceView& advice) {
  const std::string kind(inference::advice_kind_name(advice.kind));
  return fmt::format("{}  ({})", trim(kind + " " + render_detail::headline(advice)), advice.rule);
}

// --- Answers -----------------------------------------------------------------------------------

Session::Reply Session::advise() {
  RenderOptions options;
  options.patient = patient_.empty() ? "(facts typed in this session)" : patient_;
  options.home = home_;
  return {render_text(consult(knowledge_, engine_), options)};
}

std::string Session::shown_location(support::SourceRange range) const {
  RenderOptions options;
  options.home = home_;
  return render_detail::shown_path(location(*knowledge_.sources, range), options);
}

std::string Session::origin_phrase(inference::FactId fact) const {
  const inference::Origin& origin = engine_.origin_of(fact);
  switch (origin.kind) {
    case inference::Origin::Kind::input:
      for (const auto& [file, command] : typed_)
        if (origin.range.valid() && origin.range.file == file) return "typed: " + command;
      return origin.range.valid() ? shown_location(origin.range) : "input";
    case inference::Origin::Kind::kb:
      return "kb " + shown_location(origin.range);
    case inference::Origin::Kind::derived:
      return "concluded";
    case inference::Origin::Kind::placeholder:
      return fmt::format("not asked: {}", engine_.rules().questions.at(origin.question).label);
  }
  return {};
}

Session::Reply Session::why(std::string_view args) {
  const Consultation consultation = consult(knowledge_, engine_);
  const auto n = parse_number(args);
  if (!n || *n == 0 || *n > consultation.advice.size()) {
    return {consultation.advice.empty()
                ? "there is no advice yet: 'advise' gives it\n"
                : fmt::format("no advice numbered '{}': 'advise' numbers them 1 to {}\n", args,
                              consultation.advice.size()),
            false};
  }
  // The proof as `rapa trace` shows it, from the same graph; a fact typed here is told by the
  // command that typed it.
  RenderOptions options;
  options.patient = patient_;
  options.home = home_;
  const auto graph = provenance_graph(
      nlohmann::ordered_json::parse(render_json(consultation, knowledge_, engine_, options)), {*n});
  std::map<std::string, std::string> typed;
  for (const auto& [file, command] : typed_) typed.emplace(knowledge_.sources->name(file), "typed: " + command);
  return {render_provenance_text(graph, [&](const nlohmann::ordered_json& fact) {
    const auto origin = fact.find("origin");
    if (origin != fact.end() && origin->value("kind", "") == "input" && origin->contains("file")) {
      const std::string file = origin->at("file").get<std::string>();
      const auto command = typed.find(file);
      if (command != typed.end()) return command->second;
      // A patient file loaded here is shown relative to rapa's home, as rule files are.
      return render_detail::shown_path(fmt::format("{}:{}", file, origin->value("line", 0)), options);
    }
    return provenance_origin_phrase(fact);
  })};
}

Session::Reply Session::why_not(std::string_view args) const {
  const inference::RuleBase& rules = engine_.rules();
  if (args.empty()) return {"usage: whynot RULE\n", false};
  const auto rule = rules.find_rule(args);
  if (!rule) {
    std::vector<std::string_view> names;
    for (const auto& r : rules.rules) names.push_back(r.name);
    return {with_suggestion(fmt::format("no rule named '{}'", args), args, names), false};
  }
  const inference::WhyNot report = engine_.why_not(*rule);
  const inference::Rule& r = rules.rules[*rule];
  std::string out = fmt::format("rule {}  \"{}\"  {}\n", r.name, r.title, shown_location(r.range));
  const bool alternatives = report.productions.size() > 1;
  for (const auto& p : report.productions) {
    const std::string label = alternatives ? fmt::format("  alternative {}: ", p.production + 1) : "  ";
    if (p.status == inference::WhyNot::Status::fired) {
      out += label + "it fired\n";
      continue;
    }
    if (p.status == inference::WhyNot::Status::undetermined) {
      out += label + "every condition held or hinges on unknown data: its advice is under 'needs data'\n";
      continue;
    }
    const inference::Element& element = r.productions[p.production].elements.at(p.element);
    const std::string_view written =
        knowledge_.sources->text(element.range.file)
            .substr(element.range.begin, element.range.end - element.range.begin);
    const std::string condition(trim(written.substr(0, written.find('\n'))));
    out += fmt::format("{}no match for condition {}: {}  ({})\n", label, p.element + 1, condition,
                       shown_location(element.range));
    for (const auto& attempt : p.attempts)
      out +=
          fmt::format("    tried {}: {}\n", describe_fact(knowledge_, engine_, attempt.fact), attempt.failed);
    for (inference::FactId fact : p.blocking)
      out += fmt::format("    ruled out by {}  ({})\n", describe_fact(knowledge_, engine_, fact),
                         origin_phrase(fact));
    if (p.attempts.empty() && p.blocking.empty() && element.kind == inference::Element::Kind::pattern)
      out += fmt::format("    no {} fact to try\n", rules.types.at(element.pattern.type).name);
  }
  return {out};
}

Session::Reply Session::sources(std::string_view args) const {
  const kb::KnowledgeBase& kb = knowledge_.checked.kb;
  if (args.empty()) return {"usage: sources KEY\n", false};
  const kb::Source* source = kb.find_source(args);
  if (!source) return {with_suggestion(fmt::format("no source '{}'", args), args, kb.source_keys()), false};
  std::string out = fmt::format("{}\n  {}\n", source->key, source->citation);
  if (!source->doi.empty()) out += fmt::format("  doi:    https://doi.org/{}\n", source->doi);
  if (!source->url.empty()) out += fmt::format("  url:    {}\n", source->url);
  if (!source->design.empty()) out += fmt::format("  design: {}\n", source->design);
  out += fmt::format("  level:  {}{}\n", source->level.spelling(),
                     source->level_derived ? " (derived from the design)" : "");
  return {out};
}

Session::Reply Session::rules(std::string_view args) const {
  std::string out;
  for (const auto& rule : engine_.rules().rules)
    if (rule.name.compare(0, args.size(), args) == 0) out += fmt::format("{}  {}\n", rule.name, rule.title);
  if (out.empty()) return {fmt::format("no rule name starts with '{}'\n", args), false};
  return {out};
}

Session::Reply Session::help(std::string_view args) const {
  if (!args.empty()) {
    const CommandHelp* c = find_command(args);
    if (!c) return {with_suggestion(fmt::format("no command '{}'", args), args, command_names()), false};
    return {fmt::format("{}\n  {}\n", c->usage, c->summary)};
  }
  std::string out = "commands:\n";
  for (const auto& c : command_table) out += fmt::format("  {:<28}{}\n", c.usage, c.summary);
  return {out};
}

// --- Completion --------------------------------------------------------------------------------

std::vector<std::string> Session::complete(std::string_view line) const {
  const kb::KnowledgeBase& kb = knowledge_.checked.kb;
  // The word being completed runs back to the last delimiter of the fact syntax.
  std::size_t start = line.size();
  while (start > 0 && is_identifier_char(line[start - 1])) --start;
  const std::string_view word = line.substr(start);
  const std::string_view before = line.substr(0, start);
  const auto [command, rest] = split_word(before);

  std::vector<std::string> candidates;
  auto add = [&](std::string_view name, std::string_view suffix = {}) {
    if (name.compare(0, word.size(), word) == 0)
      candidates.push_back(std::string(name) + std::string(suffix));
  };
  if (trim(before).empty()) {
    for (std::string_view name : command_names()) add(name);
  } else if (command == "help" && rest.empty()) {
    for (std::string_view name : command_names()) add(name);
  } else if ((command == "whynot" || command == "rules") && rest.empty()) {
    for (const auto& rule : engine_.rules().rules) add(rule.name);
  } else if (command == "sources" && rest.empty()) {
    for (std::string_view key : kb.source_keys()) add(key);
  } else if (command == "set" || command == "change") {
    const auto open = before.rfind('(');
    const kb::FactType* type = nullptr;
    if (command == "set" && open != std::string_view::npos) {
      type = kb.find_fact_type(trim(split_word(before.substr(0, open)).second));
    } else if (command == "change") {
      const auto n = parse_number(split_word(rest).first);
      if (n && *n >= 1 && *n <= numbered_.size() && engine_.alive(numbered_[*n - 1]))
        type = kb.find_fact_type(engine_.rules().types.at(engine_.type_of(numbered_[*n - 1])).name);
    }
    if (command == "set" && open == std::string_view::npos) {
      for (const auto& t : kb.fact_types)
        if (t.kind == kb::FactType::Kind::input) add(t.name, "(");
    } else if (type) {
      // Inside the parentheses (set) or after the number (change): a slot name, or after
      // "slot:" a value of that slot.
      std::string_view slots = command == "set" ? before.substr(open + 1) : split_word(rest).second;
      if (command == "change" && split_word(rest).second.empty() && before.back() != ' ') slots = "-";
      const std::string_view entry =
          trim(slots.substr(slots.find(',') == std::string_view::npos ? 0 : slots.rfind(',') + 1));
      if (entry.empty()) {
        for (const auto& slot : type->slots) add(slot.name, ": ");
      } else if (const auto colon = entry.find(':'); colon != std::string_view::npos) {
        if (const kb::Slot* slot = type->find_slot(trim(entry.substr(0, colon)))) {
          if (slot->vocabulary == "drugs") {
            for (std::string_view name : kb.drug_names()) add(name);
          } else if (slot->vocabulary == "diagnoses") {
            for (std::string_view code : kb.diagnosis_codes()) add(code);
          } else if (slot->vocabulary == "labs") {
            for (std::string_view id : kb.lab_ids()) add(id);
          }
          for (const std::string& value : slot->values) add(value);
        }
      }
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  return candidates;
}

}  // namespace rapa::consult
