// The knowledge a consultation runs on: the rule and kb files checked, lowered into the engine's
// rule base, and fingerprinted so that an audit record says exactly which version advised.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inference/rule_base.hpp"
#include "parser/check.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::consult {

struct Knowledge {
  /// Owns the file texts every range (a rule's file:line, a patient fact's) points into. Patient
  /// files are added to it as they are read.
  std::unique_ptr<support::SourceManager> sources = std::make_unique<support::SourceManager>();
  parser::CheckedRuleBase checked;
  std::shared_ptr<const inference::RuleBase> rules;
  /// sha256 over every rule and kb file, names (without their directory) and contents, in load
  /// order: the rule-base version an audit record keeps, the same wherever rapa is installed.
  std::string version;
};

/// Checks `paths` (files or directories of .rules and .yaml) and lowers them. nullopt when
/// the check reported errors, which are in `diags` with the warnings.
std::optional<Knowledge> load_knowledge(const std::vector<std::string>& paths, support::DiagnosticEngine& diags);

/// The same into `knowledge`, whose sources stay when the check fails, so that the diagnostics
/// can be shown with their source lines. False when the check reported errors.
bool load_knowledge_into(Knowledge& knowledge, const std::vector<std::string>& paths, support::DiagnosticEngine& diags);

/// "rules/itp.rules:12": where a range starts, for people.
std::string location(const support::SourceManager& sources, support::SourceRange range);

}  // namespace rapa::consult
