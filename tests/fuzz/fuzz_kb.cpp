// Fuzz target for the kb YAML loader: the bytes as one kb file, through load_kb_file and
// finish_kb, then the diagnostics rendered (which reads every reported range back out of the
// buffer). The bytes are first validated as text, as SourceManager::load_file does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parser/kb/kb_loader.hpp"
#include "parser/kb/knowledge_base.hpp"
#include "support/diagnostic_render.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rapa;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (support::SourceManager::validate_text(bytes)) return 0;  // the loader never sees such text

  support::SourceManager sources;
  support::DiagnosticEngine diags;
  const support::FileId file = sources.add_buffer("fuzz.yaml", std::string(bytes));
  kb::KnowledgeBase knowledge;
  kb::load_kb_file(sources, file, knowledge, diags);
  kb::finish_kb(knowledge, diags);
  (void)support::render_text(sources, diags.sorted());
  (void)support::render_json(sources, diags.diagnostics());
  return 0;
}
