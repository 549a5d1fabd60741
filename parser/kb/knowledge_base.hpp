// The knowledge base as loaded from kb/*.yaml: evidence sources, vocabularies (drugs,
// diagnoses, lab tests) and the fact schema rules are checked against. Every entry keeps the
// place it was defined, so that diagnostics and proofs can point at it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/source_manager.hpp"
#include "support/units.hpp"

namespace rapa::kb {

using support::SourceRange;

/// Oxford CEBM 2009 level of evidence, or a source that is not graded (a drug label, a
/// reference table): such sources may back a warning but cannot carry a grade.
struct EvidenceLevel {
  enum class Kind { graded, label, secondary };
  Kind kind = Kind::graded;
  int tier = 5;          // 1..5 for graded levels
  char subtier = '\0';   // 'a', 'b', 'c' or '\0' (levels 4 and 5 have none)

  /// "1b", "4", "label", "secondary".
  std::string spelling() const;
  /// The strongest recommendation grade this level supports: 'A' for level 1, 'B' for 2 and 3,
  /// 'C' for 4, 'D' for 5; '\0' for ungraded sources.
  char strongest_grade() const;
  /// Parses "1a".."5", "label", "secondary"; nullopt otherwise.
  static std::optional<EvidenceLevel> parse(std::string_view text);
};

struct Source {
  std::string key;
  SourceRange range;        // of the key
  std::string citation;
  std::string doi;          // may be empty when a URL or label identifies the source
  std::string url;
  std::string design;
  std::optional<std::int64_t> n;
  EvidenceLevel level;
  SourceRange level_range;
  bool level_derived = false;  // true when we assigned the level from the design
  std::string note;
};

/// How a drug acts on CYP3A4 or P-glycoprotein, and who says so.
struct Modulation {
  enum class Role { inhibitor, inducer, substrate };
  enum class Strength { strong, moderate, weak, unclassified };
  Role role;
  Strength strength;
  std::string source;  // key into sources
  SourceRange range;
  SourceRange source_range;
};

std::string_view role_name(Modulation::Role role);
std::string_view strength_name(Modulation::Strength strength);

struct Drug {
  std::string id;            // canonical, lower case: "voriconazole"
  SourceRange range;
  std::vector<std::string> brands;   // "Vfend"
  std::vector<std::string> chinese;  // "伏立康唑"
  std::vector<std::string> aliases;  // other spellings: "rapamycin"
  std::string drug_class;            // "azole antifungal"
  std::optional<Modulation> cyp3a4;
  std::optional<Modulation> pgp;
};

struct Diagnosis {
  std::string code;  // "ITP"
  SourceRange range;
  std::string name;
  std::vector<std::string> chinese;
};

struct LabTest {
  std::string id;  // "platelets"
  SourceRange range;
  std::string name;
  support::Unit unit;  // canonical unit the test is reported in
  SourceRange unit_range;
};

/// A slot of a fact type.
struct Slot {
  enum class Type { symbol, quantity, text, integer, boolean };
  std::string name;
  SourceRange range;
  Type type = Type::symbol;
  /// For symbols: "drugs", "diagnoses" or "labs" when values come from a vocabulary...
  std::string vocabulary;
  /// ...or a closed list of allowed values.
  std::vector<std::string> values;
  /// For quantities: the unit whose dimension values must have...
  std::optional<support::Unit> unit;
  /// ...or the name of the symbol slot whose lab test fixes the dimension (lab.value follows
  /// lab.test).
  std::string unit_from;
  std::string description;
};

struct FactType {
  enum class Kind { input, derived, kb };
  /// What it means that no fact of an input type is given: `none`, there is no such thing (no
  /// infection), or `unknown`, nobody has asked yet (no medication list is not "takes nothing").
  enum class Absent { none, unknown };
  std::string name;
  SourceRange range;
  Kind kind = Kind::input;
  std::vector<Slot> slots;
  std::string description;
  Absent absent = Absent::none;
  /// With `absent: unknown`: the slot whose values are asked one by one (lab: per test), or
  /// empty when the whole type is asked at once.
  std::string key;
  /// How to ask for the whole type ("current medicines"); empty: its name.
  std::string question;

  const Slot* find_slot(std::string_view slot) const;
};

std::string_view slot_type_name(Slot::Type type);
std::string_view fact_kind_name(FactType::Kind kind);
std::string_view absent_name(FactType::Absent absent);

class KnowledgeBase {
 public:
  std::vector<Source> sources;
  std::vector<Drug> drugs;
  std::vector<Diagnosis> diagnoses;
  std::vector<LabTest> labs;
  std::vector<FactType> fact_types;

  /// Builds the lookup indexes; call once after loading.
  void index();

  const Source* find_source(std::string_view key) const;
  /// By canonical id, brand, Chinese name or alias, case-insensitively for ASCII.
  const Drug* find_drug(std::string_view name) const;
  const Diagnosis* find_diagnosis(std::string_view code) const;
  const LabTest* find_lab(std::string_view id) const;
  const FactType* find_fact_type(std::string_view name) const;

  /// Names for "did you mean": every spelling a lookup above accepts.
  std::vector<std::string_view> source_keys() const;
  std::vector<std::string_view> drug_names() const;
  std::vector<std::string_view> diagnosis_codes() const;
  std::vector<std::string_view> lab_ids() const;
  std::vector<std::string_view> fact_type_names() const;

 private:
  std::map<std::string, std::size_t, std::less<>> source_index_, drug_index_, diagnosis_index_,
      lab_index_, fact_type_index_;
};

}  // namespace rapa::kb
