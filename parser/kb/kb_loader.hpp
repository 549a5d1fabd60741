// Reads kb YAML files into a KnowledgeBase, reporting every problem with its file:line:col.
#pragma once

#include "parser/kb/knowledge_base.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::kb {

/// Loads one kb YAML buffer (already validated as text by the SourceManager). A file holds one
/// or more top-level sections: sources, drugs, diagnoses, labs, facts; entries of a section may
/// be spread over several files. Bad entries are reported and skipped; good ones are kept.
void load_kb_file(const support::SourceManager& sources, support::FileId file, KnowledgeBase& kb,
                  support::DiagnosticEngine& diags);

/// Cross-entry checks once every file is loaded (duplicates across files, references from drugs
/// to sources, name clashes between drugs), then builds the indexes.
void finish_kb(KnowledgeBase& kb, support::DiagnosticEngine& diags);

}  // namespace rapa::kb
