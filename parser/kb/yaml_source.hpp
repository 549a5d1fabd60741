// YAML documents tied to the SourceManager buffer they came from. yaml-cpp parses; its events
// build a small tree of our own whose every node knows its byte offset. (yaml-cpp's YAML::Node
// tree costs about twice the parse again in time and many times the text in memory, which
// matters when a fuzzer hands over an 8 MiB file.) Every yaml-cpp failure becomes a
// diagnostic. Private to the YAML loaders of parser/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::kb {

class YamlSource;

/// A node of a parsed document: a cheap handle into the YamlSource that owns the tree. An
/// alias is the node it refers to (shared, not copied), as in yaml-cpp, so walking a file can
/// visit a node many times; an alias to a collection that is still open (a cycle) reads as
/// null instead.
class YamlNode {
 public:
  enum class Kind : std::uint8_t { null, scalar, sequence, map };

  YamlNode() = default;

  bool defined() const { return source_ != nullptr; }
  Kind kind() const;
  bool is_null() const { return !defined() || kind() == Kind::null; }
  bool is_scalar() const { return defined() && kind() == Kind::scalar; }
  bool is_sequence() const { return defined() && kind() == Kind::sequence; }
  bool is_map() const { return defined() && kind() == Kind::map; }

  /// The scalar's value ("" for other kinds).
  const std::string& scalar() const;
  /// Items of a sequence, or key/value pairs of a map.
  std::size_t size() const;
  YamlNode item(std::size_t i) const;
  YamlNode key(std::size_t i) const;
  YamlNode value(std::size_t i) const;

  /// Byte offset yaml-cpp marked the node at; nullopt when it gave none.
  std::optional<std::uint32_t> offset() const;

 private:
  friend class YamlSource;
  YamlNode(const YamlSource* source, std::uint32_t index) : source_(source), index_(index) {}
  const YamlSource* source_ = nullptr;
  std::uint32_t index_ = 0;
};

class YamlSource {
 public:
  YamlSource(const support::SourceManager& sources, support::FileId file);
  YamlSource(const YamlSource&) = delete;
  YamlSource& operator=(const YamlSource&) = delete;

  support::FileId file() const { return file_; }
  std::string_view text() const { return text_; }

  /// Parses every document of the buffer and returns their roots. A syntax error (or an
  /// unterminated quoted string, which yaml-cpp silently runs to the end of the file) is
  /// reported as one yaml_syntax or yaml_too_deep error and yields nullopt: YAML cannot be
  /// recovered after it.
  std::optional<std::vector<YamlNode>> parse(support::DiagnosticEngine& diags);

  /// The token a node starts with, as written: a scalar with its quotes, a flow collection
  /// from its bracket to the matching one when that is on the same line, the first key of a
  /// block mapping, the '-' of a block sequence. A null node that has no text of its own (an
  /// empty value) gets `fallback`.
  support::SourceRange range(const YamlNode& node, support::SourceRange fallback = {}) const;
  support::SourceRange range_at(std::uint32_t begin, std::uint32_t end) const {
    return {file_, begin, end};
  }

 private:
  friend class YamlNode;
  friend class TreeBuilder;
  struct Node {
    YamlNode::Kind kind = YamlNode::Kind::null;
    std::uint32_t offset = 0;
    bool has_offset = false;
    std::string value;                    // scalars
    std::vector<std::uint32_t> children;  // sequence items; map keys and values alternating
    enum class RangeState : std::uint8_t { unknown, own, fallback };
    mutable RangeState range_state = RangeState::unknown;  // range() caches its answer here
    mutable support::SourceRange range;
  };

  /// Byte offset of a yaml-cpp mark (0-based line and byte column), clamped to the buffer.
  std::optional<std::uint32_t> offset(int line, int column) const;
  /// The node's range; sets use_fallback when the node has no text of its own.
  support::SourceRange own_range(const YamlNode& node, bool& use_fallback) const;
  /// A range of one character (or none at a line end) at an offset.
  support::SourceRange point(std::uint32_t offset) const;
  std::uint32_t line_end(std::uint32_t offset) const;
  std::uint32_t plain_end(std::uint32_t offset) const;
  std::uint32_t flow_end(std::uint32_t offset) const;
  /// Offset just past the closing quote of the quoted scalar opening at `offset`, or nullopt
  /// if it is never closed.
  std::optional<std::uint32_t> quoted_end(std::uint32_t offset) const;

  const support::SourceManager& sources_;
  support::FileId file_;
  std::string_view text_;
  std::uint32_t bom_ = 0;  // yaml-cpp skips a UTF-8 byte-order mark without counting it
  std::vector<Node> nodes_;
  mutable std::unordered_map<std::uint32_t, std::uint32_t> quoted_end_;
};

/// Text written by the user, made safe to quote in a message: control characters and invalid
/// UTF-8 become '?', and text beyond `limit` bytes is cut at a character boundary with "...".
std::string shown(std::string_view text, std::size_t limit = 80);

}  // namespace rapa::kb
