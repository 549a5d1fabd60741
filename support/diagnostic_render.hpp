// Renderers for collected diagnostics: the GCC/Clang text format that editors parse, and JSON.
#pragma once

#include <string>
#include <vector>

#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::support {

struct TextStyle {
  bool colour = false;      // ANSI colours, for a terminal
  bool show_source = true;  // the source line with a caret under the range
};

/// "file:line:col: error: message [-Wgroup]", the source line, a caret and tildes under the
/// range, the fix-it, then the notes in the same form.
std::string render_text(const SourceManager& sources, const std::vector<Diagnostic>& diagnostics,
                        const TextStyle& style = {});

/// One JSON object: {"diagnostics": [...], "errors": N, "warnings": N}. Each diagnostic carries
/// id, severity, group, file, line, column, end_line, end_column, message, notes and fixit.
std::string render_json(const SourceManager& sources, const std::vector<Diagnostic>& diagnostics);

/// "2 errors and 1 warning generated." in the form compilers use, or "" when there are none.
std::string render_summary(std::size_t errors, std::size_t warnings);

}  // namespace rapa::support
