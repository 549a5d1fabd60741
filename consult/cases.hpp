// Golden cases (docs/cases.md): a patient with what its consultation must and must not say.
// Reading a case file, matching its expectations against a Consultation, and comparing the
// consultations of one patient under two rule bases, for `rapa test` and its tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "consult/consultation.hpp"
#include "support/units.hpp"

namespace rapa::consult {

/// A bound on an ordered scale (severities, grades): `>= high`, `<= C`, `moderate`. Strength
/// grows with importance: low < moderate < high < critical, D < C < B < A.
struct StrengthBound {
  enum class Op { equal, at_least, at_most };
  Op op = Op::equal;
  int strength = 0;
  bool admits(int value) const;
};

/// How an advice detail must relate to the range a case gives.
enum class RangeRelation {
  equals,    // `start: 2 mg/day`: the same range, within rounding
  within,    // `trough: within 4..15 ng/mL`: the advice's range lies inside the given one
  contains,  // `trough: contains 5..15 ng/mL`: the advice's range covers the given one
};

struct DetailExpectation {
  std::string key;  // start, maintain, trough, reassess, after, ...
  RangeRelation relation = RangeRelation::equals;
  double low = 0, high = 0;  // base units, as DetailView
  support::Dimension dimension;
  std::string written;  // "within 4..15 ng/mL"
};

/// One entry of `must` or `must_not`. An advice item matches when every criterion given holds;
/// an entry with `needs` matches a needs-data item instead.
struct Expectation {
  support::SourceRange range;  // the entry in the case file
  std::string written;         // "kind: warn, severity: >= high": the entry in one line
  std::string because;         // where the expectation comes from, shown when it fails

  std::optional<inference::AdviceKind> kind;
  std::optional<std::string> subject;  // a drug id (`drug:` resolves brands and aliases), lab or datum
  std::optional<std::string> rule;     // a rule name, or a prefix ending in '*'
  std::optional<StrengthBound> severity;
  std::optional<StrengthBound> grade;  // an advice without a grade meets no grade bound
  std::vector<std::string> phrases;    // each in the text, ignoring ASCII case
  std::vector<DetailExpectation> details;
  std::vector<std::string> citations;  // source keys, each among the advice's citations

  std::optional<std::string> needs;  // the label of a missing datum: "current medicines"
};

struct GoldenCase {
  std::string path;
  std::string description;
  std::vector<Expectation> must;
  std::vector<Expectation> must_not;
  /// The case file with everything before the patient document blanked out (newlines kept):
  /// loaded under the file's own name, its diagnostics point at the case file's lines.
  std::string patient_text;
};

/// Reads a case file and checks its expectations against the knowledge (drug names, source
/// keys and rule names must exist). nullopt, with diagnostics at the case file's lines, when
/// the file cannot be used. The patient is not loaded: see load_case_patient.
std::optional<GoldenCase> read_case(Knowledge& knowledge, const std::string& path,
                                    support::DiagnosticEngine& diags);
/// The same on a case already in memory.
std::optional<GoldenCase> read_case_text(Knowledge& knowledge, std::string name, std::string text,
                                         support::DiagnosticEngine& diags);

/// Asserts the case's patient into `engine`; false, with diagnostics, when the patient part
/// does not load under this knowledge.
bool load_case_patient(Knowledge& knowledge, const GoldenCase& golden, inference::Engine& engine,
                       support::DiagnosticEngine& diags);

/// Why an item does not meet the expectation: the first criterion it fails, in words; nullopt
/// when it matches. An advice item never matches a `needs` expectation, nor the reverse.
std::optional<std::string> mismatch(const Expectation& expectation, const AdviceView& advice);
std::optional<std::string> mismatch(const Expectation& expectation, const NeedsDataView& needs);

/// An expectation the consultation does not meet.
struct Failure {
  const Expectation* expectation = nullptr;
  bool must = true;  // false: a must_not entry matched
  /// must: the items nearest to it (same kind, else all) and why each falls short;
  /// must_not: the offending items.
  std::vector<std::string> explanation;
};

std::vector<Failure> check_case(const GoldenCase& golden, const Consultation& consultation);

/// One line for an item in test reports: "warn high [ddi.voriconazole] grade C, cites a, b: text".
std::string describe(const AdviceView& advice);
std::string describe(const NeedsDataView& needs);

/// How a patient's advice differs between two rule bases. Items are paired by rule, kind and
/// subject (needs-data items by rule).
struct AdviceChange {
  enum class Kind { gained, lost, changed };
  Kind kind = Kind::changed;
  std::string item;               // describe() of the item, under `after` unless lost
  std::vector<std::string> what;  // changed: "grade C -> B", "start 2..4 mg/day -> 1..2 mg/day", ...
};

std::vector<AdviceChange> compare(const Consultation& before, const Consultation& after);

/// Names of the rules with any firing, definite or undetermined, in this engine: what coverage counts.
std::vector<std::string> fired_rules(const inference::Engine& engine);

}  // namespace rapa::consult
