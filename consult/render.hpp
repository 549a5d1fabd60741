// Renderers of a consultation: text for a terminal, JSON for programs (schema in
// docs/advice.schema.json), Markdown for reports. They live in the library so that `rapa advise`,
// batch mode, the REPL and the audit store print one consultation the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "consult/consultation.hpp"
#include "consult/knowledge.hpp"
#include "inference/engine.hpp"

namespace rapa::consult {

struct RenderOptions {
  /// The patient file as the user named it: the header and the JSON `patient`.
  std::string patient;
  /// Rule and kb files under this directory are named relative to it (`rules/itp.rules:6`), so
  /// that output does not depend on where rapa's home is. Empty: as loaded.
  std::string home;
  /// Text: ANSI colours, for a terminal.
  bool colour = false;
  /// Text and Markdown: each citation with its DOI or URL, not only its key and level.
  bool doi = false;
  /// Text: the column to wrap at.
  std::size_t width = 80;
  /// JSON: indentation, or -1 for one line (batch records).
  int indent = 2;
  /// JSON: the record's line in a batch cohort, added as `line` when non-zero. The patient
  /// buffer of a record holds that one line, so the lines of its input facts are shifted to
  /// match the cohort file.
  std::size_t cohort_line = 0;
};

/// For 80-column terminals: sections in reading order, each item numbered for `why N`, with its
/// grade, evidence levels and citation keys; the data the advice still needs; the rule-base
/// version and counts at the foot.
std::string render_text(const Consultation& consultation, const RenderOptions& options);

/// One JSON object following docs/advice.schema.json, proofs included; `engine` is the one the
/// consultation was gathered from (its facts and firings make the proofs).
std::string render_json(const Consultation& consultation, const Knowledge& knowledge,
                        const inference::Engine& engine, const RenderOptions& options);

/// Headings, lists and tables to paste into a report, with the cited sources in full at the end.
std::string render_markdown(const Consultation& consultation, const RenderOptions& options);

/// A fact as a person reads it: `lab(test: platelets, value: 14 x10^9/L)`. Slots nobody was
/// asked about are left out; a quantity whose unit depends on another slot (`unit_from` in the
/// schema, a lab value) is shown in that lab test's unit.
std::string describe_fact(const Knowledge& knowledge, const inference::Engine& engine, inference::FactId fact);

/// Columns a UTF-8 text takes in a terminal: one per code point, two for East Asian wide ones.
std::size_t display_width(std::string_view text);

}  // namespace rapa::consult
