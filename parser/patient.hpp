// Patient files: YAML facts about one patient (docs/patients.md), checked against the kb's
// schema and vocabularies and turned into engine facts. Every problem is a diagnostic at its
// file:line:col; a file with errors yields no facts at all, so no advice rests on half a file.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "inference/rule_base.hpp"
#include "parser/kb/knowledge_base.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::parser {

struct PatientFact {
  inference::TypeId type = 0;
  std::vector<inference::Value> slots;  // every slot of the type; unknown where not given
  support::SourceRange range;           // the entry in the file
};

struct Patient {
  std::vector<PatientFact> facts;
  /// Questions the file answers with "none" (`medications: []`): no placeholder for them.
  std::vector<std::size_t> answered_none;
};

/// Names become engine symbols through `intern` (an Engine's, so that names the rule base
/// never mentions still get a symbol). Returns nullopt when the file had errors.
std::optional<Patient> load_patient(const support::SourceManager& sources, support::FileId file,
                                    const kb::KnowledgeBase& kb, const inference::RuleBase& rules,
                                    const std::function<inference::Symbol(std::string_view)>& intern,
                                    support::DiagnosticEngine& diags);

/// The section name a fact type is written under: its plural (medication -> medications,
/// therapy -> therapies, diagnosis -> diagnoses); `patient` stays singular.
std::string section_name(std::string_view type_name);

}  // namespace rapa::parser
