// Advice texts: escapes and {?variable} placeholders, decoded with exact source positions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "parser/ast.hpp"
#include "support/diagnostics.hpp"

namespace rapa::parser {

struct Placeholder {
  std::string variable;        // without '?'
  support::SourceRange range;  // of `{?name}` in the source
  std::size_t offset = 0;      // where `{?name}` starts in DecodedText::plain
};

struct DecodedText {
  std::string plain;  // escapes resolved, placeholders left as written: "{?m} raises..."
  std::vector<Placeholder> placeholders;
};

/// Escapes are \" \\ \n \t \{ \}. `{?name}` is a placeholder; any other '{' is literal. Bad
/// escapes and unclosed placeholders are reported; the rest of the text is still decoded.
DecodedText decode_text(const ast::Text& text, support::DiagnosticEngine& diags);

}  // namespace rapa::parser
