// Reading a whole file for the fuzz targets and their replay main.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

namespace rapa::fuzz {

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

}  // namespace rapa::fuzz
