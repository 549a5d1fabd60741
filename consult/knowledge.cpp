#include "consult/knowledge.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "parser/lower.hpp"
#include "support/sha256.hpp"

namespace rapa::consult {

std::optional<Knowledge> load_knowledge(const std::vector<std::string>& paths, support::DiagnosticEngine& diags) {
  Knowledge knowledge;
  if (!load_knowledge_into(knowledge, paths, diags)) return std::nullopt;
  return knowledge;
}

bool load_knowledge_into(Knowledge& knowledge, const std::vector<std::string>& paths, support::DiagnosticEngine& diags) {
  knowledge.checked = parser::check_paths(paths, *knowledge.sources, diags);
  if (diags.has_errors()) return false;
  knowledge.rules = parser::lower(knowledge.checked, *knowledge.sources);
  support::Sha256 hash;
  for (support::FileId id = 1; id <= knowledge.sources->file_count(); ++id) {
    // Length-prefixed, so that moving text from one file to the next changes the hash. The
    // file's name without its directory: the same rules installed elsewhere are the same version.
    const std::string name = std::filesystem::path(knowledge.sources->name(id)).filename().string();
    auto text = knowledge.sources->text(id);
    hash.update(fmt::format("{}:{}\n", name.size(), name));
    hash.update(fmt::format("{}:", text.size()));
    hash.update(text);
  }
  knowledge.version = hash.hex_digest();
  return true;
}

std::string location(const support::SourceManager& sources, support::SourceRange range) {
  if (!range.valid()) return {};
  return fmt::format("{}:{}", sources.name(range.file), sources.line_column(range.file, range.begin).line);
}

}  // namespace rapa::consult
