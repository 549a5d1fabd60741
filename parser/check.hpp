// The compiler's front door: from paths to a checked rule base and its diagnostics.
#pragma once

#include <string>
#include <vector>

#include "parser/kb/knowledge_base.hpp"
#include "parser/ast.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::parser {

/// Everything one check run produced. The AST files stay valid while the SourceManager lives.
struct CheckedRuleBase {
  kb::KnowledgeBase kb;
  std::vector<ast::RuleFile> files;
};

/// Expands directories (recursively, in sorted order) into *.rules and *.yaml/*.yml files,
/// loads the kb files first, then parses and checks every rule file. All problems go to
/// `diags`; nothing is printed.
CheckedRuleBase check_paths(const std::vector<std::string>& paths, support::SourceManager& sources,
                            support::DiagnosticEngine& diags);

/// Reports why a file the SourceManager refused (see SourceManager::load_file) cannot be used,
/// at its first bad byte where there is one.
void report_load_failure(const support::SourceManager& sources, support::FileId file,
                         const support::LoadFailure& failure, support::DiagnosticEngine& diags);

/// The same on buffers already in the SourceManager (tests, fuzzing, the REPL).
CheckedRuleBase check_buffers(const std::vector<support::FileId>& kb_files,
                              const std::vector<support::FileId>& rule_files,
                              support::SourceManager& sources, support::DiagnosticEngine& diags);

}  // namespace rapa::parser
