// Collects the files of a check run, loads them through the SourceManager (validated as text),
// then runs kb loading, parsing and the checker.
#include "parser/check.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "parser/check/rule_checker.hpp"
#include "parser/kb/kb_loader.hpp"
#include "parser/parse.hpp"

namespace rapa::parser {
namespace {

namespace fs = std::filesystem;
using support::DiagId;
using support::SourceRange;

enum class FileKind { rules, kb, other };

FileKind kind_of(const fs::path& path) {
  const auto ext = path.extension().string();
  if (ext == ".rules") return FileKind::rules;
  if (ext == ".yaml" || ext == ".yml") return FileKind::kb;
  return FileKind::other;
}

struct Inputs {
  std::vector<std::string> kb;
  std::vector<std::string> rules;
};

/// Directories are walked recursively in sorted order, so runs are reproducible; files of other
/// kinds inside a directory are passed over, but one named explicitly is an error.
Inputs collect(const std::vector<std::string>& paths, support::DiagnosticEngine& diags) {
  Inputs inputs;
  for (const auto& path : paths) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      diags.report(DiagId::file_unreadable, SourceRange{}, path, ec ? ec.message() : "no such file or directory");
      continue;
    }
    if (fs::is_directory(status)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && kind_of(it->path()) != FileKind::other) found.push_back(it->path());
      }
      if (ec) diags.report(DiagId::file_unreadable, SourceRange{}, path, ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty()) diags.report(DiagId::no_input_files, SourceRange{}, path);
      for (const auto& f : found) (kind_of(f) == FileKind::rules ? inputs.rules : inputs.kb).push_back(f.string());
      continue;
    }
    switch (kind_of(path)) {
      case FileKind::rules: inputs.rules.push_back(path); break;
      case FileKind::kb: inputs.kb.push_back(path); break;
      case FileKind::other: diags.report(DiagId::file_kind_unknown, SourceRange{}, path); break;
    }
  }
  return inputs;
}

/// Loads a file; a file that is not acceptable text is reported and left out of the run.
std::optional<support::FileId> load(const std::string& path, support::SourceManager& sources,
                                    support::DiagnosticEngine& diags) {
  const auto loaded = sources.load_file(path);
  if (!loaded.failure) return loaded.id;
  report_load_failure(sources, loaded.id, *loaded.failure, diags);
  return std::nullopt;
}

}  // namespace

void report_load_failure(const support::SourceManager& sources, support::FileId file,
                         const support::LoadFailure& failure, support::DiagnosticEngine& diags) {
  const SourceRange at{file, failure.offset, failure.offset};
  switch (failure.kind) {
    case support::LoadFailure::Kind::unreadable:
      diags.report(DiagId::file_unreadable, SourceRange{}, sources.name(file), failure.detail);
      break;
    case support::LoadFailure::Kind::too_large:
      diags.report(DiagId::file_too_large, SourceRange{file, 0, 0}, support::SourceManager::max_buffer_bytes);
      break;
    case support::LoadFailure::Kind::binary:
      diags.report(DiagId::file_binary, at);
      break;
    case support::LoadFailure::Kind::invalid_utf8:
      diags.report(DiagId::file_invalid_utf8, at);
      break;
  }
}

CheckedRuleBase check_buffers(const std::vector<support::FileId>& kb_files,
                              const std::vector<support::FileId>& rule_files, support::SourceManager& sources,
                              support::DiagnosticEngine& diags) {
  CheckedRuleBase result;
  for (auto id : kb_files) kb::load_kb_file(sources, id, result.kb, diags);
  kb::finish_kb(result.kb, diags);
  for (auto id : rule_files) result.files.push_back(parse_rule_file(sources, id, diags));
  check_rules(result.files, result.kb, diags);
  return result;
}

CheckedRuleBase check_paths(const std::vector<std::string>& paths, support::SourceManager& sources,
                            support::DiagnosticEngine& diags) {
  const auto inputs = collect(paths, diags);
  std::vector<support::FileId> kb_ids, rule_ids;
  for (const auto& path : inputs.kb)
    if (auto id = load(path, sources, diags)) kb_ids.push_back(*id);
  for (const auto& path : inputs.rules)
    if (auto id = load(path, sources, diags)) rule_ids.push_back(*id);
  return check_buffers(kb_ids, rule_ids, sources, diags);
}

}  // namespace rapa::parser
