// A consultation: a patient's facts into an engine, the engine run, and its answer gathered into
// what clinicians read and auditors trace: advice in reading order with grade, evidence and
// place of definition; the data still needed; the proof behind each item. Every interface
// (advise, batch, REPL, test, audit) renders this one model.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "consult/knowledge.hpp"
#include "inference/engine.hpp"
#include "parser/patient.hpp"

namespace rapa::consult {

struct CitationView {
  std::string key;
  std::string citation;
  std::string doi;
  std::string url;
  std::string level;  // "1b", "4", "label", ...
  bool level_derived = false;
};

struct DetailView {
  std::string key;    // start, maintenance, trough, every, after, ...
  std::string shown;  // "2..4 mg/day" as the rule wrote it
  double low = 0, high = 0;  // base units
};

struct AdviceView {
  std::size_t number = 0;  // 1-based in reading order: "why 3"
  inference::AdviceKind kind = inference::AdviceKind::info;
  std::string subject;     // drug, monitored test or datum; empty for info and warn
  std::string severity;    // warn: critical, high, moderate, low
  std::vector<DetailView> details;
  std::string text;        // placeholders filled in
  std::string rule;
  std::string title;
  std::string defined_at;  // "rules/itp.rules:12"
  char grade = '\0';
  bool grade_consensus = false;
  std::string grade_because;
  std::vector<CitationView> citations;
  inference::FiringId firing = 0;
};

struct MissingView {
  std::string label;   // "eGFR", "patient.pregnant"
  std::string reason;  // "not asked", "unknown", "declined"
};

/// A rule held back only by unknown data: what it would have said, and what it needs. One
/// item per rule and set of missing data, however many matches wait on them.
struct NeedsDataView {
  std::string rule;
  std::string title;
  std::string defined_at;
  std::vector<MissingView> missing;
  std::vector<std::string> at_stake;  // "recommend sirolimus", "warn high: ..."
  inference::FiringId firing = 0;
};

struct Consultation {
  std::vector<AdviceView> advice;         // reading order, see consult()
  std::vector<NeedsDataView> needs_data;
  /// A critical warning or a contraindication was raised: the exit status of `rapa advise`.
  bool critical = false;
  std::uint64_t fired = 0;
  std::string rules_version;
};

/// Reads a patient file into `engine` (facts with their file:line, questions answered "none").
/// The file goes into knowledge.sources. False, with diagnostics, when the file is unusable;
/// then nothing was asserted.
bool load_patient_file(Knowledge& knowledge, const std::string& path, inference::Engine& engine,
                       support::DiagnosticEngine& diags);

/// The same for a patient already in memory (REPL, batch records, tests).
bool load_patient_text(Knowledge& knowledge, std::string name, std::string text, inference::Engine& engine,
                       support::DiagnosticEngine& diags);

/// Gathers the engine's current answer (call after run()). Reading order: recommendations,
/// contraindications, warnings by severity (critical, high, moderate, low), monitoring, asks,
/// information; within a group, the order the rules fired. The same advice from two
/// alternatives of one rule is shown once.
Consultation consult(const Knowledge& knowledge, const inference::Engine& engine);

/// "recommend sirolimus", "warn high", "info": an advice action in a few words.
std::string summary(const inference::AdviceAction& action, const inference::Engine& engine,
                    std::span<const inference::Value> bindings);

}  // namespace rapa::consult
