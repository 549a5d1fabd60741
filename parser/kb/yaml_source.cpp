// Parsing a YAML buffer with yaml-cpp and mapping its marks back to byte ranges.
#include "parser/kb/yaml_source.hpp"

#include <algorithm>
#include <exception>
#include <sstream>
#include <utility>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

namespace rapa::kb {

using support::DiagId;
using support::SourceRange;

namespace {

/// yaml-cpp's DepthGuard limit in SingleDocParser (0.7.0): it throws DeepRecursion, with the
/// unhelpful message "bad file", when collections nest this deep. Measured: at this depth
/// yaml-cpp needs well under 256 KiB of stack, so no pre-check of the text is needed.
constexpr int kYamlCppDepthLimit = 500;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

/// Length of the UTF-8 sequence a lead byte starts (1 for anything malformed).
std::uint32_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  if (lead >= 0xE0) return lead <= 0xEF ? 3 : 1;
  if (lead >= 0xC2) return 2;
  return 1;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

/// Sees every scalar once as yaml-cpp parses, to find a quoted scalar whose closing quote is
/// missing (yaml-cpp then quietly takes the rest of the file as the string).
class QuoteChecker final : public YAML::EventHandler {
 public:
  QuoteChecker(std::string_view text, const YamlSource& source,
                std::unordered_map<std::uint32_t, std::uint32_t>& quoted_end)
      : text_(text), source_(source), quoted_end_(quoted_end) {}

  std::optional<std::uint32_t> unterminated;  // offset of the opening quote

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                const std::string&) override {
    // Plain scalars carry the non-specific tag "?"; quoted and block scalars "!".
    if (tag != "!" || unterminated) return;
    auto at = source_.offset(mark);
    if (!at) return;
    std::uint32_t i = *at;
    // Skip node properties written before the scalar: &anchor, !tag.
    while (i < text_.size() && (text_[i] == '&' || text_[i] == '!')) {
      while (i < text_.size() && !is_space(text_[i]) && text_[i] != '\n') ++i;
      while (i < text_.size() && is_space(text_[i])) ++i;
    }
    if (i >= text_.size() || (text_[i] != '"' && text_[i] != '\'')) return;
    const char quote = text_[i];
    std::uint32_t j = i + 1;
    while (j < text_.size()) {
      const char c = text_[j];
      if (quote == '"' && c == '\\') {
        j += 2;
        continue;
      }
      if (c == quote) {
        if (quote == '\'' && j + 1 < text_.size() && text_[j + 1] == '\'') {
          j += 2;  // '' is an escaped single quote
          continue;
        }
        quoted_end_[i] = j + 1;
        return;
      }
      ++j;
    }
    unterminated = i;
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  std::string_view text_;
  const YamlSource& source_;
  std::unordered_map<std::uint32_t, std::uint32_t>& quoted_end_;
};

std::string lower_first(std::string text) {
  while (!text.empty() && (text.back() == '.' || text.back() == ' ' || text.back() == '\n'))
    text.pop_back();
  // Keep acronyms ("YAML ...") as they are; lower an ordinary capitalised first word.
  if (text.size() >= 2 && text[0] >= 'A' && text[0] <= 'Z' && !(text[1] >= 'A' && text[1] <= 'Z'))
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

}  // namespace

YamlSource::YamlSource(const support::SourceManager& sources, support::FileId file)
    : sources_(sources), file_(file), text_(sources.text(file)) {
  if (text_.starts_with(kBom)) bom_ = static_cast<std::uint32_t>(kBom.size());
}

std::optional<std::uint32_t> YamlSource::offset(const YAML::Mark& mark) const {
  if (mark.line < 0 || mark.column < 0) return std::nullopt;
  // yaml-cpp counts columns in bytes of the UTF-8 input (a Chinese character is 3 columns),
  // and counts lines at '\n' only, as the SourceManager does.
  const auto line = static_cast<std::uint32_t>(mark.line);
  if (line >= text_.size() + 1) return static_cast<std::uint32_t>(text_.size());
  std::uint64_t at = sources_.line_start(file_, line + 1);
  at += static_cast<std::uint64_t>(mark.column);
  if (line == 0) at += bom_;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(at, text_.size()));
}

SourceRange YamlSource::point(const YAML::Mark& mark) const {
  const auto at = offset(mark).value_or(0);
  if (at >= text_.size() || text_[at] == '\n' || text_[at] == '\r') return range_at(at, at);
  const auto length = utf8_length(static_cast<unsigned char>(text_[at]));
  return range_at(at, std::min<std::uint32_t>(at + length, static_cast<std::uint32_t>(text_.size())));
}

std::uint32_t YamlSource::line_end(std::uint32_t offset) const {
  auto end = text_.find('\n', offset);
  if (end == std::string_view::npos) end = text_.size();
  while (end > offset && (is_space(text_[end - 1]) || text_[end - 1] == '\r')) --end;
  return static_cast<std::uint32_t>(end);
}

std::uint32_t YamlSource::plain_end(std::uint32_t offset) const {
  // A plain scalar (or a block mapping's first key) ends at a comment, at ': ' or at the line end.
  std::uint32_t end = offset;
  while (end < text_.size() && text_[end] != '\n' && text_[end] != '\r') {
    if (text_[end] == '#' && end > offset && is_space(text_[end - 1])) break;
    if (text_[end] == ':' && end > offset &&
        (end + 1 == text_.size() || is_space(text_[end + 1]) || text_[end + 1] == '\n'))
      break;
    ++end;
  }
  while (end > offset && is_space(text_[end - 1])) --end;
  return end == offset ? offset + 1 : end;
}

std::uint32_t YamlSource::flow_end(std::uint32_t offset) const {
  // The matching bracket when it is on the same line; otherwise just the opening bracket.
  int depth = 0;
  for (std::uint32_t i = offset; i < text_.size() && text_[i] != '\n'; ++i) {
    const char c = text_[i];
    if (c == '"' || c == '\'') {
      const auto end = quoted_end(i);
      if (!end) break;
      i = *end - 1;
      continue;
    }
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return offset + 1;
}

std::optional<std::uint32_t> YamlSource::quoted_end(std::uint32_t offset) const {
  if (auto it = quoted_end_.find(offset); it != quoted_end_.end()) return it->second;
  const char quote = text_[offset];
  for (std::uint32_t j = offset + 1; j < text_.size(); ++j) {
    const char c = text_[j];
    if (quote == '"' && c == '\\') {
      ++j;
      continue;
    }
    if (c != quote) continue;
    if (quote == '\'' && j + 1 < text_.size() && text_[j + 1] == '\'') {
      ++j;
      continue;
    }
    quoted_end_[offset] = j + 1;
    return j + 1;
  }
  return std::nullopt;
}

SourceRange YamlSource::range(const YAML::Node& node, SourceRange fallback) const {
  if (!node.IsDefined()) return fallback;
  const auto at_opt = offset(node.Mark());
  if (!at_opt) return fallback;
  const std::uint32_t at = *at_opt;
  if (at >= text_.size()) return fallback.valid() ? fallback : range_at(at, at);
  const std::string_view rest = text_.substr(at);
  if (node.IsNull()) {
    // An empty value has no text; yaml-cpp then marks whatever token comes next.
    if (rest.starts_with("~")) return range_at(at, at + 1);
    for (std::string_view word : {"null", "Null", "NULL"})
      if (rest.starts_with(word)) return range_at(at, at + 4);
    return fallback.valid() ? fallback : range_at(at, at);
  }
  const char c = text_[at];
  if (c == '"' || c == '\'') {
    if (const auto end = quoted_end(at)) return range_at(at, *end);
    return range_at(at, line_end(at));
  }
  if (node.IsScalar()) {
    if (c == '|' || c == '>') return range_at(at, line_end(at));
    const std::string& value = node.Scalar();
    if (!value.empty() && rest.starts_with(value))
      return range_at(at, at + static_cast<std::uint32_t>(value.size()));
    return range_at(at, plain_end(at));
  }
  if (c == '[' || c == '{') return range_at(at, flow_end(at));
  if (c == '-') return range_at(at, at + 1);
  return range_at(at, plain_end(at));
}

std::optional<std::vector<YAML::Node>> YamlSource::parse(support::DiagnosticEngine& diags) {
  QuoteChecker checker(text_, *this, quoted_end_);
  std::optional<SourceRange> error_at;
  std::string message;
  bool too_deep = false;
  std::vector<YAML::Node> documents;
  try {
    {
      std::istringstream in{std::string(text_)};
      YAML::Parser parser(in);
      while (!checker.unterminated && parser.HandleNextDocument(checker)) {
      }
    }
    if (!checker.unterminated) {
      std::istringstream in{std::string(text_)};
      documents = YAML::LoadAll(in);
    }
  } catch (const YAML::DeepRecursion& e) {
    error_at = point(e.mark);
    too_deep = true;
  } catch (const YAML::Exception& e) {
    error_at = point(e.mark);
    message = yaml_error_message(e);
    if (e.msg.starts_with("unknown escape character")) {
      // yaml-cpp marks the character after the escape; point at its backslash instead.
      const auto end = error_at->begin;
      for (std::uint32_t back = 1; back <= 5 && back <= end; ++back) {
        if (text_[end - back] == '\\') {
          *error_at = range_at(end - back, end);
          break;
        }
      }
    }
  } catch (const std::exception& e) {
    error_at = range_at(0, 0);
    message = "cannot read the YAML: " + lower_first(e.what());
  }
  if (checker.unterminated) {
    // The missing quote explains whatever else went wrong after it.
    const auto at = *checker.unterminated;
    diags.report(DiagId::yaml_syntax, range_at(at, at + 1),
                 text_[at] == '"' ? "missing closing double quote of string"
                                  : "missing closing single quote of string");
    return std::nullopt;
  }
  if (too_deep) {
    diags.report(DiagId::yaml_too_deep, *error_at, kYamlCppDepthLimit);
    return std::nullopt;
  }
  if (error_at) {
    diags.report(DiagId::yaml_syntax, *error_at, message);
    return std::nullopt;
  }
  return documents;
}

std::string yaml_error_message(const YAML::Exception& error) {
  const std::string& msg = error.msg;
  struct Rewrite {
    std::string_view original;
    std::string_view ours;
  };
  static constexpr Rewrite rewrites[] = {
      {"illegal tab when looking for indentation", "tab character in indentation; indent with spaces"},
      {"end of sequence flow not found", "expected ']' to close the list"},
      {"end of map flow not found", "expected '}' to close the mapping"},
      {"end of sequence not found", "inconsistent indentation in list"},
      {"end of map not found", "inconsistent indentation in mapping"},
      {"illegal map value",
       "unexpected ':' (check the indentation, or quote text that contains ': ')"},
      {"illegal block entry", "unexpected list entry '-' (check the indentation)"},
      {"illegal map key", "unexpected mapping key '?'"},
      {"illegal flow end", "unmatched closing bracket"},
      {"unknown token", "this character cannot start a value; put the text in quotes"},
      {"the referenced anchor is not defined", "alias refers to an anchor that is not defined"},
      {"bad character found while scanning hex number", "invalid hexadecimal digit in escape sequence"},
      {"illegal EOF in scalar", "unexpected end of file in scalar"},
      {"illegal document indicator in scalar", "document marker '---' or '...' inside a scalar"},
      {"YAML major version too large", "unsupported YAML version"},
      {"repeated YAML directive", "repeated '%YAML' directive"},
      {"repeated TAG directive", "repeated '%TAG' directive"},
      {"YAML directives must have exactly one argument", "'%YAML' directive must have exactly one argument"},
      {"TAG directives must have exactly two arguments", "'%TAG' directive must have exactly two arguments"},
      {"end of verbatim tag not found", "missing '>' at the end of a verbatim tag"},
      {"anchor not found after &", "expected an anchor name after '&'"},
      {"alias not found after *", "expected an alias name after '*'"},
      {"aliases can't have any content, *including* tags", "an alias cannot have a tag or content"},
  };
  for (const auto& r : rewrites)
    if (msg == r.original) return std::string(r.ours);
  if (msg.starts_with("unknown escape character: "))
    return "unknown escape sequence '\\" + shown(msg.substr(26), 8) + "' in string";
  if (msg.starts_with("invalid unicode: ")) return "invalid unicode escape '" + shown(msg.substr(17), 16) + "'";
  if (msg.starts_with("bad YAML version: ")) return "bad YAML version '" + shown(msg.substr(18), 16) + "'";
  return lower_first(shown(msg, 200));
}

std::string shown(std::string_view text, std::size_t limit) {
  std::string result;
  result.reserve(std::min(text.size(), limit) + 3);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = utf8_length(lead);
    bool valid = lead >= 0x20 && lead != 0x7F && (lead < 0x80 || length > 1);
    if (valid && length > 1) {
      if (i + length > text.size()) {
        valid = false;
      } else {
        for (std::size_t k = 1; k < length; ++k)
          if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) valid = false;
        // Overlong three- and four-byte forms, surrogates and code points past U+10FFFF.
        const auto second = static_cast<unsigned char>(text[i + 1]);
        if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second >= 0xA0) ||
            (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second >= 0x90))
          valid = false;
      }
    }
    if (!valid) length = 1;
    if (result.size() + length > limit) {
      result += "...";
      break;
    }
    if (valid)
      result.append(text.substr(i, length));
    else
      result += '?';
    i += length;
  }
  return result;
}

}  // namespace rapa::kb
