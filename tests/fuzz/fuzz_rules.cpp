// Fuzz target for the rule language: the bytes as one rule file, parsed and checked against a
// fixed kb (tests/diagnostics/kb/*.yaml, loaded once at start from a path compiled in, or from
// the directory named by $RAPA_FUZZ_KB_DIR, e.g. the bundled kb/), then the
// diagnostics rendered, which reads every reported range back out of the buffers. The bytes are
// first validated as text, as SourceManager::load_file does; invalid text stops there, as it
// does in the real loader. This is check_buffers() with the kb loaded once instead of per input,
// which keeps the fuzzer fast.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parser/check/rule_checker.hpp"
#include "parser/kb/kb_loader.hpp"
#include "parser/kb/knowledge_base.hpp"
#include "parser/parse.hpp"
#include "support/diagnostic_render.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"
#include "tests/read_file.hpp"

#ifndef RAPA_FUZZ_KB_DIR
#error "RAPA_FUZZ_KB_DIR must name the directory of the fixture kb"
#endif

namespace {

using rapa::test::read_whole_file;

struct KbFile {
  std::string name;
  std::string text;
};

struct Fixture {
  std::vector<KbFile> files;
  rapa::kb::KnowledgeBase kb;
};

/// Adds the kb texts to `sources` in a fixed order, so that they get the same FileIds 1..n in
/// every SourceManager and the ranges kept in the loaded kb stay valid there.
std::vector<rapa::support::FileId> add_kb(const std::vector<KbFile>& files, rapa::support::SourceManager& sources) {
  std::vector<rapa::support::FileId> ids;
  for (const auto& file : files) ids.push_back(sources.add_buffer(file.name, file.text));
  return ids;
}

/// The fixture kb, read and loaded once; each input gets a fresh SourceManager holding copies of
/// its texts, so that memory does not grow over millions of runs.
const Fixture& fixture() {
  static const Fixture loaded = [] {
    namespace fs = std::filesystem;
    const char* from_env = std::getenv("RAPA_FUZZ_KB_DIR");
    const std::string dir = from_env && *from_env ? from_env : RAPA_FUZZ_KB_DIR;
    std::vector<fs::path> paths;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) {
      std::fprintf(stderr, "fuzz_rules: no kb files in '%s'\n", dir.c_str());
      std::abort();
    }
    Fixture out;
    for (const auto& path : paths) {
      KbFile file{path.string(), {}};
      if (!read_whole_file(path, file.text)) {
        std::fprintf(stderr, "fuzz_rules: cannot read '%s'\n", file.name.c_str());
        std::abort();
      }
      out.files.push_back(std::move(file));
    }
    rapa::support::SourceManager sources;
    rapa::support::DiagnosticEngine diags;
    for (auto id : add_kb(out.files, sources)) rapa::kb::load_kb_file(sources, id, out.kb, diags);
    rapa::kb::finish_kb(out.kb, diags);
    if (diags.has_errors()) {
      std::fprintf(stderr, "fuzz_rules: the fixture kb in '%s' has errors:\n%s", dir.c_str(),
                   rapa::support::render_text(sources, diags.sorted()).c_str());
      std::abort();
    }
    return out;
  }();
  return loaded;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rapa;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (support::SourceManager::validate_text(bytes)) return 0;  // the parser never sees such text

  const Fixture& kb = fixture();
  support::SourceManager sources;
  support::DiagnosticEngine diags;
  add_kb(kb.files, sources);
  const support::FileId file = sources.add_buffer("fuzz.rules", std::string(bytes));
  const std::vector<parser::ast::RuleFile> files{parser::parse_rule_file(sources, file, diags)};
  parser::check_rules(files, kb.kb, diags);
  (void)support::render_text(sources, diags.sorted());
  (void)support::render_json(sources, diags.diagnostics());
  return 0;
}
