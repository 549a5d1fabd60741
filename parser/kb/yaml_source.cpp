// Parsing a YAML buffer with yaml-cpp's event parser into a tree of our own, and mapping its
// marks back to byte ranges.
#include "parser/kb/yaml_source.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <sstream>
#include <utility>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

namespace rapa::kb {

using support::DiagId;
using support::SourceRange;

namespace {

/// yaml-cpp's DepthGuard limit in SingleDocParser (0.7.0): it throws DeepRecursion, with the
/// unhelpful message "bad file", when collections nest this deep. Measured: at this depth
/// yaml-cpp needs well under 256 KiB of stack, so no pre-check of the text is needed, and our
/// tree is built from events without recursion.
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

std::string lower_first(std::string text) {
  while (!text.empty() && (text.back() == '.' || text.back() == ' ' || text.back() == '\n'))
    text.pop_back();
  // Keep acronyms ("YAML ...") as they are; lower an ordinary capitalised first word.
  if (text.size() >= 2 && text[0] >= 'A' && text[0] <= 'Z' && !(text[1] >= 'A' && text[1] <= 'Z'))
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

std::string yaml_error_message(const std::string& msg);

/// yaml-cpp 0.7 loops for ever on a token that cannot start a node at the top level (a stray
/// ',': "-\n,\n"), opening one empty document after another at the same place. Seeing a
/// document open where the previous one opened is that loop; this stops it.
struct StuckParser {
  YAML::Mark mark;
};

}  // namespace

/// Builds the tree from yaml-cpp's events, and checks each quoted scalar for its closing quote
/// on the way (yaml-cpp quietly takes the rest of the file as a string that is never closed).
class TreeBuilder final : public YAML::EventHandler {
 public:
  explicit TreeBuilder(YamlSource& source) : source_(source) {}

  std::vector<std::uint32_t> roots;
  std::optional<std::uint32_t> unterminated;  // offset of the opening quote

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (last_document_ && last_document_->line == mark.line && last_document_->column == mark.column)
      throw StuckParser{mark};
    last_document_ = mark;
    anchors_.clear();
    stack_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    anchor_node(anchor, add(YamlNode::Kind::null, mark));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    // An alias shares the node it names; one to a collection still open reads as null.
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      add(YamlNode::Kind::null, mark);
      return;
    }
    attach(it->second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const auto index = add(YamlNode::Kind::scalar, mark);
    source_.nodes_[index].value = value;
    anchor_node(anchor, index);
    // Plain scalars carry the non-specific tag "?"; quoted and block scalars "!".
    if (tag == "!" && !unterminated) check_quote(source_.nodes_[index]);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(YamlNode::Kind::sequence, mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(YamlNode::Kind::map, mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  std::uint32_t add(YamlNode::Kind kind, const YAML::Mark& mark) {
    auto& nodes = source_.nodes_;
    const auto index = static_cast<std::uint32_t>(nodes.size());
    YamlSource::Node node;
    node.kind = kind;
    if (const auto at = source_.offset(mark.line, mark.column)) {
      node.offset = *at;
      node.has_offset = true;
    }
    nodes.push_back(std::move(node));
    attach(index);
    return index;
  }
  void attach(std::uint32_t index) {
    if (stack_.empty())
      roots.push_back(index);
    else
      source_.nodes_[stack_.back().index].children.push_back(index);
  }
  void open(YamlNode::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    stack_.push_back({add(kind, mark), anchor});
  }
  void close() {
    if (stack_.empty()) return;
    const auto [index, anchor] = stack_.back();
    stack_.pop_back();
    anchor_node(anchor, index);
  }
  void anchor_node(YAML::anchor_t anchor, std::uint32_t index) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = index;
  }
  void check_quote(const YamlSource::Node& node) {
    if (!node.has_offset) return;
    const auto text = source_.text_;
    std::uint32_t i = node.offset;
    // Skip node properties written before the scalar: &anchor, !tag.
    while (i < text.size() && (text[i] == '&' || text[i] == '!')) {
      while (i < text.size() && !is_space(text[i]) && text[i] != '\n') ++i;
      while (i < text.size() && is_space(text[i])) ++i;
    }
    if (i >= text.size() || (text[i] != '"' && text[i] != '\'')) return;
    if (!source_.quoted_end(i)) unterminated = i;
  }

  struct Open {
    std::uint32_t index;
    YAML::anchor_t anchor;
  };
  YamlSource& source_;
  std::optional<YAML::Mark> last_document_;
  std::vector<Open> stack_;
  std::map<YAML::anchor_t, std::uint32_t> anchors_;
};

YamlSource::YamlSource(const support::SourceManager& sources, support::FileId file)
    : sources_(sources), file_(file), text_(sources.text(file)) {
  if (text_.starts_with(kBom)) bom_ = static_cast<std::uint32_t>(kBom.size());
}

std::optional<std::uint32_t> YamlSource::offset(int line, int column) const {
  if (line < 0 || column < 0) return std::nullopt;
  // yaml-cpp counts columns in bytes of the UTF-8 input (a Chinese character is 3 columns),
  // and counts lines at '\n' only, as the SourceManager does.
  const auto l = static_cast<std::uint32_t>(line);
  if (l >= text_.size() + 1) return static_cast<std::uint32_t>(text_.size());
  std::uint64_t at = sources_.line_start(file_, l + 1);
  at += static_cast<std::uint64_t>(column);
  if (l == 0) at += bom_;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(at, text_.size()));
}

SourceRange YamlSource::point(std::uint32_t at) const {
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
  // The matching bracket when it is on the same line; otherwise just the opening bracket. The
  // scan never leaves the line (an apostrophe in "don't" must not send it to the end of the
  // file), so ranging a node costs at most one line.
  int depth = 0;
  char quote = '\0';
  for (std::uint32_t i = offset; i < text_.size() && text_[i] != '\n'; ++i) {
    const char c = text_[i];
    if (quote != '\0') {
      if (quote == '"' && c == '\\')
        ++i;
      else if (c == quote)
        quote = '\0';
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
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

SourceRange YamlSource::range(const YamlNode& node, SourceRange fallback) const {
  if (!node.defined()) return fallback;
  // Computed once per node: aliases make the loader range the same node many times, and a
  // flow collection's range costs a scan of its line.
  const Node& n = nodes_[node.index_];
  if (n.range_state == Node::RangeState::unknown) {
    bool use_fallback = false;
    n.range = own_range(node, use_fallback);
    n.range_state = use_fallback ? Node::RangeState::fallback : Node::RangeState::own;
  }
  if (n.range_state == Node::RangeState::own) return n.range;
  return fallback.valid() ? fallback : n.range;
}

SourceRange YamlSource::own_range(const YamlNode& node, bool& use_fallback) const {
  const auto at_opt = node.offset();
  if (!at_opt) {
    use_fallback = true;
    return {};
  }
  const std::uint32_t at = *at_opt;
  if (at >= text_.size()) {
    use_fallback = true;
    return range_at(at, at);
  }
  const std::string_view rest = text_.substr(at);
  if (node.is_null()) {
    // An empty value has no text; yaml-cpp then marks whatever token comes next.
    if (rest.starts_with("~")) return range_at(at, at + 1);
    for (std::string_view word : {"null", "Null", "NULL"})
      if (rest.starts_with(word)) return range_at(at, at + 4);
    use_fallback = true;
    return range_at(at, at);
  }
  const char c = text_[at];
  if (c == '"' || c == '\'') {
    if (const auto end = quoted_end(at)) return range_at(at, *end);
    return range_at(at, line_end(at));
  }
  if (node.is_scalar()) {
    if (c == '|' || c == '>') return range_at(at, line_end(at));
    const std::string& value = node.scalar();
    if (!value.empty() && rest.starts_with(value))
      return range_at(at, at + static_cast<std::uint32_t>(value.size()));
    return range_at(at, plain_end(at));
  }
  if (c == '[' || c == '{') return range_at(at, flow_end(at));
  if (c == '-') return range_at(at, at + 1);
  return range_at(at, plain_end(at));
}

std::optional<std::vector<YamlNode>> YamlSource::parse(support::DiagnosticEngine& diags) {
  nodes_.clear();
  TreeBuilder builder(*this);
  std::optional<SourceRange> error_at;
  std::string message;
  bool too_deep = false;
  try {
    std::istringstream in{std::string(text_)};
    YAML::Parser parser(in);
    while (!builder.unterminated && parser.HandleNextDocument(builder)) {
    }
  } catch (const StuckParser& e) {
    error_at = point(offset(e.mark.line, e.mark.column).value_or(0));
    const auto at = error_at->begin;
    message = at < text_.size() && text_[at] == ','
                  ? "unexpected ',' outside a list or mapping in brackets"
                  : "unexpected character at the top level";
  } catch (const YAML::DeepRecursion& e) {
    error_at = point(offset(e.mark.line, e.mark.column).value_or(0));
    too_deep = true;
  } catch (const YAML::Exception& e) {
    error_at = point(offset(e.mark.line, e.mark.column).value_or(0));
    message = yaml_error_message(e.msg);
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
    message = "cannot read the YAML: " + lower_first(shown(e.what(), 200));
  }
  if (builder.unterminated) {
    // The missing quote explains whatever else went wrong after it.
    const auto at = *builder.unterminated;
    nodes_.clear();
    diags.report(DiagId::yaml_syntax, range_at(at, at + 1),
                 text_[at] == '"' ? "missing closing double quote of string"
                                  : "missing closing single quote of string");
    return std::nullopt;
  }
  if (error_at) {
    nodes_.clear();
    if (too_deep)
      diags.report(DiagId::yaml_too_deep, *error_at, kYamlCppDepthLimit);
    else
      diags.report(DiagId::yaml_syntax, *error_at, message);
    return std::nullopt;
  }
  std::vector<YamlNode> roots;
  roots.reserve(builder.roots.size());
  for (auto index : builder.roots) roots.push_back(YamlNode(this, index));
  return roots;
}

YamlNode::Kind YamlNode::kind() const { return source_->nodes_[index_].kind; }

const std::string& YamlNode::scalar() const {
  static const std::string empty;
  return is_scalar() ? source_->nodes_[index_].value : empty;
}

std::size_t YamlNode::size() const {
  if (!defined()) return 0;
  const auto& node = source_->nodes_[index_];
  switch (node.kind) {
    case Kind::sequence: return node.children.size();
    case Kind::map: return node.children.size() / 2;
    case Kind::null:
    case Kind::scalar: return 0;
  }
  return 0;
}

YamlNode YamlNode::item(std::size_t i) const {
  return YamlNode(source_, source_->nodes_[index_].children.at(i));
}
YamlNode YamlNode::key(std::size_t i) const {
  return YamlNode(source_, source_->nodes_[index_].children.at(2 * i));
}
YamlNode YamlNode::value(std::size_t i) const {
  const auto& children = source_->nodes_[index_].children;
  // A map whose last key has no value yet cannot come out of the parser; be safe anyway.
  if (2 * i + 1 >= children.size()) return {};
  return YamlNode(source_, children[2 * i + 1]);
}

std::optional<std::uint32_t> YamlNode::offset() const {
  if (!defined()) return std::nullopt;
  const auto& node = source_->nodes_[index_];
  if (!node.has_offset) return std::nullopt;
  return node.offset;
}

namespace {
std::string yaml_error_message(const std::string& msg) {
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

}  // namespace

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
