// The -verify harness: reading directives, matching them against diagnostics, running a case.
#include "tests/diagnostics/verify.hpp"

#include <algorithm>
#include <exception>
#include <system_error>

#include "parser/check.hpp"
#include "tests/read_file.hpp"

namespace rapa::test::verify {
namespace {

using support::Severity;

constexpr std::string_view directive_prefix = "expected-";

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

bool all_blank(std::string_view s) { return trim_left(s).empty(); }

/// Reads up to 9 digits (no overflow); nullopt when there is none.
std::optional<std::uint32_t> read_number(std::string_view& s) {
  std::uint32_t value = 0;
  std::size_t n = 0;
  while (n < s.size() && n < 9 && s[n] >= '0' && s[n] <= '9') {
    value = value * 10 + static_cast<std::uint32_t>(s[n] - '0');
    ++n;
  }
  if (n == 0 || (n < s.size() && s[n] >= '0' && s[n] <= '9')) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

/// Where the directive of a line starts ("expected-..."), if the line has one: right after a '#'
/// and optional blanks.
std::optional<std::string_view> find_directive(std::string_view line) {
  for (std::size_t hash = line.find('#'); hash != std::string_view::npos; hash = line.find('#', hash + 1)) {
    const std::string_view rest = trim_left(line.substr(hash + 1));
    if (rest.substr(0, directive_prefix.size()) == directive_prefix) return rest;
  }
  return std::nullopt;
}

struct LineParser {
  Expectations& out;
  LineNumbers numbers;
  std::optional<std::size_t> last_primary;  // the latest expected-error or expected-warning
  std::uint32_t no_diagnostics_at = 0;

  void problem(std::uint32_t line, std::string what) {
    out.problems.push_back(std::to_string(line) + ": " + std::move(what));
  }

  void parse(std::string_view line, std::uint32_t line_number) {
    const auto found = find_directive(line);
    if (!found) return;
    std::string_view rest = *found;
    const std::string_view word = rest.substr(0, rest.find_first_of(" \t@{"));

    if (word == "expected-no-diagnostics") {
      rest.remove_prefix(word.size());
      if (!all_blank(rest)) return problem(line_number, "unexpected text after 'expected-no-diagnostics'");
      if (out.no_diagnostics) return problem(line_number, "'expected-no-diagnostics' is given twice");
      out.no_diagnostics = true;
      no_diagnostics_at = line_number;
      return;
    }

    Expectation e;
    if (word == "expected-error") {
      e.severity = Severity::error;
    } else if (word == "expected-warning") {
      e.severity = Severity::warning;
    } else if (word == "expected-note") {
      e.severity = Severity::note;
    } else {
      return problem(line_number, "unknown directive '" + std::string(word) +
                                      "' (expected-error, expected-warning, expected-note or "
                                      "expected-no-diagnostics)");
    }
    rest.remove_prefix(word.size());
    e.written_at = line_number;

    // @+N:C, @-N:C or @N:C
    if (rest.empty() || rest.front() != '@') {
      return problem(line_number, "'" + std::string(word) + "' needs a location such as '@+1:7' or '@12:3'");
    }
    rest.remove_prefix(1);
    int sign = 0;
    if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
      sign = rest.front() == '+' ? 1 : -1;
      rest.remove_prefix(1);
    }
    const auto line_part = read_number(rest);
    if (!line_part) return problem(line_number, "expected a line number after '@'");
    if (rest.empty() || rest.front() != ':')
      return problem(line_number, "expected ':' and a column after the line number");
    rest.remove_prefix(1);
    const auto column = read_number(rest);
    if (!column || *column == 0) return problem(line_number, "expected a column (1 or more) after ':'");
    e.column = *column;

    if (sign != 0) {
      if (numbers == LineNumbers::absolute_only)
        return problem(line_number, "relative line numbers ('@+N', '@-N') cannot be used in a .expected file");
      const long target = static_cast<long>(line_number) + sign * static_cast<long>(*line_part);
      if (target < 1) return problem(line_number, "the location points before the first line");
      e.line = static_cast<std::uint32_t>(target);
    } else {
      if (*line_part == 0) return problem(line_number, "line numbers start at 1");
      e.line = *line_part;
    }

    // {{message}}: up to the last "}}" of the line, so a message may itself end in '}'.
    rest = trim_left(rest);
    if (rest.substr(0, 2) != "{{") return problem(line_number, "expected '{{' and the message after the location");
    rest.remove_prefix(2);
    const std::size_t close = rest.rfind("}}");
    if (close == std::string_view::npos) return problem(line_number, "missing '}}' at the end of the message");
    if (!all_blank(rest.substr(close + 2))) return problem(line_number, "unexpected text after '}}'");
    e.message = std::string(rest.substr(0, close));

    if (e.severity == Severity::note) {
      if (!last_primary)
        return problem(line_number, "an expected-note must follow the expected-error or expected-warning it belongs to");
      e.owner = last_primary;
    } else {
      last_primary = out.items.size();
    }
    out.items.push_back(std::move(e));
  }
};

std::string position(const support::SourceManager& sources, const support::SourceRange& range) {
  const auto lc = sources.line_column(range.file, range.begin);
  return std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

bool located_at(const support::SourceManager& sources, const support::SourceRange& range,
                support::FileId file, std::uint32_t line, std::uint32_t column) {
  if (range.file != file) return false;
  const auto lc = sources.line_column(range.file, range.begin);
  return lc.line == line && lc.column == column;
}

std::string severity_word(Severity severity) { return std::string(support::severity_name(severity)); }

std::optional<std::string> read_bytes(const std::filesystem::path& path) {
  std::string text;
  if (!read_whole_file(path, text)) return std::nullopt;
  return text;
}

}  // namespace

Expectations parse_expectations(std::string_view text, LineNumbers numbers) {
  Expectations out;
  LineParser parser{out, numbers, std::nullopt, 0};
  std::uint32_t line_number = 0;
  std::size_t start = 0;
  while (true) {
    ++line_number;
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    parser.parse(line, line_number);
    if (end >= text.size()) break;
    start = end + 1;
  }
  if (out.no_diagnostics && !out.items.empty())
    out.problems.push_back(std::to_string(parser.no_diagnostics_at) +
                           ": 'expected-no-diagnostics' cannot be combined with expected diagnostics");
  return out;
}

std::vector<std::string> compare(const Expectations& expected, const std::vector<support::Diagnostic>& diagnostics,
                                 const support::SourceManager& sources, support::FileId case_file,
                                 std::string_view case_name) {
  const std::string name(case_name);
  std::vector<std::string> failures;
  for (const auto& problem : expected.problems) failures.push_back(name + ":" + problem + " (malformed directive)");
  if (expected.items.empty() && !expected.no_diagnostics && expected.problems.empty())
    failures.push_back(name + ": the case states no expectation; add expected-error/warning/note directives or "
                              "'# expected-no-diagnostics'");

  // The diagnostics of the case file, in source order; errors anywhere else are failures.
  std::vector<const support::Diagnostic*> local;
  for (const auto& d : diagnostics) {
    if (d.range.file == case_file) {
      local.push_back(&d);
    } else if (d.severity == Severity::error) {
      if (d.range.valid()) {
        failures.push_back(name + ": error in the kb fixture (it must stay clean): " +
                           std::string(sources.name(d.range.file)) + ":" + position(sources, d.range) + ": " +
                           d.message);
      } else {
        failures.push_back(name + ": error without a location: " + d.message);
      }
    }
  }
  std::stable_sort(local.begin(), local.end(), [](const auto* a, const auto* b) {
    return a->range.begin < b->range.begin;
  });

  std::vector<bool> diag_used(local.size(), false);
  std::vector<std::vector<bool>> note_used(local.size());
  for (std::size_t i = 0; i < local.size(); ++i) note_used[i].assign(local[i]->notes.size(), false);
  std::vector<std::optional<std::size_t>> matched(expected.items.size());  // expectation -> local index

  const auto where = [&](const Expectation& e) {
    return name + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": ";
  };

  // Errors and warnings first, so that notes can look up the diagnostic of their owner.
  for (std::size_t i = 0; i < expected.items.size(); ++i) {
    const auto& e = expected.items[i];
    if (e.severity == Severity::note) continue;
    for (std::size_t k = 0; k < local.size(); ++k) {
      const auto& d = *local[k];
      if (!diag_used[k] && d.severity == e.severity && d.message == e.message &&
          located_at(sources, d.range, case_file, e.line, e.column)) {
        diag_used[k] = true;
        matched[i] = k;
        break;
      }
    }
    if (matched[i]) continue;
    std::string failure = where(e) + "expected " + severity_word(e.severity) + " not produced: " + e.message;
    for (std::size_t k = 0; k < local.size(); ++k) {
      if (!diag_used[k] && local[k]->message == e.message) {
        failure += " (the same message was produced at " + position(sources, local[k]->range) + ")";
        break;
      }
    }
    failures.push_back(std::move(failure));
  }

  for (std::size_t i = 0; i < expected.items.size(); ++i) {
    const auto& e = expected.items[i];
    if (e.severity != Severity::note || !e.owner) continue;
    const auto& owner = expected.items[*e.owner];
    const auto owner_match = matched[*e.owner];
    if (!owner_match) {
      failures.push_back(where(e) + "expected note not produced: " + e.message + " (its " +
                         severity_word(owner.severity) + " expected at " + std::to_string(owner.line) + ":" +
                         std::to_string(owner.column) + " was not produced)");
      continue;
    }
    const auto& notes = local[*owner_match]->notes;
    bool found = false;
    for (std::size_t n = 0; n < notes.size(); ++n) {
      if (!note_used[*owner_match][n] && notes[n].message == e.message &&
          located_at(sources, notes[n].range, case_file, e.line, e.column)) {
        note_used[*owner_match][n] = true;
        found = true;
        break;
      }
    }
    // A note reported on its own (not attached to a diagnostic) is matched directly.
    for (std::size_t k = 0; !found && k < local.size(); ++k) {
      const auto& d = *local[k];
      if (!diag_used[k] && d.severity == Severity::note && d.message == e.message &&
          located_at(sources, d.range, case_file, e.line, e.column)) {
        diag_used[k] = true;
        found = true;
      }
    }
    if (found) continue;
    std::string failure = where(e) + "expected note not produced: " + e.message + " (on the " +
                          severity_word(owner.severity) + " at " + std::to_string(owner.line) + ":" +
                          std::to_string(owner.column) + ")";
    // Say so when the note exists but belongs to another diagnostic: the directive is misplaced.
    for (std::size_t k = 0; k < local.size(); ++k) {
      if (k == *owner_match) continue;
      for (const auto& note : local[k]->notes) {
        if (note.message == e.message && located_at(sources, note.range, case_file, e.line, e.column)) {
          failure += "; it is attached to the " + severity_word(local[k]->severity) + " at " +
                     position(sources, local[k]->range) + ": write the expected-note after that diagnostic's directive";
          break;
        }
      }
    }
    failures.push_back(std::move(failure));
  }

  for (std::size_t k = 0; k < local.size(); ++k) {
    const auto& d = *local[k];
    if (!diag_used[k])
      failures.push_back(name + ": unexpected " + severity_word(d.severity) + " at " + position(sources, d.range) +
                         ": " + d.message);
    for (std::size_t n = 0; n < d.notes.size(); ++n) {
      const auto& note = d.notes[n];
      if (note_used[k][n] || note.range.file != case_file) continue;  // notes elsewhere are ignored
      failures.push_back(name + ": unexpected note at " + position(sources, note.range) + ": " + note.message +
                         " (attached to the " + severity_word(d.severity) + " at " + position(sources, d.range) +
                         ")");
    }
  }
  return failures;
}

std::vector<std::filesystem::path> case_files(const std::filesystem::path& directory, std::string_view extension) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == extension) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> run_case(const std::filesystem::path& case_path,
                                  const std::vector<std::filesystem::path>& fixture) {
  const std::string name = case_path.filename().string();
  std::vector<std::string> failures;

  // The expectations: from the sidecar when there is one, else from the case's own comments.
  Expectations expected;
  std::filesystem::path sidecar = case_path;
  sidecar += ".expected";
  if (std::filesystem::exists(sidecar)) {
    const auto text = read_bytes(sidecar);
    if (!text) return {name + ": cannot read " + sidecar.string()};
    expected = parse_expectations(*text, LineNumbers::absolute_only);
    // Problems are located in the sidecar, not in the case.
    for (const auto& problem : expected.problems)
      failures.push_back(sidecar.filename().string() + ":" + problem + " (malformed directive)");
    expected.problems.clear();
  } else {
    const auto text = read_bytes(case_path);
    if (!text) return {name + ": cannot read the case file"};
    expected = parse_expectations(*text);
  }

  support::SourceManager sources;
  support::DiagnosticEngine diags;
  std::vector<support::FileId> kb_files;
  for (const auto& path : fixture) {
    const auto loaded = sources.load_file(path.string());
    if (loaded.failure) {
      failures.push_back(name + ": the kb fixture file " + path.string() + " cannot be loaded");
      continue;
    }
    kb_files.push_back(loaded.id);
  }

  const auto loaded = sources.load_file(case_path.string());
  const bool is_kb = case_path.extension() == ".yaml" || case_path.extension() == ".yml";
  std::vector<support::FileId> rule_files;
  if (loaded.failure) {
    rapa::parser::report_load_failure(sources, loaded.id, *loaded.failure, diags);
  } else if (is_kb) {
    kb_files.push_back(loaded.id);
  } else {
    rule_files.push_back(loaded.id);
  }

  try {
    parser::check_buffers(kb_files, rule_files, sources, diags);
  } catch (const std::exception& e) {
    failures.push_back(name + ": check_buffers threw: " + e.what());
  } catch (...) {
    failures.push_back(name + ": check_buffers threw an unknown exception");
  }

  auto found = compare(expected, diags.diagnostics(), sources, loaded.id, name);
  failures.insert(failures.end(), found.begin(), found.end());
  return failures;
}

std::string listing(const std::vector<std::string>& failures) {
  std::string out;
  for (const auto& failure : failures) out += failure + "\n";
  return out;
}

}  // namespace rapa::test::verify
