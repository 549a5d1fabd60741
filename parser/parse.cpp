// The parse loop: block by block, with recovery, turning X3 expectation failures into
// diagnostics that say in words what was expected.
#include "parser/parse.hpp"

#include <string_view>

#include "parser/grammar/config.hpp"
#include "parser/grammar/lexical.hpp"
#include "parser/grammar/rule_file.hpp"

namespace rapa::parser {
namespace {

namespace x3 = boost::spirit::x3;
using grammar::iterator_type;
using support::DiagId;
using support::SourceRange;

std::size_t skip_blanks_and_comments(std::string_view text, std::size_t pos) {
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      ++pos;
    } else if (c == '#') {
      while (pos < text.size() && text[pos] != '\n') ++pos;
    } else {
      break;
    }
  }
  return pos;
}

bool starts_rule(std::string_view text, std::size_t pos) {
  return text.substr(pos, 4) == "rule" && (pos + 4 == text.size() || !grammar::is_name_char(text[pos + 4]));
}

/// The start of the first line after `from`'s line that begins (after indentation) with `rule`.
std::size_t next_rule_line(std::string_view text, std::size_t from) {
  std::size_t pos = text.find('\n', from);
  while (pos != std::string_view::npos) {
    std::size_t start = pos + 1;
    while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
    if (starts_rule(text, start)) return start;
    pos = text.find('\n', start);
  }
  return text.size();
}

/// Where brackets first nest deeper than max_nesting, ignoring texts and comments.
std::optional<std::size_t> too_deep(std::string_view text) {
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
    } else if (c == '(' || c == '{') {
      if (++depth > max_nesting) return i;
    } else if (c == ')' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return std::nullopt;
}

/// The extent of the token at `pos`, for the tildes under a diagnostic.
std::uint32_t token_end(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end < text.size() && grammar::is_name_char(text[end])) ++end;
  if (end == pos && pos < text.size()) ++end;
  return static_cast<std::uint32_t>(end);
}

}  // namespace

ast::RuleFile parse_rule_file(const support::SourceManager& sources, support::FileId file,
                              support::DiagnosticEngine& diags) {
  ast::RuleFile result;
  result.file = file;
  const std::string_view text = sources.text(file);
  if (auto deep = too_deep(text)) {
    const auto at = static_cast<std::uint32_t>(*deep);
    diags.report(DiagId::nesting_too_deep, SourceRange{file, at, at + 1}, max_nesting);
    return result;
  }

  const iterator_type begin = text.data();
  const iterator_type end = text.data() + text.size();
  grammar::ParseState state{file, begin};
  const auto block = x3::with<grammar::parse_state_tag>(state)[grammar::rule_block()];

  std::size_t pos = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;  // a UTF-8 byte order mark
  while ((pos = skip_blanks_and_comments(text, pos)) < text.size()) {
    const std::size_t block_start = pos;
    iterator_type it = begin + pos;
    ast::Rule rule;
    try {
      if (x3::phrase_parse(it, end, block, grammar::skipper, rule)) {
        result.rules.push_back(std::move(rule));
        pos = static_cast<std::size_t>(it - begin);
        continue;
      }
      diags.report(DiagId::expected, SourceRange{file, static_cast<std::uint32_t>(pos), token_end(text, pos)},
                   "'rule'");
    } catch (const x3::expectation_failure<iterator_type>& failure) {
      // Point at the next token, not at the white space before it.
      const auto where = static_cast<std::uint32_t>(
          skip_blanks_and_comments(text, static_cast<std::size_t>(failure.where() - begin)));
      if (failure.which() == grammar::unterminated_text) {
        diags.report(DiagId::unterminated_string, SourceRange{file, where, where + 1});
      } else {
        // Every expectation point names its rule in words; should one slip through unnamed,
        // X3 gives a mangled type name, which must never reach an author.
        const bool named = failure.which().find("boost") == std::string::npos;
        auto d = diags.report(DiagId::expected, SourceRange{file, where, token_end(text, where)},
                              named ? failure.which() : std::string("something else here"));
        if (failure.which().rfind("'end'", 0) == 0) {
          const auto rule_at = static_cast<std::uint32_t>(block_start);
          d.note(SourceRange{file, rule_at, rule_at + 4}, DiagId::note_to_match, "'rule'");
        }
      }
    }
    pos = next_rule_line(text, block_start);
  }
  return result;
}

}  // namespace rapa::parser
