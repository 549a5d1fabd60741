// Buffers, file loading with text validation, and lazily built line tables.
#include "support/source_manager.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "support/utf8.hpp"

namespace rapa::support {

struct SourceManager::Buffer {
  std::string name;
  std::string text;
  // Offsets where each line starts, built on first use: most buffers never need one.
  mutable std::vector<std::uint32_t> line_starts;

  const std::vector<std::uint32_t>& lines() const {
    if (!line_starts.empty()) return line_starts;
    line_starts.push_back(0);
    for (std::uint32_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') line_starts.push_back(i + 1);
    return line_starts;
  }
};

SourceManager::SourceManager() = default;
SourceManager::~SourceManager() = default;

FileId SourceManager::add_buffer(std::string name, std::string text) {
  auto buffer = std::make_unique<Buffer>();
  buffer->name = std::move(name);
  buffer->text = std::move(text);
  buffers_.push_back(std::move(buffer));
  return static_cast<FileId>(buffers_.size());
}

std::optional<LoadFailure> SourceManager::validate_text(std::string_view text) {
  if (text.size() > max_buffer_bytes)
    return LoadFailure{LoadFailure::Kind::too_large, std::to_string(text.size()), 0};
  if (auto nul = text.find('\0'); nul != std::string_view::npos)
    return LoadFailure{LoadFailure::Kind::binary, {}, static_cast<std::uint32_t>(nul)};
  if (auto bad = first_invalid_utf8(text))
    return LoadFailure{LoadFailure::Kind::invalid_utf8, {}, static_cast<std::uint32_t>(*bad)};
  return std::nullopt;
}

SourceManager::Loaded SourceManager::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return {add_buffer(path, {}),
            LoadFailure{LoadFailure::Kind::unreadable, std::generic_category().message(err), 0}};
  }
  // Read in chunks, stopping one byte past the limit, so that a huge file is refused without
  // reading it all and a small one costs no more than its size (a buffer sized to the limit
  // up front made every file cost an 8 MiB zero-fill; docs/performance.md).
  std::string text;
  char chunk[1 << 16];
  while (in && text.size() <= max_buffer_bytes) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad())
    return {add_buffer(path, {}), LoadFailure{LoadFailure::Kind::unreadable, "read error", 0}};
  if (text.size() > max_buffer_bytes)
    return {add_buffer(path, {}),
            LoadFailure{LoadFailure::Kind::too_large, "more than " + std::to_string(max_buffer_bytes), 0}};
  auto failure = validate_text(text);
  if (failure) {
    // Keep only the valid prefix, so that the line and column of the bad byte can be shown
    // without ever printing the bad bytes themselves.
    text.resize(failure->offset);
  }
  return {add_buffer(path, std::move(text)), failure};
}

const SourceManager::Buffer& SourceManager::buffer(FileId id) const {
  assert(id >= 1 && id <= buffers_.size() && "file id out of range");
  return *buffers_[id - 1];
}

std::string_view SourceManager::name(FileId id) const { return buffer(id).name; }
std::string_view SourceManager::text(FileId id) const { return buffer(id).text; }
std::size_t SourceManager::file_count() const { return buffers_.size(); }

LineColumn SourceManager::line_column(FileId id, std::uint32_t offset) const {
  const auto& b = buffer(id);
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(b.text.size()));
  const auto& starts = b.lines();
  auto it = std::upper_bound(starts.begin(), starts.end(), offset);
  const auto line = static_cast<std::uint32_t>(std::distance(starts.begin(), it));
  return {line, offset - starts[line - 1] + 1};
}

std::uint32_t SourceManager::line_start(FileId id, std::uint32_t line) const {
  const auto& b = buffer(id);
  const auto& starts = b.lines();
  if (line == 0) return 0;
  if (line > starts.size()) return static_cast<std::uint32_t>(b.text.size());
  return starts[line - 1];
}

std::string_view SourceManager::line_text(FileId id, std::uint32_t line) const {
  const auto& b = buffer(id);
  const auto& starts = b.lines();
  if (line == 0 || line > starts.size()) return {};
  std::string_view text = b.text;
  const std::uint32_t begin = starts[line - 1];
  std::uint32_t end = line < starts.size() ? starts[line] - 1 : static_cast<std::uint32_t>(text.size());
  if (end > begin && text[end - 1] == '\r') --end;
  return text.substr(begin, end - begin);
}

}  // namespace rapa::support
