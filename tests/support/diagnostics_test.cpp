// The support layer: source buffers, text validation, diagnostics and their rendering,
// suggestions.
#include <catch2/catch.hpp>

#include <string>
#include <nlohmann/json.hpp>

#include "support/diagnostic_render.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"
#include "support/suggest.hpp"
#include "support/utf8.hpp"
#include "tests/read_file.hpp"

using namespace rapa::support;

TEST_CASE("line and column of offsets, lines without terminators", "[support]") {
  SourceManager sm;
  const auto id = sm.add_buffer("a.rules", "first\r\nsecond\n\nlast");
  CHECK(sm.line_column(id, 0).line == 1);
  CHECK(sm.line_column(id, 0).column == 1);
  CHECK(sm.line_column(id, 7).line == 2);
  CHECK(sm.line_column(id, 9).column == 3);
  CHECK(sm.line_column(id, 14).line == 3);
  CHECK(sm.line_column(id, 15).line == 4);
  CHECK(sm.line_column(id, 15).column == 1);
  CHECK(sm.line_column(id, 999).line == 4);  // clamped to the end
  CHECK(sm.line_text(id, 1) == "first");     // without "\r"
  CHECK(sm.line_text(id, 3).empty());
  CHECK(sm.line_text(id, 4) == "last");
  CHECK(sm.line_text(id, 5).empty());
}

TEST_CASE("text validation refuses NUL bytes, bad UTF-8 and oversized input", "[support]") {
  CHECK_FALSE(SourceManager::validate_text("plain ascii and 中文"));
  const auto nul = SourceManager::validate_text(std::string("ab\0cd", 5));
  REQUIRE(nul);
  CHECK(nul->kind == LoadFailure::Kind::binary);
  CHECK(nul->offset == 2);
  const auto bad = SourceManager::validate_text("ok\xC3\x28");
  REQUIRE(bad);
  CHECK(bad->kind == LoadFailure::Kind::invalid_utf8);
  CHECK(bad->offset == 2);
  CHECK(first_invalid_utf8("\xED\xA0\x80"));  // a UTF-16 surrogate
  CHECK(first_invalid_utf8("\xC0\xAF"));      // overlong '/'
  CHECK(first_invalid_utf8("\xF0\x9F\x98"));  // truncated sequence
  CHECK_FALSE(first_invalid_utf8("\xF0\x9F\x98\x80"));
  const auto big = SourceManager::validate_text(std::string(SourceManager::max_buffer_bytes + 1, 'a'));
  REQUIRE(big);
  CHECK(big->kind == LoadFailure::Kind::too_large);
}

TEST_CASE("loading a missing file reports it as unreadable", "[support]") {
  SourceManager sm;
  const auto loaded = sm.load_file("/nonexistent/dir/x.rules");
  REQUIRE(loaded.failure);
  CHECK(loaded.failure->kind == LoadFailure::Kind::unreadable);
  CHECK(sm.name(loaded.id) == "/nonexistent/dir/x.rules");
}

TEST_CASE("text rendering: location, caret under the range, fix-it and notes", "[support]") {
  SourceManager sm;
  const auto id = sm.add_buffer("r.rules", "rule a\n  when\n    diagnosys(code: ITP)\n");
  DiagnosticEngine diags;
  diags.report(DiagId::unknown_fact_type, SourceRange{id, 18, 27}, "diagnosys")
      .suggest("diagnosis")
      .note(SourceRange{id, 0, 4}, DiagId::note_previous_definition);
  const auto text = render_text(sm, diags.sorted());
  CHECK(text ==
        "r.rules:3:5: error: unknown fact type 'diagnosys'; did you mean 'diagnosis'?\n"
        "    3 |     diagnosys(code: ITP)\n"
        "      |     ^~~~~~~~~\n"
        "      |     diagnosis\n"
        "r.rules:1:1: note: previous definition is here\n"
        "    1 | rule a\n"
        "      | ^~~~\n");
}

TEST_CASE("caret placement counts wide characters as two columns", "[support]") {
  SourceManager sm;
  const auto id = sm.add_buffer("c.rules", "drug: 伏立康唑 x\n");
  DiagnosticEngine diags;
  const auto x = static_cast<std::uint32_t>(std::string("drug: 伏立康唑 ").size());
  diags.report(DiagId::unknown_drug, SourceRange{id, x, x + 1}, "x");
  const auto text = render_text(sm, diags.sorted());
  // "drug: " is 6 columns, the four characters 8, the space 1.
  CHECK(text.find("\n      | " + std::string(15, ' ') + "^\n") != std::string::npos);
}

TEST_CASE("diagnostics are ordered by file, offset, then severity", "[support]") {
  SourceManager sm;
  const auto a = sm.add_buffer("a", "0123456789");
  const auto b = sm.add_buffer("b", "0123456789");
  DiagnosticEngine diags;
  diags.report(DiagId::unused_source, SourceRange{b, 1, 2}, "k");
  diags.report(DiagId::unknown_drug, SourceRange{a, 5, 6}, "late");
  diags.report(DiagId::unused_source, SourceRange{a, 2, 3}, "w");
  diags.report(DiagId::unknown_drug, SourceRange{a, 2, 3}, "e");
  const auto sorted = diags.sorted();
  REQUIRE(sorted.size() == 4);
  CHECK(sorted[0].message == "unknown drug 'e'");  // error before warning at the same place
  CHECK(sorted[1].message == "source 'w' is never cited");
  CHECK(sorted[2].message == "unknown drug 'late'");
  CHECK(sorted[3].range.file == b);
  CHECK(diags.error_count() == 2);
  CHECK(diags.warning_count() == 2);
}

TEST_CASE("warning groups can be silenced or made errors", "[support]") {
  DiagnosticEngine quiet;
  quiet.disable_warning_group("unused-source");
  quiet.report(DiagId::unused_source, SourceRange{}, "k").note(SourceRange{}, DiagId::note_previous_definition);
  quiet.report(DiagId::unused_variable, SourceRange{}, "?x");
  CHECK(quiet.diagnostics().size() == 1);

  DiagnosticEngine strict;
  strict.set_warnings_as_errors(true);
  strict.report(DiagId::unused_source, SourceRange{}, "k");
  CHECK(strict.error_count() == 1);
  CHECK(render_summary(strict.error_count(), strict.warning_count()) == "1 error generated.\n");
  CHECK(render_summary(2, 3) == "2 errors and 3 warnings generated.\n");
  CHECK(render_summary(0, 0).empty());
}

TEST_CASE("JSON rendering carries ids, positions, notes and fix-its", "[support]") {
  SourceManager sm;
  const auto id = sm.add_buffer("k.yaml", "sources:\n  - key: x\n");
  DiagnosticEngine diags;
  diags.report(DiagId::unused_source, SourceRange{id, 18, 19}, "x").note(SourceRange{id, 0, 7}, DiagId::note_declared_here, "x");
  const auto j = nlohmann::json::parse(render_json(sm, diags.sorted()));
  REQUIRE(j["diagnostics"].size() == 1);
  const auto& d = j["diagnostics"][0];
  CHECK(d["id"] == "unused_source");
  CHECK(d["severity"] == "warning");
  CHECK(d["group"] == "unused-source");
  CHECK(d["file"] == "k.yaml");
  CHECK(d["line"] == 2);
  CHECK(d["column"] == 10);
  CHECK(d["notes"][0]["line"] == 1);
  CHECK(j["warnings"] == 1);
  CHECK(j["errors"] == 0);
}

TEST_CASE("suggestions find plausible typos only", "[support]") {
  const std::vector<std::string_view> drugs = {"sirolimus", "everolimus", "voriconazole", "tacrolimus"};
  CHECK(closest_match("voriconazol", drugs) == "voriconazole");
  CHECK(closest_match("sirolimsu", drugs) == "sirolimus");  // transposition
  CHECK(closest_match("SIROLIMUS", drugs) == "sirolimus");  // case differs only
  CHECK(closest_match("aspirin", drugs) == std::nullopt);
  CHECK(edit_distance("kitten", "sitting", 10) == 3);
  CHECK(edit_distance("abc", "abcdefgh", 2) == 3);  // bounded: limit + 1
}

TEST_CASE("every diagnostic is documented in docs/language.md with its exact message", "[support][docs]") {
  const std::string whole = rapa::test::read_file(std::string(RAPA_SOURCE_DIR) + "/docs/language.md");
  const auto section = whole.find("\n## 12. Diagnostics");
  REQUIRE(section != std::string::npos);
  const std::string doc = whole.substr(section);
  constexpr DiagId ids[] = {
#define DIAG(id, severity, group, format) DiagId::id,
#include "support/diagnostic_kinds.def"
  };
  for (const auto id : ids) {
    const auto row = "| `" + std::string(diag_name(id)) + "` |";
    const auto at = doc.find(row);
    INFO(diag_name(id));
    REQUIRE(at != std::string::npos);
    const auto line = doc.substr(at, doc.find('\n', at) - at);
    // The table shows the message as printed: fmt's doubled braces are single there.
    std::string message(diag_format(id));
    for (const char* doubled : {"{{", "}}"})
      for (auto at_brace = message.find(doubled); at_brace != std::string::npos; at_brace = message.find(doubled, at_brace + 1))
        message.erase(at_brace, 1);
    CHECK(line.find(message) != std::string::npos);
    CHECK(line.find(std::string(severity_name(diag_severity(id)))) != std::string::npos);
  }
}
