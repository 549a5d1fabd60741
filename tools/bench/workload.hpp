// The engine benchmark's workload, read from ../shared/bench's neutral files: workload.json (the
// spec `rapa-bench-workload/1`: templates, the KB table, the rules) into an inference::RuleBase,
// and cohort.jsonl (one patient a line) into memory before anything is timed.
//
// Translation (README.md of ../shared/bench, "The workload spec"):
//   template -> FactTypeInfo (kind input/kb/derived/output; slots in declared order)
//   kb fact -> InitialFact; rule -> Rule with one Production
//   {"pattern": ...} -> Element pattern; {"not": {...}} -> Element negation of that one pattern
//   slot term: constant -> SlotTest same; a variable's first occurrence (conditions in order, slots
//     in the JSON object's order) -> Pattern::binds, later ones -> SlotTest same variable; a
//     variable first seen inside a `not` is local to it
//   tests: < <= > >= == != -> lt le gt ge eq ne, eq neq -> same differ (Pattern::where)
//   JSON integer -> Value::integer, float -> Value::number (3 is not 3.0), other string -> symbol
//   assert action -> AssertAction with every slot
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "inference/rule_base.hpp"

namespace rapa::bench {

/// A malformed workload or cohort: the message starts with the file (and line, where known).
class WorkloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Workload {
  std::shared_ptr<inference::RuleBase> rules;
  std::vector<int> type_strata;   // by TypeId: 0 for input and kb; none given for output: 0
  std::vector<std::vector<std::string>> slot_types;  // by TypeId: "symbol", "integer" or "float"
  std::vector<int> rule_strata;   // by RuleId
  int max_stratum = 0;
  inference::TypeId advice_type = 0;  // the output template "advice"
};

/// Reads workload.json text; `file` names it in error messages.
Workload parse_workload(std::string_view json_text, const std::string& file);
/// Reads a workload.json file.
Workload load_workload(const std::filesystem::path& file);

/// A slot value as the cohort has it, before any engine's interning, so that both engines'
/// facts are built from the same data.
struct RawValue {
  enum class Kind : std::uint8_t { symbol, integer, number };
  Kind kind = Kind::symbol;
  std::string symbol;
  std::int64_t integer = 0;
  double number = 0;
};

struct RawFact {
  inference::TypeId type = 0;
  std::vector<RawValue> slots;  // every slot, in the template's declared order
};

struct RawPatient {
  std::string id;
  std::vector<RawFact> facts;
};

/// Reads cohort.jsonl text (at most `limit` patients; 0: all). Every fact gives every slot of its
/// template, with the declared type (symbol, integer, float).
std::vector<RawPatient> parse_cohort(std::string_view text, const std::string& file, const Workload& workload,
                                     std::size_t limit = 0);
std::vector<RawPatient> load_cohort(const std::filesystem::path& file, const Workload& workload,
                                    std::size_t limit = 0);

using Interner = std::function<inference::Symbol(std::string_view)>;
inference::Value to_value(const RawValue& raw, const Interner& intern);

/// The patients ready for the engine, symbols interned. Every slot value of every patient lies
/// in one array in cohort order, and so does every fact: a pass over the cohort reads its input
/// front to back, where a vector per fact cost a cache miss per fact (docs/performance.md).
class Cohort {
 public:
  struct Fact {
    inference::TypeId type = 0;
    std::span<const inference::Value> slots;
  };

  Cohort() = default;
  /// `intern` is the engine's (patient symbols may be absent from the rule base).
  Cohort(const std::vector<RawPatient>& raw, const Interner& intern);
  // The facts' spans point into values_: a copy would point into the original.
  Cohort(const Cohort&) = delete;
  Cohort& operator=(const Cohort&) = delete;
  Cohort(Cohort&&) = default;
  Cohort& operator=(Cohort&&) = default;

  std::size_t size() const { return ids_.size(); }
  const std::string& id(std::size_t patient) const { return ids_.at(patient); }
  std::span<const Fact> facts(std::size_t patient) const {
    const std::size_t first = first_fact_.at(patient);
    return std::span<const Fact>(facts_).subspan(first, first_fact_.at(patient + 1) - first);
  }

 private:
  std::vector<std::string> ids_;
  std::vector<inference::Value> values_;
  std::vector<Fact> facts_;
  /// size() + 1 entries: patient p's facts are facts_[first_fact_[p], first_fact_[p + 1]).
  std::vector<std::size_t> first_fact_;
};

/// The whole of a file, or WorkloadError naming it.
std::string read_file(const std::filesystem::path& file);

}  // namespace rapa::bench
