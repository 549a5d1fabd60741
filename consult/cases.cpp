#include "consult/cases.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "parser/kb/yaml_source.hpp"
#include "support/suggest.hpp"

namespace rapa::consult {

namespace {

using inference::AdviceKind;
using support::DiagId;

constexpr std::array kAdviceKinds = {AdviceKind::recommend, AdviceKind::warn, AdviceKind::contraindicate,
                                     AdviceKind::monitor,   AdviceKind::ask,  AdviceKind::info};

// The detail words of the rule language (docs/language.md §6; the grammar's detail_keys, which
// cannot be included here without the X3 parser). A misspelt key would make a must_not vacuous.
constexpr std::array<std::string_view, 8> kDetailKeys = {"start",    "maintain", "loading", "trough",
                                                         "reassess", "every",    "after",   "within"};

constexpr std::array<std::string_view, 4> kSeverities = {"low", "moderate", "high", "critical"};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

int severity_strength(std::string_view severity) {
  for (std::size_t i = 0; i < kSeverities.size(); ++i)
    if (kSeverities[i] == severity) return static_cast<int>(i) + 1;
  return 0;
}

int grade_strength(char grade) { return grade >= 'A' && grade <= 'D' ? 'E' - grade : 0; }

std::string grade_name(char grade) { return grade ? std::string(1, grade) : std::string("none"); }

/// A quantity's unit in a detail as the rule wrote it ("2..4 mg/day", "1 mg/day..1500 ug/day"):
/// the last word. DetailView keeps base-unit numbers, not the dimension they are in.
std::optional<support::Dimension> shown_dimension(std::string_view shown) {
  shown = trim(shown);
  auto space = shown.find_last_of(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto parsed = support::parse_unit(shown.substr(space + 1));
  if (!parsed.unit) return std::nullopt;
  return parsed.unit->dimension;
}

bool same_number(double a, double b) { return support::compare_numbers(a, b) == 0; }

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

/// Reads the first document of a case file (description and expectations) into a GoldenCase.
class CaseReader {
 public:
  CaseReader(Knowledge& knowledge, support::FileId file, support::DiagnosticEngine& diags)
      : knowledge_(knowledge), src_(*knowledge.sources, file), diags_(diags) {}

  std::optional<GoldenCase> run() {
    const std::size_t errors_before = diags_.error_count();
    auto documents = src_.parse(diags_);
    if (!documents) return std::nullopt;
    GoldenCase golden;
    golden.path = std::string(knowledge_.sources->name(src_.file()));
    const auto end = static_cast<std::uint32_t>(src_.text().size());
    if (documents->empty() || documents->front().is_null()) {
      diags_.report(DiagId::yaml_missing_field, SourceRange{src_.file(), 0, 0}, "a case file", "description");
      return std::nullopt;
    }
    header(documents->front(), golden);
    if (documents->size() < 2) {
      diags_.report(DiagId::yaml_missing_field, SourceRange{src_.file(), end, end}, "a case file",
                    "--- (the patient document)");
      return std::nullopt;
    }
    golden.patient_text = patient_text((*documents)[1]);
    if (diags_.error_count() > errors_before) return std::nullopt;
    return golden;
  }

 private:
  using SourceRange = support::SourceRange;
  using YamlNode = kb::YamlNode;

  SourceRange range(const YamlNode& node) const { return src_.range(node, SourceRange{src_.file(), 0, 0}); }

  /// The whole file with the bytes before the patient document's '---' line made spaces, so
  /// that the patient loader sees only the patient while every line keeps its number.
  std::string patient_text(const YamlNode& patient) const {
    std::string text(src_.text());
    std::size_t limit = patient.offset() ? *patient.offset() : text.size();
    std::size_t separator = 0;
    for (std::size_t at = 0; at < limit && at < text.size();) {
      if (text.compare(at, 3, "---") == 0 &&
          (at + 3 == text.size() || std::string_view(" \t\r\n").find(text[at + 3]) != std::string_view::npos))
        separator = at;
      auto newline = text.find('\n', at);
      if (newline == std::string::npos) break;
      at = newline + 1;
    }
    for (std::size_t i = 0; i < separator; ++i)
      if (text[i] != '\n' && text[i] != '\r') text[i] = ' ';
    return text;
  }

  void header(const YamlNode& document, GoldenCase& golden) {
    if (!document.is_map()) {
      diags_.report(DiagId::yaml_not_a_map, range(document), "the first document of a case file");
      return;
    }
    bool described = false, expected = false;
    for (std::size_t i = 0; i < document.size(); ++i) {
      const std::string& key = document.key(i).scalar();
      const YamlNode value = document.value(i);
      if (key == "description") {
        described = true;
        if (!value.is_scalar()) diags_.report(DiagId::yaml_wrong_type, range(value), key, "a text");
        golden.description = value.scalar();
      } else if (key == "expect") {
        expected = true;
        expectations(value, golden);
      } else {
        diags_.report(DiagId::yaml_unknown_field, range(document.key(i)), kb::shown(key),
                      "a case file (fields: description, expect; the patient follows '---')");
      }
    }
    if (!described) diags_.report(DiagId::yaml_missing_field, range(document), "a case file", "description");
    if (!expected) diags_.report(DiagId::yaml_missing_field, range(document), "a case file", "expect");
  }

  void expectations(const YamlNode& expect, GoldenCase& golden) {
    if (!expect.is_map()) {
      diags_.report(DiagId::yaml_not_a_map, range(expect), "'expect'");
      return;
    }
    for (std::size_t i = 0; i < expect.size(); ++i) {
      const std::string& key = expect.key(i).scalar();
      const YamlNode list = expect.value(i);
      std::vector<Expectation>* into = key == "must"       ? &golden.must
                                       : key == "must_not" ? &golden.must_not
                                                           : nullptr;
      if (!into) {
        diags_.report(DiagId::yaml_unknown_field, range(expect.key(i)), kb::shown(key),
                      "'expect' (fields: must, must_not)");
        continue;
      }
      if (list.is_null()) continue;
      if (!list.is_sequence()) {
        diags_.report(DiagId::yaml_not_a_list, range(list), "'" + key + "'");
        continue;
      }
      for (std::size_t j = 0; j < list.size(); ++j)
        if (auto e = expectation(list.item(j))) into->push_back(std::move(*e));
    }
  }

  /// "a", "[a, b]", "{k: v}": a value in one line, for Expectation::written.
  static std::string flat(const YamlNode& node) {
    if (node.is_scalar()) return node.scalar();
    std::vector<std::string> parts;
    if (node.is_sequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) parts.push_back(flat(node.item(i)));
      return "[" + join(parts) + "]";
    }
    if (node.is_map()) {
      for (std::size_t i = 0; i < node.size(); ++i)
        parts.push_back(node.key(i).scalar() + ": " + flat(node.value(i)));
      return "{" + join(parts) + "}";
    }
    return "";
  }

  /// A scalar or a list of scalars.
  std::vector<std::string> texts(const std::string& key, const YamlNode& node) {
    std::vector<std::string> out;
    if (node.is_scalar()) {
      out.push_back(node.scalar());
    } else if (node.is_sequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        if (node.item(i).is_scalar())
          out.push_back(node.item(i).scalar());
        else
          diags_.report(DiagId::yaml_wrong_type, range(node.item(i)), key, "a text or a list of texts");
      }
    } else {
      diags_.report(DiagId::yaml_wrong_type, range(node), key, "a text or a list of texts");
    }
    return out;
  }

  std::optional<std::string> scalar(const std::string& key, const YamlNode& node) {
    if (node.is_scalar()) return node.scalar();
    diags_.report(DiagId::yaml_wrong_type, range(node), key, "a text");
    return std::nullopt;
  }

  std::optional<Expectation> expectation(const YamlNode& node) {
    if (!node.is_map()) {
      diags_.report(DiagId::yaml_not_a_map, range(node), "an expectation");
      return std::nullopt;
    }
    const std::size_t errors_before = diags_.error_count();
    Expectation e;
    e.range = range(node);
    std::vector<std::string> written;
    bool has_drug = false;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string& key = node.key(i).scalar();
      const YamlNode value = node.value(i);
      written.push_back(key + ": " + flat(value));
      if (key == "kind") {
        if (auto text = scalar(key, value)) e.kind = advice_kind(*text, value);
      } else if (key == "drug" || key == "subject") {
        if (e.subject)
          diags_.report(DiagId::yaml_conflicting_fields, range(node.key(i)), key,
                        has_drug ? "drug" : "subject");
        if (auto text = scalar(key, value)) e.subject = key == "drug" ? drug(*text, value) : *text;
        has_drug = key == "drug";
      } else if (key == "rule") {
        if (auto text = scalar(key, value)) e.rule = rule(*text, value);
      } else if (key == "severity") {
        if (auto text = scalar(key, value))
          e.severity = bound(*text, value, "severity", "'high', '>= high' or '<= moderate'",
                             [](std::string_view w) { return severity_strength(w); });
      } else if (key == "grade") {
        if (auto text = scalar(key, value))
          e.grade = bound(*text, value, "grade", "'C', '<= C' or '>= B'",
                          [](std::string_view w) { return w.size() == 1 ? grade_strength(w[0]) : 0; });
      } else if (key == "text") {
        e.phrases = texts(key, value);
      } else if (key == "cites") {
        for (const std::string& source : texts(key, value)) e.citations.push_back(source_key(source, value));
      } else if (key == "details") {
        details(value, e);
      } else if (key == "needs") {
        if (auto text = scalar(key, value)) e.needs = *text;
      } else if (key == "because") {
        if (auto text = scalar(key, value)) e.because = *text;
      } else {
        diags_.report(
            DiagId::yaml_unknown_field, range(node.key(i)), kb::shown(key),
            "an expectation (fields: kind, drug, subject, rule, severity, grade, text, cites, details, "
            "needs, because)");
      }
    }
    if (e.needs &&
        (e.severity || e.grade || !e.phrases.empty() || !e.details.empty() || !e.citations.empty()))
      diags_.report(DiagId::yaml_conflicting_fields, e.range, "needs",
                    "severity, grade, text, cites or details (a needs-data item has none)");
    e.written = join(written);
    if (diags_.error_count() > errors_before) return std::nullopt;
    return e;
  }

  std::optional<AdviceKind> advice_kind(const std::string& text, const YamlNode& node) {
    for (AdviceKind kind : kAdviceKinds)
      if (inference::advice_kind_name(kind) == text) return kind;
    diags_.report(DiagId::yaml_bad_value, range(node), kb::shown(text), "advice kind",
                  "recommend, warn, contraindicate, monitor, ask or info");
    return std::nullopt;
  }

  std::string drug(const std::string& text, const YamlNode& node) {
    if (const kb::Drug* d = knowledge_.checked.kb.find_drug(text)) return d->id;
    auto d = diags_.report(DiagId::unknown_drug, range(node), kb::shown(text));
    if (auto match = support::closest_match(text, knowledge_.checked.kb.drug_names())) d.suggest(*match);
    return text;
  }

  std::string source_key(const std::string& text, const YamlNode& node) {
    if (knowledge_.checked.kb.find_source(text)) return text;
    auto d = diags_.report(DiagId::unknown_source, range(node), kb::shown(text));
    if (auto match = support::closest_match(text, knowledge_.checked.kb.source_keys())) d.suggest(*match);
    return text;
  }

  /// A rule name, or a prefix ending in '*', that names at least one rule: a misspelt name
  /// would make a must_not pass for nothing.
  std::string rule(const std::string& text, const YamlNode& node) {
    std::vector<std::string_view> names;
    for (const inference::Rule& r : knowledge_.rules->rules) {
      if (rule_matches(text, r.name)) return text;
      names.push_back(r.name);
    }
    auto d = diags_.report(DiagId::unknown_symbol, range(node), kb::shown(text), "rule");
    if (auto match = support::closest_match(text, names)) d.suggest(*match);
    return text;
  }

  template <class Strength>
  std::optional<StrengthBound> bound(std::string_view text, const YamlNode& node, std::string_view what,
                                     std::string_view expected, Strength strength) {
    StrengthBound b;
    std::string_view word = trim(text);
    if (word.starts_with(">="))
      b.op = StrengthBound::Op::at_least, word.remove_prefix(2);
    else if (word.starts_with("<="))
      b.op = StrengthBound::Op::at_most, word.remove_prefix(2);
    word = trim(word);
    b.strength = strength(word);
    if (b.strength == 0) {
      diags_.report(DiagId::yaml_bad_value, range(node), kb::shown(text), what, expected);
      return std::nullopt;
    }
    return b;
  }

  void details(const YamlNode& node, Expectation& e) {
    if (!node.is_map()) {
      diags_.report(DiagId::yaml_not_a_map, range(node), "'details'");
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string& key = node.key(i).scalar();
      if (std::find(kDetailKeys.begin(), kDetailKeys.end(), key) == kDetailKeys.end()) {
        diags_.report(DiagId::yaml_unknown_field, range(node.key(i)), kb::shown(key),
                      "'details' (fields: start, maintain, loading, trough, reassess, every, after, within)");
        continue;
      }
      if (auto text = scalar(key, node.value(i)))
        if (auto d = amount(key, *text, node.value(i))) e.details.push_back(std::move(*d));
    }
  }

  /// "2 mg/day", "2..4 mg/day", "1 mg/day..1500 ug/day", each optionally after "within" or
  /// "contains".
  std::optional<DetailExpectation> amount(const std::string& key, const std::string& text,
                                          const YamlNode& node) {
    DetailExpectation d;
    d.key = key;
    d.written = text;
    std::string_view rest = trim(text);
    for (auto [word, relation] : {std::pair{std::string_view("within "), RangeRelation::within},
                                  std::pair{std::string_view("contains "), RangeRelation::contains}})
      if (rest.starts_with(word)) {
        d.relation = relation;
        rest = trim(rest.substr(word.size()));
      }
    auto bad = [&] {
      diags_.report(DiagId::yaml_bad_value, range(node), kb::shown(text), "detail amount",
                    "a quantity or a range with a unit, such as '2 mg/day', 'within 4..15 ng/mL' or "
                    "'contains 5..15 ng/mL'");
      return std::nullopt;
    };
    // Each end is a number and an optional unit; the high end's unit applies to a bare low end.
    struct End {
      double value = 0;
      std::optional<support::Unit> unit;
    };
    auto end = [&](std::string_view part) -> std::optional<End> {
      part = trim(part);
      End out;
      auto [after, ec] = std::from_chars(part.data(), part.data() + part.size(), out.value);
      if (ec != std::errc{} || !std::isfinite(out.value)) return std::nullopt;
      std::string_view unit =
          trim(std::string_view(after, static_cast<std::size_t>(part.data() + part.size() - after)));
      if (unit.empty()) return out;
      auto parsed = support::parse_unit(unit);
      if (!parsed.unit) {
        diags_.report(DiagId::unknown_unit, range(node), parsed.error->message);
        return std::nullopt;
      }
      out.unit = parsed.unit;
      return out;
    };
    const std::size_t dots = rest.find("..");
    const std::size_t errors_before = diags_.error_count();
    auto high = end(dots == std::string_view::npos ? rest : rest.substr(dots + 2));
    auto low = dots == std::string_view::npos ? high : end(rest.substr(0, dots));
    if (diags_.error_count() > errors_before) return std::nullopt;
    if (!low || !high || !high->unit) return bad();
    const support::Unit& low_unit = low->unit ? *low->unit : *high->unit;
    if (!(low_unit.dimension == high->unit->dimension)) return bad();
    d.low = support::Quantity{low->value, low_unit}.in_base();
    d.high = support::Quantity{high->value, *high->unit}.in_base();
    d.dimension = high->unit->dimension;
    if (support::compare_numbers(d.low, d.high) > 0) {
      diags_.report(DiagId::inverted_range, range(node), fmt::format("{}", low->value),
                    fmt::format("{}", high->value));
      return std::nullopt;
    }
    return d;
  }

 public:
  static bool rule_matches(std::string_view pattern, std::string_view name) {
    if (pattern.ends_with('*')) return name.starts_with(pattern.substr(0, pattern.size() - 1));
    return pattern == name;
  }

 private:
  Knowledge& knowledge_;
  kb::YamlSource src_;
  support::DiagnosticEngine& diags_;
};

std::optional<std::string> detail_mismatch(const DetailExpectation& expected, const AdviceView& advice) {
  std::vector<std::string> seen;
  for (const DetailView& d : advice.details) {
    if (d.key != expected.key) continue;
    auto dimension = shown_dimension(d.shown);
    if (!dimension || !(*dimension == expected.dimension)) {
      seen.push_back(d.shown + " (" + (dimension ? support::describe(*dimension) : std::string("no unit")) +
                     ")");
      continue;
    }
    bool holds = false;
    switch (expected.relation) {
      case RangeRelation::equals:
        holds = same_number(d.low, expected.low) && same_number(d.high, expected.high);
        break;
      case RangeRelation::within:
        holds = support::compare_numbers(d.low, expected.low) >= 0 &&
                support::compare_numbers(d.high, expected.high) <= 0;
        break;
      case RangeRelation::contains:
        holds = support::compare_numbers(d.low, expected.low) <= 0 &&
                support::compare_numbers(d.high, expected.high) >= 0;
        break;
    }
    if (holds) return std::nullopt;
    seen.push_back(d.shown);
  }
  if (seen.empty()) return "has no '" + expected.key + "' detail";
  return expected.key + " is " + join(seen, " and ") + ", expected " + expected.written;
}

std::optional<std::string> rule_mismatch(const Expectation& e, const std::string& rule) {
  if (e.rule && !CaseReader::rule_matches(*e.rule, rule)) return "rule is " + rule + ", not " + *e.rule;
  return std::nullopt;
}

std::string bound_text(const StrengthBound& b, const std::string& value) {
  switch (b.op) {
    case StrengthBound::Op::equal:
      return value;
    case StrengthBound::Op::at_least:
      return ">= " + value;
    case StrengthBound::Op::at_most:
      return "<= " + value;
  }
  return value;
}

std::string severity_name(int strength) {
  return strength >= 1 && strength <= 4 ? std::string(kSeverities[static_cast<std::size_t>(strength - 1)])
                                        : "?";
}

}  // namespace

bool StrengthBound::admits(int value) const {
  switch (op) {
    case Op::equal:
      return value == strength;
    case Op::at_least:
      return value >= strength;
    case Op::at_most:
      return value <= strength;
  }
  return false;
}

std::optional<GoldenCase> read_case(Knowledge& knowledge, const std::string& path,
                                    support::DiagnosticEngine& diags) {
  auto loaded = knowledge.sources->load_file(path);
  if (loaded.failure) {
    parser::report_load_failure(*knowledge.sources, loaded.id, *loaded.failure, diags);
    return std::nullopt;
  }
  return CaseReader(knowledge, loaded.id, diags).run();
}

std::optional<GoldenCase> read_case_text(Knowledge& knowledge, std::string name, std::string text,
                                         support::DiagnosticEngine& diags) {
  if (auto failure = support::SourceManager::validate_text(text)) {
    auto id = knowledge.sources->add_buffer(std::move(name), "");
    parser::report_load_failure(*knowledge.sources, id, *failure, diags);
    return std::nullopt;
  }
  auto id = knowledge.sources->add_buffer(std::move(name), std::move(text));
  return CaseReader(knowledge, id, diags).run();
}

bool load_case_patient(Knowledge& knowledge, const GoldenCase& golden, inference::Engine& engine,
                       support::DiagnosticEngine& diags) {
  return load_patient_text(knowledge, golden.path, golden.patient_text, engine, diags);
}

std::optional<std::string> mismatch(const Expectation& e, const AdviceView& advice) {
  if (e.needs) return "is advice, not a needs-data item";
  const std::string kind(inference::advice_kind_name(advice.kind));
  if (e.kind && *e.kind != advice.kind)
    return "is " + kind + ", not " + std::string(inference::advice_kind_name(*e.kind));
  if (auto m = rule_mismatch(e, advice.rule)) return m;
  if (e.subject && lower(*e.subject) != lower(advice.subject))
    return advice.subject.empty() ? "has no subject, not " + *e.subject
                                  : "is about " + advice.subject + ", not " + *e.subject;
  if (e.severity) {
    if (advice.severity.empty()) return "has no severity";
    if (!e.severity->admits(severity_strength(advice.severity)))
      return "severity is " + advice.severity + ", not " +
             bound_text(*e.severity, severity_name(e.severity->strength));
  }
  if (e.grade) {
    if (!advice.grade) return "has no grade";
    if (!e.grade->admits(grade_strength(advice.grade)))
      return "grade is " + grade_name(advice.grade) + ", not " +
             bound_text(*e.grade, grade_name(static_cast<char>('E' - e.grade->strength)));
  }
  for (const std::string& key : e.citations)
    if (std::none_of(advice.citations.begin(), advice.citations.end(),
                     [&](const CitationView& c) { return c.key == key; }))
      return "does not cite " + key;
  for (const DetailExpectation& d : e.details)
    if (auto m = detail_mismatch(d, advice)) return m;
  const std::string text = lower(advice.text);
  for (const std::string& phrase : e.phrases)
    if (text.find(lower(phrase)) == std::string::npos) return "text does not say '" + phrase + "'";
  return std::nullopt;
}

std::optional<std::string> mismatch(const Expectation& e, const NeedsDataView& needs) {
  if (!e.needs) return "is a needs-data item, not advice";
  if (auto m = rule_mismatch(e, needs.rule)) return m;
  std::vector<std::string> labels;
  for (const MissingView& m : needs.missing) labels.push_back(m.label);
  if (std::none_of(labels.begin(), labels.end(),
                   [&](const std::string& l) { return lower(l) == lower(*e.needs); }))
    return "needs " + join(labels) + ", not " + *e.needs;
  // What is held back: "recommend sirolimus", "warn high".
  auto at_stake = [&](const std::string& summary) {
    if (e.kind && !summary.starts_with(inference::advice_kind_name(*e.kind))) return false;
    return !e.subject || lower(summary).ends_with(" " + lower(*e.subject));
  };
  if ((e.kind || e.subject) && std::none_of(needs.at_stake.begin(), needs.at_stake.end(), at_stake))
    return "holds back " + join(needs.at_stake) + ", not " +
           (e.kind ? std::string(inference::advice_kind_name(*e.kind)) : "") +
           (e.subject ? " " + *e.subject : "");
  return std::nullopt;
}

std::string describe(const AdviceView& advice) {
  std::string out(inference::advice_kind_name(advice.kind));
  if (!advice.severity.empty()) out += " " + advice.severity;
  if (!advice.subject.empty()) out += " " + advice.subject;
  out += " [" + advice.rule + "]";
  std::vector<std::string> details;
  for (const DetailView& d : advice.details) details.push_back(d.key + " " + d.shown);
  if (!details.empty()) out += " " + join(details);
  out += "; grade " + grade_name(advice.grade);
  std::vector<std::string> keys;
  for (const CitationView& c : advice.citations) keys.push_back(c.key);
  out += "; cites " + join(keys);
  constexpr std::size_t kShownText = 100;
  std::string text =
      advice.text.size() > kShownText ? advice.text.substr(0, kShownText) + "..." : advice.text;
  return out + ": \"" + text + "\"";
}

std::string describe(const NeedsDataView& needs) {
  std::vector<std::string> missing;
  for (const MissingView& m : needs.missing) missing.push_back(m.label + " (" + m.reason + ")");
  return "needs data [" + needs.rule + "] " + join(missing) + " for: " + join(needs.at_stake);
}

std::vector<Failure> check_case(const GoldenCase& golden, const Consultation& consultation) {
  std::vector<Failure> failures;
  auto matches = [](const Expectation& e, const auto& item) { return !mismatch(e, item); };
  for (const Expectation& e : golden.must) {
    bool met = e.needs ? std::any_of(consultation.needs_data.begin(), consultation.needs_data.end(),
                                     [&](const NeedsDataView& n) { return matches(e, n); })
                       : std::any_of(consultation.advice.begin(), consultation.advice.end(),
                                     [&](const AdviceView& a) { return matches(e, a); });
    if (met) continue;
    Failure f{&e, true, {}};
    if (e.needs) {
      for (const NeedsDataView& n : consultation.needs_data)
        f.explanation.push_back(describe(n) + ": " + *mismatch(e, n));
      if (f.explanation.empty()) f.explanation.push_back("no data is needed");
    } else {
      // The nearest items: those of the expected kind, else everything said.
      bool any_of_kind = e.kind && std::any_of(consultation.advice.begin(), consultation.advice.end(),
                                               [&](const AdviceView& a) { return a.kind == *e.kind; });
      if (e.kind && !any_of_kind)
        f.explanation.push_back(fmt::format("no {} advice", inference::advice_kind_name(*e.kind)));
      for (const AdviceView& a : consultation.advice)
        if (!any_of_kind || a.kind == *e.kind)
          f.explanation.push_back(fmt::format("#{} {}: {}", a.number, describe(a), *mismatch(e, a)));
      // Advice held back for missing data is often the reason a must fails: the items that
      // hold back advice of the expected rule and kind, each once.
      std::set<std::string> held;
      for (const NeedsDataView& n : consultation.needs_data) {
        if (e.rule && !CaseReader::rule_matches(*e.rule, n.rule)) continue;
        const std::string kind = e.kind ? std::string(inference::advice_kind_name(*e.kind)) : "";
        if (std::none_of(n.at_stake.begin(), n.at_stake.end(),
                         [&](const std::string& s) { return s.starts_with(kind); }))
          continue;
        if (held.insert(describe(n)).second) f.explanation.push_back("held back: " + describe(n));
      }
      if (consultation.advice.empty()) f.explanation.push_back("no advice at all");
    }
    failures.push_back(std::move(f));
  }
  for (const Expectation& e : golden.must_not) {
    Failure f{&e, false, {}};
    if (e.needs) {
      for (const NeedsDataView& n : consultation.needs_data)
        if (matches(e, n)) f.explanation.push_back(describe(n));
    } else {
      for (const AdviceView& a : consultation.advice)
        if (matches(e, a)) f.explanation.push_back(fmt::format("#{} {}", a.number, describe(a)));
    }
    if (!f.explanation.empty()) failures.push_back(std::move(f));
  }
  return failures;
}

namespace {

std::vector<std::string> advice_differences(const AdviceView& before, const AdviceView& after) {
  std::vector<std::string> what;
  std::map<std::string, std::string> old_details, new_details;
  for (const DetailView& d : before.details) old_details[d.key] = d.shown;
  for (const DetailView& d : after.details) new_details[d.key] = d.shown;
  for (const auto& [key, shown] : old_details) {
    auto now = new_details.find(key);
    if (now == new_details.end())
      what.push_back(key + " " + shown + " removed");
    else if (now->second != shown)
      what.push_back(key + " " + shown + " -> " + now->second);
  }
  for (const auto& [key, shown] : new_details)
    if (!old_details.contains(key)) what.push_back(key + " " + shown + " added");
  if (before.severity != after.severity)
    what.push_back("severity " + before.severity + " -> " + after.severity);
  if (before.grade != after.grade)
    what.push_back("grade " + grade_name(before.grade) + " -> " + grade_name(after.grade));
  std::set<std::string> old_keys, new_keys;
  for (const CitationView& c : before.citations) old_keys.insert(c.key);
  for (const CitationView& c : after.citations) new_keys.insert(c.key);
  for (const auto& key : new_keys)
    if (!old_keys.contains(key)) what.push_back("cites " + key);
  for (const auto& key : old_keys)
    if (!new_keys.contains(key)) what.push_back("no longer cites " + key);
  if (before.text != after.text) what.push_back("text changed");
  return what;
}

/// Pairs items of two lists by `key`, items with the same text first: f(before or null, after or null).
template <class Item, class Key, class Same, class F>
void pair_up(const std::vector<Item>& before, const std::vector<Item>& after, Key key, Same same, F f) {
  std::vector<bool> used(after.size(), false);
  std::vector<const Item*> unpaired;
  auto find = [&](const Item& b, bool exact) -> const Item* {
    for (std::size_t i = 0; i < after.size(); ++i)
      if (!used[i] && key(after[i]) == key(b) && (!exact || same(after[i], b))) {
        used[i] = true;
        return &after[i];
      }
    return nullptr;
  };
  std::vector<std::pair<const Item*, const Item*>> pairs;
  for (const Item& b : before)
    if (const Item* a = find(b, true))
      pairs.emplace_back(&b, a);
    else
      unpaired.push_back(&b);
  for (const Item* b : unpaired) pairs.emplace_back(b, find(*b, false));
  for (auto [b, a] : pairs) f(b, a);
  for (std::size_t i = 0; i < after.size(); ++i)
    if (!used[i]) f(static_cast<const Item*>(nullptr), &after[i]);
}

}  // namespace

std::vector<AdviceChange> compare(const Consultation& before, const Consultation& after) {
  std::vector<AdviceChange> changes;
  auto advice_key = [](const AdviceView& a) { return std::tuple(a.rule, a.kind, a.subject); };
  auto same_advice = [](const AdviceView& a, const AdviceView& b) { return a.text == b.text; };
  pair_up(before.advice, after.advice, advice_key, same_advice,
          [&](const AdviceView* b, const AdviceView* a) {
            if (!b)
              changes.push_back({AdviceChange::Kind::gained, describe(*a), {}});
            else if (!a)
              changes.push_back({AdviceChange::Kind::lost, describe(*b), {}});
            else if (auto what = advice_differences(*b, *a); !what.empty())
              changes.push_back({AdviceChange::Kind::changed, describe(*a), std::move(what)});
          });
  auto needs_key = [](const NeedsDataView& n) { return n.rule; };
  auto same_needs = [](const NeedsDataView& a, const NeedsDataView& b) { return describe(a) == describe(b); };
  pair_up(before.needs_data, after.needs_data, needs_key, same_needs,
          [&](const NeedsDataView* b, const NeedsDataView* a) {
            if (!b)
              changes.push_back({AdviceChange::Kind::gained, describe(*a), {}});
            else if (!a)
              changes.push_back({AdviceChange::Kind::lost, describe(*b), {}});
            else if (describe(*a) != describe(*b))
              changes.push_back({AdviceChange::Kind::changed, describe(*a), {"was: " + describe(*b)}});
          });
  return changes;
}

std::vector<std::string> fired_rules(const inference::Engine& engine) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < engine.firing_count(); ++i)
    names.insert(engine.rules().rules[engine.firing(static_cast<inference::FiringId>(i)).rule].name);
  return {names.begin(), names.end()};
}

}  // namespace rapa::consult
