#include "parser/patient.hpp"

#include <charconv>
#include <cmath>
#include <string>

#include "parser/kb/yaml_source.hpp"
#include "support/suggest.hpp"
#include "support/units.hpp"

namespace rapa::parser {

using inference::UnknownReason;
using inference::Value;
using support::DiagId;
using support::SourceRange;

std::string section_name(std::string_view type_name) {
  std::string name(type_name);
  if (name.ends_with("is")) return name.substr(0, name.size() - 2) + "es";  // diagnosis
  if (name.ends_with("y") && name.size() > 1 && std::string_view("aeiou").find(name[name.size() - 2]) == std::string_view::npos)
    return name.substr(0, name.size() - 1) + "ies";  // therapy, allergy
  return name + "s";
}

namespace {

// Bounds a file's work when aliases make a small file expand into a huge tree.
constexpr std::size_t kMaxVisits = 100000;

/// The words a patient file uses for a value nobody knows.
std::optional<UnknownReason> unknown_word(std::string_view text) {
  if (text == "unknown") return UnknownReason::unknown;
  if (text == "not asked" || text == "not_asked") return UnknownReason::not_asked;
  if (text == "declined") return UnknownReason::declined;
  return std::nullopt;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (auto w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

class PatientLoader {
 public:
  PatientLoader(const support::SourceManager& sources, support::FileId file, const kb::KnowledgeBase& kb,
                const inference::RuleBase& rules, const std::function<inference::Symbol(std::string_view)>& intern,
                support::DiagnosticEngine& diags)
      : src_(sources, file), kb_(kb), rules_(rules), intern_(intern), diags_(diags) {}

  std::optional<Patient> run() {
    std::size_t errors_before = diags_.error_count();
    auto documents = src_.parse(diags_);
    if (!documents) return std::nullopt;
    bool any = false;
    for (const kb::YamlNode& document : *documents) {
      if (document.is_null()) continue;
      any = true;
      if (!document.is_map()) {
        diags_.report(DiagId::yaml_not_a_map, range(document), "the top level of a patient file");
        continue;
      }
      sections(document);
    }
    if (!any) diags_.report(DiagId::patient_empty, SourceRange{src_.file(), 0, 0});
    if (diags_.error_count() > errors_before) return std::nullopt;
    return std::move(patient_);
  }

 private:
  SourceRange range(const kb::YamlNode& node) const { return src_.range(node, SourceRange{src_.file(), 0, 0}); }

  bool tick() { return ++visits_ <= kMaxVisits; }

  void sections(const kb::YamlNode& document) {
    std::vector<std::string_view> accepted;
    for (const kb::FactType& type : kb_.fact_types)
      if (type.kind == kb::FactType::Kind::input) accepted.push_back(type.name);
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < document.size() && tick(); ++i) {
      kb::YamlNode key = document.key(i);
      kb::YamlNode value = document.value(i);
      if (!key.is_scalar()) {
        diags_.report(DiagId::yaml_key_not_string, range(key));
        continue;
      }
      const kb::FactType* type = type_of_section(key.scalar());
      if (!type) {
        std::vector<std::string> plurals;
        std::vector<std::string_view> spellings = accepted;
        for (auto a : accepted) plurals.push_back(section_name(a));
        for (auto& p : plurals) spellings.push_back(p);
        auto d = diags_.report(DiagId::patient_unknown_section, range(key), kb::shown(key.scalar()), join(accepted));
        if (auto match = support::closest_match(key.scalar(), spellings)) d.suggest(*match);
        continue;
      }
      if (type->kind != kb::FactType::Kind::input) {
        diags_.report(DiagId::patient_not_input, range(key), type->name,
                      type->kind == kb::FactType::Kind::derived ? "concluded" : "taken from the kb");
        continue;
      }
      if (std::find(seen.begin(), seen.end(), type->name) != seen.end()) {
        diags_.report(DiagId::yaml_duplicate, range(key), "section", type->name);
        continue;
      }
      seen.push_back(type->name);
      section(*type, key, value);
    }
  }

  const kb::FactType* type_of_section(const std::string& name) const {
    for (const kb::FactType& type : kb_.fact_types)
      if (type.name == name || section_name(type.name) == name) return &type;
    return nullptr;
  }

  void section(const kb::FactType& type, const kb::YamlNode& key, const kb::YamlNode& value) {
    auto type_id = rules_.find_type(type.name);
    if (!type_id) return;  // the rule base was lowered from another kb: nothing to match anyway
    if (value.is_null()) return;  // "medications:" with nothing under it: not asked
    if (value.is_scalar()) {
      if (value.scalar() == "none") {
        answer_none(*type_id);
      } else if (!unknown_word(value.scalar())) {
        diags_.report(DiagId::patient_bad_section_value, range(value), kb::shown(value.scalar()), key.scalar());
      }
      return;
    }
    if (value.is_sequence()) {
      if (value.size() == 0) answer_none(*type_id);
      for (std::size_t i = 0; i < value.size() && tick(); ++i) entry(type, *type_id, value.item(i));
      return;
    }
    // A mapping: the slots of one fact (patient), or, for a keyed type, key value -> the rest
    // (labs: {platelets: 14 x10^9/L}).
    if (type.key.empty()) {
      entry(type, *type_id, value);
      return;
    }
    if (value.size() == 0) answer_none(*type_id);
    for (std::size_t i = 0; i < value.size() && tick(); ++i) {
      kb::YamlNode k = value.key(i);
      if (!k.is_scalar()) {
        diags_.report(DiagId::yaml_key_not_string, range(k));
        continue;
      }
      keyed_entry(type, *type_id, k, value.value(i));
    }
  }

  void answer_none(inference::TypeId type) {
    for (std::size_t q = 0; q < rules_.questions.size(); ++q)
      if (rules_.questions[q].type == type && !rules_.questions[q].key) patient_.answered_none.push_back(q);
  }

  /// One fact from a mapping of slot -> value, or from a scalar that gives its first slot.
  void entry(const kb::FactType& type, inference::TypeId type_id, const kb::YamlNode& node) {
    PatientFact fact;
    fact.type = type_id;
    fact.range = range(node);
    fact.slots.assign(type.slots.size(), Value::unknown(UnknownReason::not_asked));
    names_.assign(type.slots.size(), {});
    if (node.is_scalar()) {
      if (type.slots.empty()) return;
      if (auto v = convert(type, 0, node, fact.slots)) fact.slots[0] = *v;
      else return;
      patient_.facts.push_back(std::move(fact));
      return;
    }
    if (!node.is_map()) {
      diags_.report(DiagId::yaml_not_a_map, range(node), "a " + type.name + " entry");
      return;
    }
    if (!fill_slots(type, node, fact.slots, {})) return;
    patient_.facts.push_back(std::move(fact));
  }

  void keyed_entry(const kb::FactType& type, inference::TypeId type_id, const kb::YamlNode& key, const kb::YamlNode& value) {
    PatientFact fact;
    fact.type = type_id;
    fact.range = range(key);
    fact.slots.assign(type.slots.size(), Value::unknown(UnknownReason::not_asked));
    names_.assign(type.slots.size(), {});
    std::size_t key_slot = static_cast<std::size_t>(type.find_slot(type.key) - type.slots.data());
    auto k = convert(type, key_slot, key, fact.slots);
    if (!k) return;
    fact.slots[key_slot] = *k;
    if (value.is_map()) {
      if (!fill_slots(type, value, fact.slots, type.key)) return;
    } else {
      // The one other slot: {platelets: 14 x10^9/L}.
      std::size_t other = type.slots.size();
      for (std::size_t s = 0; s < type.slots.size(); ++s)
        if (s != key_slot) {
          other = s;
          break;
        }
      if (other == type.slots.size()) return;
      auto v = convert(type, other, value, fact.slots);
      if (!v) return;
      fact.slots[other] = *v;
    }
    patient_.facts.push_back(std::move(fact));
  }

  bool fill_slots(const kb::FactType& type, const kb::YamlNode& map, std::vector<Value>& slots, std::string_view skip) {
    bool ok = true;
    std::vector<std::string_view> names;
    for (const kb::Slot& s : type.slots) names.push_back(s.name);
    // Symbol slots first: a lab value's unit depends on the test.
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t i = 0; i < map.size() && tick(); ++i) {
        kb::YamlNode key = map.key(i);
        if (!key.is_scalar()) {
          if (pass == 0) diags_.report(DiagId::yaml_key_not_string, range(key)), ok = false;
          continue;
        }
        const kb::Slot* slot = type.find_slot(key.scalar());
        if (!slot || slot->name == skip) {
          if (pass == 0) {
            auto d = diags_.report(DiagId::patient_unknown_field, range(key), type.name, kb::shown(key.scalar()), join(names));
            if (auto match = support::closest_match(key.scalar(), names)) d.suggest(*match);
            ok = false;
          }
          continue;
        }
        bool is_symbol = slot->type == kb::Slot::Type::symbol;
        if ((pass == 0) != is_symbol) continue;
        auto index = static_cast<std::size_t>(slot - type.slots.data());
        if (auto v = convert(type, index, map.value(i), slots)) slots[index] = *v;
        else ok = false;
      }
    }
    return ok;
  }

  /// One value for slot `index`; `slots` gives the ones already read (a lab value's test).
  std::optional<Value> convert(const kb::FactType& type, std::size_t index, const kb::YamlNode& node,
                               const std::vector<Value>& slots) {
    const kb::Slot& slot = type.slots[index];
    const std::string where = type.name + "." + slot.name;
    if (!node.is_scalar()) {
      diags_.report(DiagId::yaml_wrong_type, range(node), where, "a single value");
      return std::nullopt;
    }
    const std::string& text = node.scalar();
    if (auto reason = unknown_word(text)) return Value::unknown(*reason);
    switch (slot.type) {
      case kb::Slot::Type::symbol: return symbol(slot, where, node, names_[index]);
      case kb::Slot::Type::text: return Value::text(intern_(text));
      case kb::Slot::Type::boolean: {
        if (text == "yes" || text == "true") return Value::symbol(intern_("yes"));
        if (text == "no" || text == "false") return Value::symbol(intern_("no"));
        diags_.report(DiagId::patient_bad_value, range(node), kb::shown(text), where, "yes or no");
        return std::nullopt;
      }
      case kb::Slot::Type::integer: {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc{} || end != text.data() + text.size()) {
          diags_.report(DiagId::patient_bad_value, range(node), kb::shown(text), where, "a whole number");
          return std::nullopt;
        }
        return Value::integer(n);
      }
      case kb::Slot::Type::quantity: return quantity(type, slot, where, node, slots);
    }
    return std::nullopt;
  }

  /// `canonical` receives the name the value stands for (a brand becomes the drug's id).
  std::optional<Value> symbol(const kb::Slot& slot, const std::string& where, const kb::YamlNode& node,
                              std::string& canonical) {
    const std::string& text = node.scalar();
    canonical = text;
    if (slot.vocabulary == "drugs") {
      if (const kb::Drug* drug = kb_.find_drug(text)) return canonical = drug->id, Value::symbol(intern_(drug->id));
      auto d = diags_.report(DiagId::unknown_drug, range(node), kb::shown(text));
      if (auto match = support::closest_match(text, kb_.drug_names())) d.suggest(*match);
      return std::nullopt;
    }
    if (slot.vocabulary == "diagnoses") {
      if (const kb::Diagnosis* diagnosis = kb_.find_diagnosis(text))
        return canonical = diagnosis->code, Value::symbol(intern_(diagnosis->code));
      auto d = diags_.report(DiagId::unknown_symbol, range(node), kb::shown(text), "diagnosis");
      if (auto match = support::closest_match(text, kb_.diagnosis_codes())) d.suggest(*match);
      return std::nullopt;
    }
    if (slot.vocabulary == "labs") {
      if (const kb::LabTest* lab = kb_.find_lab(text)) return canonical = lab->id, Value::symbol(intern_(lab->id));
      auto d = diags_.report(DiagId::unknown_symbol, range(node), kb::shown(text), "lab test");
      if (auto match = support::closest_match(text, kb_.lab_ids())) d.suggest(*match);
      return std::nullopt;
    }
    if (!slot.values.empty()) {
      if (std::find(slot.values.begin(), slot.values.end(), text) != slot.values.end())
        return Value::symbol(intern_(text));
      std::vector<std::string_view> allowed(slot.values.begin(), slot.values.end());
      auto d = diags_.report(DiagId::symbol_not_allowed, range(node), kb::shown(text), where, join(allowed));
      if (auto match = support::closest_match(text, allowed)) d.suggest(*match);
      return std::nullopt;
    }
    return Value::symbol(intern_(text));
  }

  std::optional<Value> quantity(const kb::FactType& type, const kb::Slot& slot, const std::string& where,
                                const kb::YamlNode& node, const std::vector<Value>& slots) {
    const std::string& text = node.scalar();
    // The unit this slot is measured in: fixed, or the lab test's.
    const support::Unit* expected = slot.unit ? &*slot.unit : nullptr;
    if (!slot.unit_from.empty()) {
      const kb::Slot* from = type.find_slot(slot.unit_from);
      auto from_index = static_cast<std::size_t>(from - type.slots.data());
      if (slots[from_index].kind() == Value::Kind::symbol)
        if (const kb::LabTest* lab = kb_.find_lab(names_[from_index])) expected = &lab->unit;
    }
    double number = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [after, ec] = std::from_chars(begin, end, number);
    if (ec != std::errc{} || !std::isfinite(number)) {
      diags_.report(DiagId::patient_bad_value, range(node), kb::shown(text), where,
                    expected ? "a number and a unit, such as '" + example(*expected) + "'" : std::string("a number and a unit"));
      return std::nullopt;
    }
    std::string_view unit_text(after, static_cast<std::size_t>(end - after));
    while (!unit_text.empty() && unit_text.front() == ' ') unit_text.remove_prefix(1);
    if (unit_text.empty()) {
      if (!expected || expected->dimension.dimensionless()) return Value::number(number);
      diags_.report(DiagId::patient_missing_unit, range(node), kb::shown(text), where,
                    support::describe(expected->dimension), example(*expected));
      return std::nullopt;
    }
    auto parsed = support::parse_unit(unit_text);
    if (!parsed.unit) {
      auto d = diags_.report(DiagId::unknown_unit, range(node), parsed.error->message);
      if (auto match = support::closest_match(unit_text, {support::common_unit_spellings().begin(),
                                                          support::common_unit_spellings().end()}))
        d.suggest(std::string(text.substr(0, text.size() - unit_text.size())) + *match);
      return std::nullopt;
    }
    if (expected && !(parsed.unit->dimension == expected->dimension)) {
      diags_.report(DiagId::patient_wrong_dimension, range(node), kb::shown(text),
                    support::describe(parsed.unit->dimension), where, support::describe(expected->dimension),
                    example(*expected));
      return std::nullopt;
    }
    return Value::number(support::Quantity{number, *parsed.unit}.in_base());
  }

  static std::string example(const support::Unit& unit) { return unit.spelling; }

  kb::YamlSource src_;
  const kb::KnowledgeBase& kb_;
  const inference::RuleBase& rules_;
  const std::function<inference::Symbol(std::string_view)>& intern_;
  support::DiagnosticEngine& diags_;
  Patient patient_;
  std::vector<std::string> names_;  // the entry being read: canonical names of its symbol slots
  std::size_t visits_ = 0;
};

}  // namespace

std::optional<Patient> load_patient(const support::SourceManager& sources, support::FileId file,
                                    const kb::KnowledgeBase& kb, const inference::RuleBase& rules,
                                    const std::function<inference::Symbol(std::string_view)>& intern,
                                    support::DiagnosticEngine& diags) {
  return PatientLoader(sources, file, kb, rules, intern, diags).run();
}

}  // namespace rapa::parser
