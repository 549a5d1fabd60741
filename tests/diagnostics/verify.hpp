// A Clang `-verify`-style harness for the diagnostics corpus.
//
// A case is a rule file (tests/diagnostics/rules/*.rules) or a kb file (tests/diagnostics/yaml/
// *.yaml) that states, in comments, the diagnostics it must produce:
//
//   # expected-error@+1:7 {{unknown fact type 'diagnoses'; did you mean 'diagnosis'?}}
//   # expected-warning@-2:5 {{variable 'x' is bound but never used}}
//   # expected-note@12:3 {{previous definition is here}}
//   # expected-no-diagnostics
//
// `@+N` and `@-N` count lines from the directive's own line, `@N` is an absolute line; the column
// is the 1-based byte column where the diagnostic's range starts; the message is the exact full
// text. A note belongs to the diagnostic matched by the closest expected-error or
// expected-warning written before it. A case that cannot carry comments (invalid UTF-8, binary)
// takes its directives from a sidecar `<case>.expected`, which must use absolute lines.
//
// Every diagnostic and note located in the case file must be expected and every expectation must
// be met. Diagnostics located in other files (the kb fixture) are ignored, except errors: the
// fixture must stay clean.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace rapa::test::verify {

struct Expectation {
  support::Severity severity = support::Severity::error;
  std::uint32_t line = 0;    // 1-based line where the diagnostic must start
  std::uint32_t column = 0;  // 1-based byte column
  std::string message;
  std::uint32_t written_at = 0;      // the line of the directive itself
  std::optional<std::size_t> owner;  // notes: index (in Expectations::items) of their error/warning
};

struct Expectations {
  std::vector<Expectation> items;
  bool no_diagnostics = false;
  /// Malformed directives, as "LINE: what is wrong". A case with any of them fails.
  std::vector<std::string> problems;
};

enum class LineNumbers { relative_allowed, absolute_only };

/// Reads the directives of a case (any bytes: never fails, reports problems instead).
Expectations parse_expectations(std::string_view text,
                                LineNumbers numbers = LineNumbers::relative_allowed);

/// Matches the diagnostics of one run against the expectations of the case file `case_file`;
/// returns one readable line per failure ("case.rules:12:7: expected error not produced: ...",
/// "case.rules: unexpected error at 13:2: ..."), empty when the case passes.
std::vector<std::string> compare(const Expectations& expected, const std::vector<support::Diagnostic>& diagnostics,
                                 const support::SourceManager& sources, support::FileId case_file,
                                 std::string_view case_name);

/// The case files of a directory with the given extension (".rules", ".yaml"), sorted by name.
std::vector<std::filesystem::path> case_files(const std::filesystem::path& directory, std::string_view extension);

/// Runs one case through rapa::parser::check_buffers with the kb fixture: for a .rules case the
/// kb is the fixture and the rules are the case; for a .yaml case the kb is the fixture plus the
/// case. Returns the failures, empty when the case passes.
std::vector<std::string> run_case(const std::filesystem::path& case_path,
                                  const std::vector<std::filesystem::path>& fixture);

/// The failures as one block of text, one per line.
std::string listing(const std::vector<std::string>& failures);

}  // namespace rapa::test::verify
