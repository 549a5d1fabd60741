// yaml-cpp documents tied to the SourceManager buffer they came from: parsing with every yaml-cpp
// failure turned into a diagnostic, and yaml-cpp marks turned into byte ranges. Private to the
// YAML loaders of parser/ (yaml-cpp is not part of rapa's public interface).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::kb {

class YamlSource {
 public:
  YamlSource(const support::SourceManager& sources, support::FileId file);

  support::FileId file() const { return file_; }
  std::string_view text() const { return text_; }

  /// Parses every document of the buffer. A syntax error (or an unterminated quoted string,
  /// which yaml-cpp silently runs to the end of the file) is reported as one yaml_syntax or
  /// yaml_too_deep error and yields nullopt: YAML cannot be recovered after it.
  std::optional<std::vector<YAML::Node>> parse(support::DiagnosticEngine& diags);

  /// Byte offset of a yaml-cpp mark (0-based line and byte column), clamped to the buffer;
  /// nullopt for the null mark yaml-cpp gives to some nodes.
  std::optional<std::uint32_t> offset(const YAML::Mark& mark) const;

  /// The token a node starts with, as written: a scalar with its quotes, a flow collection
  /// from its bracket to the matching one when that is on the same line, the first key of a
  /// block mapping, the '-' of a block sequence. A null node that has no text of its own (an
  /// empty value) gets `fallback`.
  support::SourceRange range(const YAML::Node& node, support::SourceRange fallback = {}) const;

  support::SourceRange range_at(std::uint32_t begin, std::uint32_t end) const {
    return {file_, begin, end};
  }
  /// A range of one byte (or none at the end of the buffer) at a mark.
  support::SourceRange point(const YAML::Mark& mark) const;

 private:
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
  mutable std::unordered_map<std::uint32_t, std::uint32_t> quoted_end_;
};

/// yaml-cpp's message for an exception, in rapa's voice: lower case, no trailing period,
/// reworded where the original is obscure.
std::string yaml_error_message(const YAML::Exception& error);

/// Text written by the user, made safe to quote in a message: control characters and invalid
/// UTF-8 become '?', and text beyond `limit` bytes is cut at a character boundary with "...".
std::string shown(std::string_view text, std::size_t limit = 80);

}  // namespace rapa::kb
