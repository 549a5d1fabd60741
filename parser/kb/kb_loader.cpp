// Reads kb YAML files into the KnowledgeBase: the shape of each section and entry, the value of
// each field, duplicates within and across files, and references between entries.
//
// Policy: an entry is dropped when its identity (key, id, code, name) is missing, malformed or
// already defined, or when a field it cannot work without is missing or invalid (a source
// without a level, a lab test whose unit does not parse). Otherwise it is kept, so that a typo
// in an optional field does not also turn into "unknown source" errors in every rule file.
// What is kept always satisfies the invariants of knowledge_base.hpp.
#include "parser/kb/kb_loader.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "parser/kb/yaml_source.hpp"
#include "support/suggest.hpp"
#include "support/units.hpp"

namespace rapa::kb {
namespace {

using support::DiagId;
using support::DiagnosticEngine;
using support::SourceRange;

/// Nodes one file may visit. yaml-cpp shares aliased nodes instead of copying them, so a
/// "billion laughs" file is small in memory; only walking it is expensive, and this bounds it.
constexpr std::size_t kNodeBudget = 1'000'000;

/// Edit-distance work (roughly cells of the dynamic-programming table) spent on "did you mean"
/// per file: generous for any real kb, and a bound for a fuzzer's thousands of misspellings.
constexpr std::size_t kSuggestionBudget = 50'000'000;

struct NodeBudgetExceeded {
  SourceRange where;
};

class Suggester {
 public:
  std::optional<std::string> operator()(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
    if (word.empty() || word.size() > 64) return std::nullopt;
    const std::size_t cost = candidates.size() * (word.size() + 1) * (word.size() + 8);
    if (cost > budget_) return std::nullopt;
    budget_ -= cost;
    return support::closest_match(word, candidates);
  }

 private:
  std::size_t budget_ = kSuggestionBudget;
};

char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string folded(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(), fold);
  return result;
}

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// [a-z0-9_]+ : source keys and drug ids.
bool is_key(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_lower(c) || is_digit(c) || c == '_'; });
}
/// [a-z][a-z0-9_]* : lab ids, fact type and slot names.
bool is_name(std::string_view s) { return !s.empty() && is_lower(s[0]) && is_key(s); }
/// [A-Za-z][A-Za-z0-9_]* : diagnosis codes ("ITP", "CTD_TP").
bool is_code(std::string_view s) {
  return !s.empty() && (is_lower(s[0]) || is_upper(s[0])) &&
         std::all_of(s.begin(), s.end(),
                     [](char c) { return is_lower(c) || is_upper(c) || is_digit(c) || c == '_'; });
}

constexpr std::string_view kKeyRule = "lower-case letters, digits and '_'";
constexpr std::string_view kNameRule = "lower-case letters, digits and '_', starting with a letter";
constexpr std::string_view kCodeRule = "letters, digits and '_', starting with a letter";

/// "a, b or c"
std::string alternatives(std::span<const std::string_view> words) {
  std::string result;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) result += i + 1 == words.size() ? " or " : ", ";
    result += words[i];
  }
  return result;
}

template <class E>
struct Choice {
  std::string_view word;
  E value;
};

constexpr Choice<Modulation::Role> kRoles[] = {{"inhibitor", Modulation::Role::inhibitor},
                                               {"inducer", Modulation::Role::inducer},
                                               {"substrate", Modulation::Role::substrate}};
constexpr Choice<Modulation::Strength> kStrengths[] = {
    {"strong", Modulation::Strength::strong},
    {"moderate", Modulation::Strength::moderate},
    {"weak", Modulation::Strength::weak},
    {"unclassified", Modulation::Strength::unclassified}};
constexpr Choice<FactType::Kind> kKinds[] = {{"input", FactType::Kind::input},
                                             {"derived", FactType::Kind::derived},
                                             {"kb", FactType::Kind::kb}};
constexpr Choice<FactType::Absent> kAbsences[] = {{"none", FactType::Absent::none},
                                                   {"unknown", FactType::Absent::unknown}};
constexpr Choice<Slot::Type> kSlotTypes[] = {{"symbol", Slot::Type::symbol},
                                             {"quantity", Slot::Type::quantity},
                                             {"text", Slot::Type::text},
                                             {"integer", Slot::Type::integer},
                                             {"boolean", Slot::Type::boolean}};
constexpr Choice<int> kVocabularies[] = {{"drugs", 0}, {"diagnoses", 1}, {"labs", 2}};
constexpr Choice<bool> kBooleans[] = {{"true", true},   {"false", false}, {"True", true},
                                      {"False", false}, {"TRUE", true},   {"FALSE", false}};

constexpr std::string_view kSections[] = {"sources", "drugs", "diagnoses", "labs", "facts"};
constexpr std::string_view kSourceFields[] = {"key",    "citation", "doi",           "url", "design",
                                              "n",      "level",    "level_derived", "note"};
constexpr std::string_view kDrugFields[] = {"id",      "class", "brands", "chinese",
                                            "aliases", "cyp3a4", "pgp"};
constexpr std::string_view kModulationFields[] = {"role", "strength", "source"};
constexpr std::string_view kDiagnosisFields[] = {"code", "name", "chinese"};
constexpr std::string_view kLabFields[] = {"id", "name", "unit"};
constexpr std::string_view kFactFields[] = {"name",   "kind", "description", "slots",
                                            "absent", "key",  "question"};
constexpr std::string_view kSlotFields[] = {"name", "type",      "vocabulary", "values",
                                            "unit", "unit_from", "description"};

struct Field {
  std::string name;
  YamlNode key;
  YamlNode value;
  SourceRange key_range;
};

/// One mapping read into its known fields (first occurrence of each) and its unknown ones.
struct Entry {
  YamlNode node;
  SourceRange range;  // the identity's value once known, else the mapping
  std::string what;   // "source 'csh2025'", for messages
  std::vector<Field> fields;
  std::vector<Field> unknown;
  /// Fields an unknown one was taken to be a misspelling of ("citaton" for "citation"): their
  /// absence is already explained, so it is not reported again.
  std::vector<std::string> suggested;

  const Field* get(std::string_view name) const {
    for (const auto& f : fields)
      if (f.name == name) return &f;
    return nullptr;
  }
};

/// Names already defined, with where: one table per kind of entry.
class Defined {
 public:
  /// Records a definition; returns the earlier one's range when the name was taken.
  std::optional<SourceRange> add(std::string_view name, SourceRange range) {
    auto [it, inserted] = names_.try_emplace(std::string(name), range);
    if (inserted) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, SourceRange, std::less<>> names_;
};

class Loader {
 public:
  Loader(const support::SourceManager& sources, support::FileId file, KnowledgeBase& kb,
         DiagnosticEngine& diags)
      : src_(sources, file), kb_(kb), diags_(diags) {
    for (const auto& s : kb.sources) source_keys_.add(s.key, s.range);
    for (const auto& d : kb.drugs) {
      drug_ids_.add(d.id, d.range);
      add_drug_name(d.id, d.id, d.range);
      for (const auto* names : {&d.brands, &d.chinese, &d.aliases})
        for (const auto& name : *names) add_drug_name(name, d.id, d.range);
    }
    for (const auto& d : kb.diagnoses) diagnosis_codes_.add(d.code, d.range);
    for (const auto& l : kb.labs) lab_ids_.add(l.id, l.range);
    for (const auto& f : kb.fact_types) fact_names_.add(f.name, f.range);
  }

  void run();
  SourceRange whole_file() const { return src_.range_at(0, 0); }

 private:
  // Walking YAML.
  void tick(const YamlNode& node) {
    if (++visited_ > kNodeBudget) throw NodeBudgetExceeded{src_.range(node, whole_file())};
  }
  SourceRange value_range(const Field& f) const { return src_.range(f.value, f.key_range); }
  Entry collect(const YamlNode& map, std::span<const std::string_view> allowed);
  void report_unknown_fields(Entry& entry, std::span<const std::string_view> allowed);
  void load_section(std::string_view section, const YamlNode& list);

  // Reading fields; each reports its own problems.
  /// Reports a required field as missing, unless a misspelling of it was reported already.
  void missing(const Entry& e, std::string_view field);
  std::optional<std::string> text(const Entry& e, std::string_view field, bool required,
                                  std::string_view expected = "a string");
  std::optional<std::vector<std::pair<std::string, SourceRange>>> text_list(const Entry& e,
                                                                            std::string_view field);
  template <class E>
  std::optional<E> choice(const Entry& e, std::string_view field, bool required, std::string_view noun,
                          std::span<const Choice<E>> choices, bool suggest = true);
  /// How an entry is identified and described in messages.
  struct Identity {
    std::string_view field;      // "key"
    std::string_view noun;       // "source key", for a malformed value
    std::string_view rule;       // what a well-formed value looks like
    bool (*valid)(std::string_view);
    std::string anonymous;       // "entry of 'sources'", before the identity is known
    std::string_view prefix;     // "source" -> "source 'csh2025'"
    std::string suffix = {};     // " of fact type 'lab'"
  };
  /// Reads the identity field (present, a string, well formed), sets e.range and e.what, and
  /// reports the entry's unknown fields.
  std::optional<std::string> identity(Entry& e, const Identity& id,
                                      std::span<const std::string_view> allowed);
  std::optional<support::Unit> unit(const Field& f);

  // Sections.
  void load_source(const YamlNode& node);
  void load_drug(const YamlNode& node);
  std::optional<Modulation> load_modulation(const Entry& drug, const Field& f);
  void load_diagnosis(const YamlNode& node);
  void load_lab(const YamlNode& node);
  void load_fact_type(const YamlNode& node);
  std::optional<Slot> load_slot(std::string_view fact, const YamlNode& node, Defined& slot_names,
                                SourceRange& unit_from_range);

  void add_drug_name(std::string_view name, std::string_view drug, SourceRange range) {
    drug_names_.try_emplace(folded(name), DrugName{std::string(drug), range});  // braces: clang 14 has no parenthesised aggregate init
  }

  YamlSource src_;
  KnowledgeBase& kb_;
  DiagnosticEngine& diags_;
  Suggester suggest_;
  std::size_t visited_ = 0;
  Defined source_keys_, drug_ids_, diagnosis_codes_, lab_ids_, fact_names_;
  struct DrugName {
    std::string drug;
    SourceRange range;
  };
  std::map<std::string, DrugName, std::less<>> drug_names_;  // folded spelling -> owner
};

void Loader::run() {
  auto documents = src_.parse(diags_);
  if (!documents) return;
  bool any_content = false;
  for (const auto& document : *documents) {
    tick(document);
    if (document.is_null()) continue;
    if (!document.is_map()) {
      diags_.report(DiagId::yaml_not_a_map, src_.range(document, whole_file()),
                    "the top level of a kb file");
      any_content = true;
      continue;
    }
    Defined seen_sections;
    for (std::size_t i = 0; i < document.size(); ++i) {
      any_content = true;
      const YamlNode key = document.key(i);
      const YamlNode value = document.value(i);
      tick(key);
      tick(value);
      const auto key_range = src_.range(key, whole_file());
      if (!key.is_scalar()) {
        diags_.report(DiagId::yaml_key_not_string, key_range);
        continue;
      }
      const std::string& name = key.scalar();
      if (std::find(std::begin(kSections), std::end(kSections), name) == std::end(kSections)) {
        auto builder = diags_.report(DiagId::yaml_unknown_section, key_range, shown(name),
                                     "sources, drugs, diagnoses, labs, facts");
        if (auto match = suggest_(name, {std::begin(kSections), std::end(kSections)}))
          builder.suggest(*match);
        continue;
      }
      if (auto previous = seen_sections.add(name, key_range)) {
        diags_.report(DiagId::yaml_duplicate, key_range, "section", name)
            .note(*previous, DiagId::note_previous_definition);
      }
      if (value.is_null()) continue;  // "sources:" with nothing under it yet
      if (!value.is_sequence()) {
        diags_.report(DiagId::yaml_not_a_list, src_.range(value, key_range),
                      fmt::format("section '{}'", name));
        continue;
      }
      load_section(name, value);
    }
  }
  if (!any_content) diags_.report(DiagId::yaml_empty_document, whole_file());
}

void Loader::load_section(std::string_view section, const YamlNode& list) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YamlNode item = list.item(i);
    tick(item);
    if (!item.is_map()) {
      diags_.report(DiagId::yaml_not_a_map, src_.range(item, whole_file()),
                    fmt::format("each entry of '{}'", section));
      continue;
    }
    if (section == "sources")
      load_source(item);
    else if (section == "drugs")
      load_drug(item);
    else if (section == "diagnoses")
      load_diagnosis(item);
    else if (section == "labs")
      load_lab(item);
    else
      load_fact_type(item);
  }
}

Entry Loader::collect(const YamlNode& map, std::span<const std::string_view> allowed) {
  Entry entry;
  entry.node = map;
  entry.range = src_.range(map, whole_file());
  for (std::size_t i = 0; i < map.size(); ++i) {
    const YamlNode key = map.key(i);
    const YamlNode value = map.value(i);
    tick(key);
    tick(value);
    const auto key_range = src_.range(key, entry.range);
    if (!key.is_scalar()) {
      diags_.report(DiagId::yaml_key_not_string, key_range);
      continue;
    }
    Field field{key.scalar(), key, value, key_range};
    if (std::find(allowed.begin(), allowed.end(), field.name) == allowed.end()) {
      entry.unknown.push_back(std::move(field));
      continue;
    }
    if (const auto* previous = entry.get(field.name)) {
      diags_.report(DiagId::yaml_duplicate, key_range, "field", field.name)
          .note(previous->key_range, DiagId::note_previous_definition);
      continue;
    }
    entry.fields.push_back(std::move(field));
  }
  return entry;
}

void Loader::report_unknown_fields(Entry& entry, std::span<const std::string_view> allowed) {
  for (const auto& f : entry.unknown) {
    auto builder = diags_.report(DiagId::yaml_unknown_field, f.key_range, shown(f.name), entry.what);
    if (auto match = suggest_(f.name, {allowed.begin(), allowed.end()})) {
      builder.suggest(*match);
      entry.suggested.push_back(*match);
    }
  }
}

void Loader::missing(const Entry& e, std::string_view field) {
  if (std::find(e.suggested.begin(), e.suggested.end(), field) != e.suggested.end()) return;
  diags_.report(DiagId::yaml_missing_field, e.range, e.what, field);
}

std::optional<std::string> Loader::text(const Entry& e, std::string_view field, bool required,
                                        std::string_view expected) {
  const Field* f = e.get(field);
  if (!f) {
    if (required) missing(e, field);
    return std::nullopt;
  }
  if (!f->value.is_scalar()) {
    diags_.report(DiagId::yaml_wrong_type, value_range(*f), field, expected);
    return std::nullopt;
  }
  return f->value.scalar();
}

std::optional<std::vector<std::pair<std::string, SourceRange>>> Loader::text_list(
    const Entry& e, std::string_view field) {
  std::vector<std::pair<std::string, SourceRange>> result;
  const Field* f = e.get(field);
  if (!f || f->value.is_null()) return result;
  if (!f->value.is_sequence()) {
    diags_.report(DiagId::yaml_wrong_type, value_range(*f), field, "a list of strings");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < f->value.size(); ++i) {
    const YamlNode item = f->value.item(i);
    tick(item);
    const auto range = src_.range(item, value_range(*f));
    if (!item.is_scalar()) {
      diags_.report(DiagId::yaml_wrong_type, range, field, "a list of strings");
      continue;
    }
    result.emplace_back(item.scalar(), range);
  }
  return result;
}

template <class E>
std::optional<E> Loader::choice(const Entry& e, std::string_view field, bool required,
                                std::string_view noun, std::span<const Choice<E>> choices,
                                bool suggest) {
  // Only the lower-case spellings are advertised (booleans also accept True and TRUE).
  std::vector<std::string_view> advertised;
  for (const auto& c : choices)
    if (!(c.word[0] >= 'A' && c.word[0] <= 'Z')) advertised.push_back(c.word);
  const std::string expected =
      noun == "boolean" ? "true or false" : "one of " + alternatives(advertised);
  const auto value = text(e, field, required, expected);
  if (!value) return std::nullopt;
  for (const auto& c : choices)
    if (c.word == *value) return c.value;
  auto builder = diags_.report(DiagId::yaml_bad_value, value_range(*e.get(field)), shown(*value),
                               noun, alternatives(advertised));
  if (suggest && value->size() >= 3)
    if (auto match = suggest_(*value, advertised)) builder.suggest(*match);
  return std::nullopt;
}

std::optional<std::string> Loader::identity(Entry& e, const Identity& id,
                                            std::span<const std::string_view> allowed) {
  e.what = id.anonymous;
  const Field* f = e.get(id.field);
  if (f) e.range = value_range(*f);
  const bool well_formed = f && f->value.is_scalar() && id.valid(f->value.scalar());
  if (well_formed) e.what = fmt::format("{} '{}'{}", id.prefix, shown(f->value.scalar()), id.suffix);
  report_unknown_fields(e, allowed);
  if (!f) {
    missing(e, id.field);
    return std::nullopt;
  }
  if (!f->value.is_scalar()) {
    diags_.report(DiagId::yaml_wrong_type, e.range, id.field, "a string");
    return std::nullopt;
  }
  if (!well_formed) {
    diags_.report(DiagId::yaml_bad_value, e.range, shown(f->value.scalar()), id.noun, id.rule);
    return std::nullopt;
  }
  return f->value.scalar();
}

std::optional<support::Unit> Loader::unit(const Field& f) {
  const auto range = value_range(f);
  if (!f.value.is_scalar()) {
    diags_.report(DiagId::yaml_wrong_type, range, f.name, "a unit such as 'mg/day'");
    return std::nullopt;
  }
  auto parsed = support::parse_unit(f.value.scalar());
  if (parsed.unit) return std::move(parsed.unit);
  // Point at the offending character: skip an opening quote, stay within the value.
  const auto text = src_.text();
  std::uint32_t begin = range.begin;
  std::uint32_t end = range.end;
  if (begin < text.size() && (text[begin] == '"' || text[begin] == '\'')) {
    ++begin;
    if (end > begin) --end;
  }
  const auto at = std::min<std::uint64_t>(begin + parsed.error->offset, end);
  const auto at32 = static_cast<std::uint32_t>(at);
  diags_.report(DiagId::unknown_unit, src_.range_at(at32, std::max(at32, end)), parsed.error->message);
  return std::nullopt;
}

void Loader::load_source(const YamlNode& node) {
  Entry e = collect(node, kSourceFields);
  const auto key = identity(e, {"key", "source key", kKeyRule, is_key, "entry of 'sources'", "source"},
                            kSourceFields);
  if (!key) return;
  if (auto previous = source_keys_.add(*key, e.range)) {
    diags_.report(DiagId::yaml_duplicate, e.range, "source", *key)
        .note(*previous, DiagId::note_previous_definition);
    return;
  }
  Source source;
  source.key = *key;
  source.range = e.range;
  bool ok = true;
  if (auto v = text(e, "citation", true)) source.citation = *v; else ok = false;
  if (auto v = text(e, "design", true)) source.design = *v; else ok = false;
  const auto doi = text(e, "doi", false);
  const auto url = text(e, "url", false);
  if (doi) source.doi = *doi;
  if (url) source.url = *url;
  if (!e.get("doi") && !e.get("url")) {
    diags_.report(DiagId::yaml_missing_either, e.range, e.what, "doi", "url");
    ok = false;
  } else if (!doi && !url) {
    ok = false;  // both present but malformed: already reported
  }
  if (auto note = text(e, "note", false)) source.note = *note;
  if (const Field* f = e.get("n"); f) {
    if (auto v = text(e, "n", false, "a non-negative integer")) {
      // Digits only, and few enough that the value cannot overflow: checked before any arithmetic.
      std::int64_t n = 0;
      const bool valid = !v->empty() && v->size() <= 12 && std::all_of(v->begin(), v->end(), is_digit);
      if (valid)
        for (char c : *v) n = n * 10 + (c - '0');
      if (valid)
        source.n = n;
      else
        diags_.report(DiagId::yaml_bad_value, value_range(*f), shown(*v), "number of patients",
                      "a non-negative integer");
    }
  }
  if (auto level = text(e, "level", true)) {
    const Field& f = *e.get("level");
    source.level_range = value_range(f);
    if (auto parsed = EvidenceLevel::parse(*level)) {
      source.level = *parsed;
    } else {
      auto builder = diags_.report(DiagId::yaml_bad_value, source.level_range, shown(*level),
                                   "evidence level",
                                   "1a, 1b, 1c, 2a, 2b, 2c, 3a, 3b, 4, 5, label or secondary");
      if (level->size() >= 3)
        if (auto match = suggest_(*level, {"label", "secondary"})) builder.suggest(*match);
      ok = false;
    }
  } else {
    ok = false;
  }
  if (auto derived = choice<bool>(e, "level_derived", true, "boolean", kBooleans, false))
    source.level_derived = *derived;
  else
    ok = false;
  if (ok) kb_.sources.push_back(std::move(source));
}

std::optional<Modulation> Loader::load_modulation(const Entry& drug, const Field& f) {
  if (!f.value.is_map()) {
    diags_.report(DiagId::yaml_wrong_type, value_range(f), f.name, "a mapping of fields");
    return std::nullopt;
  }
  Entry e = collect(f.value, kModulationFields);
  e.what = fmt::format("'{}' of {}", f.name, drug.what);
  e.range = f.key_range;
  report_unknown_fields(e, kModulationFields);
  const auto role = choice<Modulation::Role>(e, "role", true, "role", kRoles);
  const auto strength = choice<Modulation::Strength>(e, "strength", true, "strength", kStrengths);
  const auto source = text(e, "source", true);
  if (!role || !strength || !source) return std::nullopt;
  Modulation m{*role, *strength, *source, f.key_range, value_range(*e.get("source"))};
  return m;
}

void Loader::load_drug(const YamlNode& node) {
  Entry e = collect(node, kDrugFields);
  const auto id = identity(e, {"id", "drug id", kKeyRule, is_key, "entry of 'drugs'", "drug"}, kDrugFields);
  if (!id) return;
  if (auto previous = drug_ids_.add(*id, e.range)) {
    diags_.report(DiagId::yaml_duplicate, e.range, "drug", *id)
        .note(*previous, DiagId::note_previous_definition);
    return;
  }
  Drug drug;
  drug.id = *id;
  drug.range = e.range;
  if (auto v = text(e, "class", false)) drug.drug_class = *v;
  std::vector<std::pair<std::string, SourceRange>> names{{*id, e.range}};
  for (auto [field, list] : {std::pair{"brands", &drug.brands}, std::pair{"chinese", &drug.chinese},
                             std::pair{"aliases", &drug.aliases}}) {
    if (auto items = text_list(e, field)) {
      for (auto& [name, range] : *items) {
        list->push_back(name);
        names.emplace_back(std::move(name), range);
      }
    }
  }
  // Every spelling must lead to one drug only.
  for (const auto& [name, range] : names) {
    const auto key = folded(name);
    auto it = drug_names_.find(key);
    if (it == drug_names_.end()) {
      drug_names_.emplace(key, DrugName{drug.id, range});
      continue;
    }
    if (it->second.drug == drug.id) continue;  // the same drug spelling a name twice
    diags_.report(DiagId::yaml_name_clash, range, shown(name), "drug", drug.id, "drug", it->second.drug)
        .note(it->second.range, DiagId::note_previous_definition);
  }
  if (const Field* f = e.get("cyp3a4")) drug.cyp3a4 = load_modulation(e, *f);
  if (const Field* f = e.get("pgp")) drug.pgp = load_modulation(e, *f);
  kb_.drugs.push_back(std::move(drug));
}

void Loader::load_diagnosis(const YamlNode& node) {
  Entry e = collect(node, kDiagnosisFields);
  const auto code = identity(
      e, {"code", "diagnosis code", kCodeRule, is_code, "entry of 'diagnoses'", "diagnosis"},
      kDiagnosisFields);
  if (!code) return;
  if (auto previous = diagnosis_codes_.add(*code, e.range)) {
    diags_.report(DiagId::yaml_duplicate, e.range, "diagnosis", *code)
        .note(*previous, DiagId::note_previous_definition);
    return;
  }
  Diagnosis diagnosis;
  diagnosis.code = *code;
  diagnosis.range = e.range;
  const auto name = text(e, "name", true);
  if (auto chinese = text_list(e, "chinese"))
    for (auto& [n, range] : *chinese) diagnosis.chinese.push_back(std::move(n));
  if (!name) return;
  diagnosis.name = *name;
  kb_.diagnoses.push_back(std::move(diagnosis));
}

void Loader::load_lab(const YamlNode& node) {
  Entry e = collect(node, kLabFields);
  const auto id =
      identity(e, {"id", "lab test id", kNameRule, is_name, "entry of 'labs'", "lab test"}, kLabFields);
  if (!id) return;
  if (auto previous = lab_ids_.add(*id, e.range)) {
    diags_.report(DiagId::yaml_duplicate, e.range, "lab test", *id)
        .note(*previous, DiagId::note_previous_definition);
    return;
  }
  LabTest lab;
  lab.id = *id;
  lab.range = e.range;
  const auto name = text(e, "name", true);
  std::optional<support::Unit> parsed;
  if (const Field* f = e.get("unit")) {
    lab.unit_range = value_range(*f);
    parsed = unit(*f);
  } else {
    missing(e, "unit");
  }
  if (!name || !parsed) return;
  lab.name = *name;
  lab.unit = std::move(*parsed);
  kb_.labs.push_back(std::move(lab));
}

void Loader::load_fact_type(const YamlNode& node) {
  Entry e = collect(node, kFactFields);
  const auto name = identity(
      e, {"name", "fact type name", kNameRule, is_name, "entry of 'facts'", "fact type"}, kFactFields);
  if (!name) return;
  if (auto previous = fact_names_.add(*name, e.range)) {
    diags_.report(DiagId::yaml_duplicate, e.range, "fact type", *name)
        .note(*previous, DiagId::note_previous_definition);
    return;
  }
  FactType fact;
  fact.name = *name;
  fact.range = e.range;
  const auto kind = choice<FactType::Kind>(e, "kind", true, "fact kind", kKinds);
  if (auto description = text(e, "description", false)) fact.description = *description;
  if (auto absent = choice<FactType::Absent>(e, "absent", false, "absence", kAbsences)) {
    // Derived and kb facts are complete by construction: their absence always means none.
    if (*absent == FactType::Absent::unknown && kind && *kind != FactType::Kind::input)
      diags_.report(DiagId::yaml_bad_value, value_range(*e.get("absent")), "unknown",
                    fmt::format("absence for a {} fact type", fact_kind_name(*kind)), "none");
    else
      fact.absent = *absent;
  }
  if (auto question = text(e, "question", false)) fact.question = *question;
  const auto key = text(e, "key", false);
  const Field* slots = e.get("slots");
  bool ok = kind.has_value();
  std::vector<SourceRange> unit_from_ranges;  // parallel to fact.slots
  if (!slots) {
    missing(e, "slots");
    ok = false;
  } else if (!slots->value.is_null() && !slots->value.is_sequence()) {
    diags_.report(DiagId::yaml_wrong_type, value_range(*slots), "slots", "a list of slots");
    ok = false;
  } else if (slots->value.is_sequence()) {
    Defined slot_names;
    for (std::size_t i = 0; i < slots->value.size(); ++i) {
      const YamlNode item = slots->value.item(i);
      tick(item);
      if (!item.is_map()) {
        diags_.report(DiagId::yaml_not_a_map, src_.range(item, value_range(*slots)),
                      fmt::format("each slot of {}", e.what));
        continue;
      }
      SourceRange unit_from_range;
      if (auto slot = load_slot(fact.name, item, slot_names, unit_from_range)) {
        fact.slots.push_back(std::move(*slot));
        unit_from_ranges.push_back(unit_from_range);
      }
    }
  }
  // lab.value takes its dimension from lab.test: the slot named by unit_from must be a symbol
  // drawn from the lab-test vocabulary. Slots that fail are dropped, keeping the invariant.
  std::vector<std::string_view> names;
  std::map<std::string_view, const Slot*> by_name;
  for (const auto& s : fact.slots) {
    names.push_back(s.name);
    by_name.emplace(s.name, &s);
  }
  std::vector<bool> keep(fact.slots.size(), true);
  for (std::size_t i = 0; i < fact.slots.size(); ++i) {
    const Slot& slot = fact.slots[i];
    if (slot.unit_from.empty()) continue;
    const auto found = by_name.find(slot.unit_from);
    const Slot* from = found == by_name.end() ? nullptr : found->second;
    if (!from) {
      auto builder = diags_.report(DiagId::unknown_slot, unit_from_ranges[i], fact.name, shown(slot.unit_from));
      if (auto match = suggest_(slot.unit_from, names)) builder.suggest(*match);
      keep[i] = false;
    } else if (from->type != Slot::Type::symbol || from->vocabulary != "labs") {
      diags_.report(DiagId::yaml_bad_unit_from, unit_from_ranges[i], slot.unit_from)
          .note(from->range, DiagId::note_declared_here, slot.unit_from);
      keep[i] = false;
    }
  }
  std::vector<Slot> kept;
  for (std::size_t i = 0; i < fact.slots.size(); ++i)
    if (keep[i]) kept.push_back(std::move(fact.slots[i]));
  fact.slots = std::move(kept);
  // A key naming no slot is dropped: the type is then asked about as a whole.
  if (key && !fact.find_slot(*key)) {
    std::vector<std::string_view> kept_names;
    for (const auto& s : fact.slots) kept_names.push_back(s.name);
    auto builder = diags_.report(DiagId::unknown_slot, value_range(*e.get("key")), fact.name, shown(*key));
    if (auto match = suggest_(*key, kept_names)) builder.suggest(*match);
  } else if (key) {
    fact.key = *key;
  }
  if (!ok) return;
  fact.kind = *kind;
  kb_.fact_types.push_back(std::move(fact));
}

std::optional<Slot> Loader::load_slot(std::string_view fact, const YamlNode& node,
                                      Defined& slot_names, SourceRange& unit_from_range) {
  Entry e = collect(node, kSlotFields);
  const auto name = identity(e,
                             {"name", "slot name", kNameRule, is_name,
                              fmt::format("slot of fact type '{}'", fact), "slot",
                              fmt::format(" of fact type '{}'", fact)},
                             kSlotFields);
  if (!name) return std::nullopt;
  if (auto previous = slot_names.add(*name, e.range)) {
    diags_.report(DiagId::yaml_duplicate, e.range, "slot", *name)
        .note(*previous, DiagId::note_previous_definition);
    return std::nullopt;
  }
  Slot slot;
  slot.name = *name;
  slot.range = e.range;
  if (auto description = text(e, "description", false)) slot.description = *description;
  const auto type = choice<Slot::Type>(e, "type", true, "slot type", kSlotTypes);
  if (!type) return std::nullopt;
  slot.type = *type;
  const std::string_view type_name = slot_type_name(*type);
  bool ok = true;
  const Field* vocabulary = e.get("vocabulary");
  const Field* values = e.get("values");
  const Field* unit_field = e.get("unit");
  const Field* unit_from = e.get("unit_from");
  // Fields that belong to another type are reported and ignored.
  for (const Field* f : {vocabulary, values})
    if (f && *type != Slot::Type::symbol)
      diags_.report(DiagId::yaml_field_not_applicable, f->key_range, f->name, type_name);
  for (const Field* f : {unit_field, unit_from})
    if (f && *type != Slot::Type::quantity)
      diags_.report(DiagId::yaml_field_not_applicable, f->key_range, f->name, type_name);
  // The later of two fields that exclude each other is the one reported.
  const auto conflict = [&](const Field& a, const Field& b) {
    const Field& later = a.key_range.begin > b.key_range.begin ? a : b;
    const Field& earlier = &later == &a ? b : a;
    diags_.report(DiagId::yaml_conflicting_fields, later.key_range, later.name, earlier.name);
  };
  if (*type == Slot::Type::symbol) {
    if (vocabulary && values) {
      conflict(*vocabulary, *values);
      return std::nullopt;
    }
    if (vocabulary) {
      const auto v = choice<int>(e, "vocabulary", false, "vocabulary", kVocabularies);
      if (!v) return std::nullopt;
      slot.vocabulary = std::string(kVocabularies[static_cast<std::size_t>(*v)].word);
    }
    if (values) {
      auto list = text_list(e, "values");
      if (!list) return std::nullopt;
      if (list->empty()) {
        diags_.report(DiagId::yaml_wrong_type, value_range(*values), "values",
                      "a non-empty list of strings");
        return std::nullopt;
      }
      Defined seen;
      for (auto& [value, range] : *list) {
        if (auto previous = seen.add(value, range)) {
          diags_.report(DiagId::yaml_duplicate, range, "value", shown(value))
              .note(*previous, DiagId::note_previous_definition);
          continue;
        }
        slot.values.push_back(std::move(value));
      }
    }
  }
  if (*type == Slot::Type::quantity) {
    if (unit_field && unit_from) {
      conflict(*unit_field, *unit_from);
      return std::nullopt;
    }
    if (!unit_field && !unit_from) {
      diags_.report(DiagId::yaml_missing_either, e.range, e.what, "unit", "unit_from");
      return std::nullopt;
    }
    if (unit_field) {
      slot.unit = unit(*unit_field);
      if (!slot.unit) ok = false;
    } else if (auto from = text(e, "unit_from", true)) {
      slot.unit_from = *from;
      unit_from_range = value_range(*unit_from);
      if (slot.unit_from.empty()) {
        diags_.report(DiagId::unknown_slot, unit_from_range, fact, "");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return slot;
}

}  // namespace

void load_kb_file(const support::SourceManager& sources, support::FileId file, KnowledgeBase& kb,
                  DiagnosticEngine& diags) {
  // Nothing escapes: the loader is fed arbitrary bytes by the fuzzer and must only report.
  // Entries are added to the kb whole, so an interruption leaves it consistent.
  std::optional<SourceRange> budget_exceeded_at;
  std::optional<std::string> failure;
  try {
    Loader loader(sources, file, kb, diags);
    loader.run();
  } catch (const NodeBudgetExceeded& e) {
    budget_exceeded_at = e.where;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown failure";
  }
  try {
    if (budget_exceeded_at) diags.report(DiagId::yaml_too_many_nodes, *budget_exceeded_at, kNodeBudget);
    if (failure)
      diags.report(DiagId::yaml_syntax, SourceRange{file, 0, 0}, "cannot read the YAML: " + shown(*failure, 200));
  } catch (...) {  // out of memory while reporting: nothing more can be said
  }
}

void finish_kb(KnowledgeBase& kb, DiagnosticEngine& diags) {
  try {
    kb.index();
    // A drug's CYP3A4 / P-gp class must cite a source; the sources may come from any file.
    Suggester suggest;
    const auto keys = kb.source_keys();
    for (auto& drug : kb.drugs) {
      for (auto* modulation : {&drug.cyp3a4, &drug.pgp}) {
        if (!*modulation || kb.find_source((*modulation)->source)) continue;
        const auto& m = **modulation;
        auto builder = diags.report(DiagId::unknown_source, m.source_range, shown(m.source));
        if (auto match = suggest(m.source, keys)) builder.suggest(*match);
        modulation->reset();  // kept modulations always name a real source
      }
    }
  } catch (const std::exception& e) {
    try {
      diags.report(DiagId::yaml_syntax, SourceRange{},
                   "cannot finish the knowledge base: " + shown(e.what(), 200));
    } catch (...) {
    }
  } catch (...) {
  }
}

}  // namespace rapa::kb
