// Decoding of texts. Offsets: a Text's range covers its quotes, so raw byte i sits at
// range.begin + 1 + i.
#include "parser/text.hpp"

#include "parser/grammar/lexical.hpp"

namespace rapa::parser {

DecodedText decode_text(const ast::Text& text, support::DiagnosticEngine& diags) {
  using support::DiagId;
  DecodedText out;
  const std::string& raw = text.raw;
  const auto at = [&](std::size_t i, std::size_t length) {
    const auto begin = static_cast<std::uint32_t>(text.range.begin + 1 + i);
    return support::SourceRange{text.range.file, begin, static_cast<std::uint32_t>(begin + length)};
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\') {
      const char next = i + 1 < raw.size() ? raw[i + 1] : '\0';
      switch (next) {
        case '"': out.plain += '"'; break;
        case '\\': out.plain += '\\'; break;
        case 'n': out.plain += '\n'; break;
        case 't': out.plain += '\t'; break;
        case '{': out.plain += '{'; break;
        case '}': out.plain += '}'; break;
        default:
          diags.report(DiagId::invalid_escape, at(i, 2), std::string(1, next));
      }
      ++i;
      continue;
    }
    if (c == '{' && i + 1 < raw.size() && raw[i + 1] == '?') {
      std::size_t j = i + 2;
      while (j < raw.size() && grammar::is_name_char(raw[j])) ++j;
      if (j >= raw.size() || raw[j] != '}' || j == i + 2) {
        diags.report(DiagId::unterminated_placeholder, at(i, j - i));
        out.plain.append(raw, i, j - i);
        i = j - 1;
        continue;
      }
      out.placeholders.push_back({raw.substr(i + 2, j - i - 2), at(i, j + 1 - i), out.plain.size()});
      out.plain.append(raw, i, j + 1 - i);
      i = j;
      continue;
    }
    out.plain += c;
  }
  const bool blank = out.plain.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) diags.report(DiagId::empty_text, text.range);
  return out;
}

}  // namespace rapa::parser
