// Parsing a rule file into its syntax tree. The only way into the X3 grammar from outside it.
#pragma once

#include "parser/ast.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::parser {

/// Deepest nesting of brackets accepted; deeper input is refused before parsing, since the
/// grammar recurses on it.
inline constexpr int max_nesting = 64;

/// Parses every `rule ... end` block of a file. A broken block is reported (what was expected,
/// where) and skipped up to the next line starting with `rule`, so one mistake does not hide
/// the others; the blocks that parse are returned.
ast::RuleFile parse_rule_file(const support::SourceManager& sources, support::FileId file,
                              support::DiagnosticEngine& diags);

}  // namespace rapa::parser
