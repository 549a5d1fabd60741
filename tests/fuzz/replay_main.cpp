// A main for the fuzz targets when libFuzzer is not linked (g++, or any build without
// RAPA_BUILD_FUZZERS): runs LLVMFuzzerTestOneInput once on every file named on the command line,
// directories searched recursively in sorted order, so that CTest replays the committed corpora
// under the sanitizers. Arguments starting with '-' are libFuzzer options and are ignored.
// After fmt's test/fuzzing/main.cc.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "tests/read_file.hpp"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

using rapa::test::read_whole_file;

bool collect(const fs::path& path, std::vector<fs::path>& files) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file(ec)) found.push_back(it->path());
    }
    if (ec) {
      std::fprintf(stderr, "replay: cannot list '%s': %s\n", path.c_str(), ec.message().c_str());
      return false;
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
    return true;
  }
  if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
    return true;
  }
  std::fprintf(stderr, "replay: no such file or directory: '%s'\n", path.c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  LLVMFuzzerInitialize(&argc, &argv);

  std::vector<fs::path> files;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    ok = collect(argv[i], files) && ok;
  }
  if (!ok) return 1;
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs given (usage: %s FILE|DIR...)\n", argv[0]);
    return 1;
  }

  for (const auto& file : files) {
    std::string bytes;
    if (!read_whole_file(file, bytes)) {
      std::fprintf(stderr, "replay: cannot read '%s'\n", file.c_str());
      return 1;
    }
    // A heap block of exactly the input's size, as libFuzzer passes it, so that ASan sees a
    // read one byte past the end.
    auto data = std::make_unique<std::uint8_t[]>(bytes.size());
    std::memcpy(data.get(), bytes.data(), bytes.size());
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(data.get(), bytes.size());
  }
  std::fprintf(stderr, "replay: %zu inputs, no crash\n", files.size());
  return 0;
}
