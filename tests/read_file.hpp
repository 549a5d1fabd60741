// Reading a whole file, for the tests, the fuzz targets and their replay main.
#pragma once

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace rapa::test {

/// The whole file; false when it cannot be read. C stdio rather than istreambuf_iterator, whose
/// inlined streambuf code makes g++ 12 -O3 warn -Wnull-dereference.
inline bool read_whole_file(const std::filesystem::path& path, std::string& out) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  out.clear();
  char chunk[65536];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) out.append(chunk, n);
  const bool ok = std::ferror(file) == 0;
  std::fclose(file);
  return ok;
}

/// The whole file, for a test that has just written it or that reads its own fixtures; throws
/// when it cannot be read, so that the test fails saying which file.
inline std::string read_file(const std::filesystem::path& path) {
  std::string text;
  if (!read_whole_file(path, text)) throw std::runtime_error("cannot read " + path.string());
  return text;
}

}  // namespace rapa::test
