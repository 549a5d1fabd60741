// The one owner of every text rapa reads (rule files, kb YAML, patients, REPL lines), and the one
// place that turns byte offsets into lines and columns.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapa::support {

using FileId = std::uint32_t;

/// A half-open byte range [begin, end) in one buffer. The default value is "no location".
struct SourceRange {
  FileId file = 0;  // 0 means "no file": buffers are numbered from 1
  std::uint32_t begin = 0;
  std::uint32_t end = 0;

  bool valid() const { return file != 0; }
  friend bool operator==(const SourceRange&, const SourceRange&) = default;
};

/// 1-based line and column; the column counts bytes, as GCC and Clang do.
struct LineColumn {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

/// Why a file could not be accepted as text.
struct LoadFailure {
  enum class Kind { unreadable, too_large, binary, invalid_utf8 };
  Kind kind;
  std::string detail;          // e.g. the OS error text
  std::uint32_t offset = 0;    // for binary / invalid_utf8: where the first bad byte is
};

class SourceManager {
 public:
  /// Largest text rapa accepts in one buffer. Rule files and patients are kilobytes; anything
  /// near this is a mistake (a log, an image) and is refused before it reaches a parser.
  static constexpr std::size_t max_buffer_bytes = 8u << 20;

  SourceManager();
  ~SourceManager();
  SourceManager(const SourceManager&) = delete;
  SourceManager& operator=(const SourceManager&) = delete;

  /// Adds a buffer held in memory (REPL line, test input). It is not validated.
  FileId add_buffer(std::string name, std::string text);

  /// Reads a file and validates it as UTF-8 text without NUL bytes and within the size limit.
  /// On failure the file is still registered (so a diagnostic can name it) and the failure is
  /// returned beside its id.
  struct Loaded {
    FileId id;
    std::optional<LoadFailure> failure;
  };
  Loaded load_file(const std::string& path);

  /// Validates text already in memory the way load_file does; nullopt when it is acceptable.
  static std::optional<LoadFailure> validate_text(std::string_view text);

  std::string_view name(FileId id) const;
  std::string_view text(FileId id) const;
  std::size_t file_count() const;

  LineColumn line_column(FileId id, std::uint32_t offset) const;
  /// The text of a 1-based line, without its line terminator.
  std::string_view line_text(FileId id, std::uint32_t line) const;
  /// The byte offset where a 1-based line starts (clamped to the buffer end).
  std::uint32_t line_start(FileId id, std::uint32_t line) const;

 private:
  struct Buffer;
  const Buffer& buffer(FileId id) const;
  std::vector<std::unique_ptr<Buffer>> buffers_;
};

}  // namespace rapa::support
