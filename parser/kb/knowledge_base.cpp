// Evidence levels, enum spellings and the lookup indexes of the loaded knowledge base.
#include "parser/kb/knowledge_base.hpp"

#include <algorithm>

namespace rapa::kb {
namespace {

char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// Drug names are looked up case-insensitively for ASCII ("Vfend", "vfend"); Chinese names,
/// having no case, are unchanged.
std::string folded(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(), fold);
  return result;
}

template <class Map>
std::size_t const* lookup(const Map& map, std::string_view key) {
  const auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

std::string EvidenceLevel::spelling() const {
  switch (kind) {
    case Kind::label: return "label";
    case Kind::secondary: return "secondary";
    case Kind::graded: break;
  }
  std::string result(1, static_cast<char>('0' + tier));
  if (subtier != '\0') result += subtier;
  return result;
}

char EvidenceLevel::strongest_grade() const {
  if (kind != Kind::graded) return '\0';
  switch (tier) {
    case 1: return 'A';
    case 2:
    case 3: return 'B';
    case 4: return 'C';
    default: return 'D';
  }
}

std::optional<EvidenceLevel> EvidenceLevel::parse(std::string_view text) {
  if (text == "label") return EvidenceLevel{Kind::label, 5, '\0'};
  if (text == "secondary") return EvidenceLevel{Kind::secondary, 5, '\0'};
  // Oxford CEBM 2009: 1a 1b 1c 2a 2b 2c 3a 3b 4 5 (KNOWLEDGE.md §1.1).
  if (text == "4" || text == "5") return EvidenceLevel{Kind::graded, text[0] - '0', '\0'};
  if (text.size() != 2) return std::nullopt;
  const int tier = text[0] - '0';
  const char sub = text[1];
  if (tier < 1 || tier > 3) return std::nullopt;
  if (sub != 'a' && sub != 'b' && !(sub == 'c' && tier != 3)) return std::nullopt;
  return EvidenceLevel{Kind::graded, tier, sub};
}

std::string_view role_name(Modulation::Role role) {
  switch (role) {
    case Modulation::Role::inhibitor: return "inhibitor";
    case Modulation::Role::inducer: return "inducer";
    case Modulation::Role::substrate: return "substrate";
  }
  return "inhibitor";
}

std::string_view strength_name(Modulation::Strength strength) {
  switch (strength) {
    case Modulation::Strength::strong: return "strong";
    case Modulation::Strength::moderate: return "moderate";
    case Modulation::Strength::weak: return "weak";
    case Modulation::Strength::unclassified: return "unclassified";
  }
  return "unclassified";
}

std::string_view slot_type_name(Slot::Type type) {
  switch (type) {
    case Slot::Type::symbol: return "symbol";
    case Slot::Type::quantity: return "quantity";
    case Slot::Type::text: return "text";
    case Slot::Type::integer: return "integer";
    case Slot::Type::boolean: return "boolean";
  }
  return "symbol";
}

std::string_view fact_kind_name(FactType::Kind kind) {
  switch (kind) {
    case FactType::Kind::input: return "input";
    case FactType::Kind::derived: return "derived";
    case FactType::Kind::kb: return "kb";
  }
  return "input";
}

std::string_view absent_name(FactType::Absent absent) {
  return absent == FactType::Absent::unknown ? "unknown" : "none";
}

const Slot* FactType::find_slot(std::string_view slot) const {
  for (const auto& s : slots)
    if (s.name == slot) return &s;
  return nullptr;
}

void KnowledgeBase::index() {
  // The first definition of a name wins; the loader has already reported any later one.
  source_index_.clear();
  drug_index_.clear();
  diagnosis_index_.clear();
  lab_index_.clear();
  fact_type_index_.clear();
  for (std::size_t i = 0; i < sources.size(); ++i) source_index_.emplace(sources[i].key, i);
  for (std::size_t i = 0; i < drugs.size(); ++i) {
    const auto& drug = drugs[i];
    drug_index_.emplace(folded(drug.id), i);
    for (const auto* names : {&drug.brands, &drug.chinese, &drug.aliases})
      for (const auto& name : *names) drug_index_.emplace(folded(name), i);
  }
  for (std::size_t i = 0; i < diagnoses.size(); ++i) diagnosis_index_.emplace(diagnoses[i].code, i);
  for (std::size_t i = 0; i < labs.size(); ++i) lab_index_.emplace(labs[i].id, i);
  for (std::size_t i = 0; i < fact_types.size(); ++i) fact_type_index_.emplace(fact_types[i].name, i);
}

const Source* KnowledgeBase::find_source(std::string_view key) const {
  const auto* i = lookup(source_index_, key);
  return i ? &sources[*i] : nullptr;
}

const Drug* KnowledgeBase::find_drug(std::string_view name) const {
  const auto* i = lookup(drug_index_, folded(name));
  return i ? &drugs[*i] : nullptr;
}

const Diagnosis* KnowledgeBase::find_diagnosis(std::string_view code) const {
  const auto* i = lookup(diagnosis_index_, code);
  return i ? &diagnoses[*i] : nullptr;
}

const LabTest* KnowledgeBase::find_lab(std::string_view id) const {
  const auto* i = lookup(lab_index_, id);
  return i ? &labs[*i] : nullptr;
}

const FactType* KnowledgeBase::find_fact_type(std::string_view name) const {
  const auto* i = lookup(fact_type_index_, name);
  return i ? &fact_types[*i] : nullptr;
}

std::vector<std::string_view> KnowledgeBase::source_keys() const {
  std::vector<std::string_view> result;
  result.reserve(sources.size());
  for (const auto& s : sources) result.push_back(s.key);
  return result;
}

std::vector<std::string_view> KnowledgeBase::drug_names() const {
  std::vector<std::string_view> result;
  for (const auto& drug : drugs) {
    result.push_back(drug.id);
    for (const auto* names : {&drug.brands, &drug.chinese, &drug.aliases})
      for (const auto& name : *names) result.push_back(name);
  }
  return result;
}

std::vector<std::string_view> KnowledgeBase::diagnosis_codes() const {
  std::vector<std::string_view> result;
  result.reserve(diagnoses.size());
  for (const auto& d : diagnoses) result.push_back(d.code);
  return result;
}

std::vector<std::string_view> KnowledgeBase::lab_ids() const {
  std::vector<std::string_view> result;
  result.reserve(labs.size());
  for (const auto& l : labs) result.push_back(l.id);
  return result;
}

std::vector<std::string_view> KnowledgeBase::fact_type_names() const {
  std::vector<std::string_view> result;
  result.reserve(fact_types.size());
  for (const auto& f : fact_types) result.push_back(f.name);
  return result;
}

}  // namespace rapa::kb
