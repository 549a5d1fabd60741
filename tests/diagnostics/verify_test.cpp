// The -verify harness: its own unit tests (a harness that mis-reads `@-1` would make the whole
// corpus meaningless), then the corpus itself, one test case per directory and one section per
// case file.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"
#include "tests/diagnostics/verify.hpp"

namespace {

using namespace rapa;
namespace verify = rapa::test::verify;
using support::DiagId;
using support::Severity;
namespace fs = std::filesystem;

const fs::path corpus_dir = fs::path(RAPA_TEST_DIR) / "diagnostics";

std::string describe(const verify::Expectations& e) {
  std::string out;
  for (const auto& item : e.items) {
    out += std::string(support::severity_name(item.severity)) + "@" + std::to_string(item.line) + ":" +
           std::to_string(item.column) + " {{" + item.message + "}} written at " + std::to_string(item.written_at);
    if (item.owner) out += " owner " + std::to_string(*item.owner);
    out += "\n";
  }
  for (const auto& p : e.problems) out += "problem " + p + "\n";
  return out;
}

/// The byte offset of the 1-based line and column in `text`.
std::uint32_t offset_of(std::string_view text, std::uint32_t line, std::uint32_t column) {
  std::uint32_t offset = 0;
  for (std::uint32_t l = 1; l < line; ++l) offset = static_cast<std::uint32_t>(text.find('\n', offset)) + 1;
  return offset + column - 1;
}

}  // namespace

TEST_CASE("verify: reading directives", "[diagnostics][verify]") {
  SECTION("relative, absolute and same-line locations") {
    const std::string text =
        "line 1\n"
        "# expected-error@+1:7 {{one}}\n"        // line 2 -> 3
        "line 3\n"
        "line 4\n"
        "# expected-warning@-2:5 {{two}}\n"      // line 5 -> 3
        "# expected-error@12:3 {{three}}\n"      // line 6 -> 12
        "code here   # expected-error@+0:1 {{four}}\n"  // line 7 -> 7
        "#expected-error@-6:2 {{five}}\n";       // line 8 -> 2
    const auto e = verify::parse_expectations(text);
    INFO(describe(e));
    REQUIRE(e.problems.empty());
    REQUIRE(e.items.size() == 5);
    CHECK(e.items[0].severity == Severity::error);
    CHECK(e.items[0].line == 3);
    CHECK(e.items[0].column == 7);
    CHECK(e.items[0].message == "one");
    CHECK(e.items[0].written_at == 2);
    CHECK(e.items[1].severity == Severity::warning);
    CHECK(e.items[1].line == 3);
    CHECK(e.items[1].column == 5);
    CHECK(e.items[1].written_at == 5);
    CHECK(e.items[2].line == 12);
    CHECK(e.items[2].column == 3);
    CHECK(e.items[3].line == 7);
    CHECK(e.items[3].column == 1);
    CHECK(e.items[4].line == 2);
    CHECK(e.items[4].column == 2);
    CHECK(e.items[4].message == "five");
    CHECK_FALSE(e.no_diagnostics);
  }
  SECTION("large offsets and columns") {
    const auto e = verify::parse_expectations("\n\n# expected-error@+100:250 {{x}}\n# expected-error@-3:1 {{y}}");
    INFO(describe(e));
    REQUIRE(e.items.size() == 2);
    CHECK(e.items[0].line == 103);
    CHECK(e.items[0].column == 250);
    CHECK(e.items[1].line == 1);
  }
  SECTION("messages are exact, braces and quotes included") {
    const auto e = verify::parse_expectations(
        "# expected-error@1:1 {{missing '}' to close the placeholder in text}}\n"
        "# expected-error@1:1 {{unknown escape sequence '\\q' in string}}\n"
        "# expected-error@1:1 {{placeholder '{?x}'}}\n"
        "# expected-error@1:1 {{ends in a brace }}}\n"
        "# expected-error@1:1 {{  spaces kept  }}   \n"
        "# expected-error@1:1 {{'西罗莫司' is not a known drug; did you mean 'sirolimus'?}}\n"
        "# expected-error@1:1    {{after blanks}}\n");
    INFO(describe(e));
    REQUIRE(e.problems.empty());
    REQUIRE(e.items.size() == 7);
    CHECK(e.items[0].message == "missing '}' to close the placeholder in text");
    CHECK(e.items[1].message == "unknown escape sequence '\\q' in string");
    CHECK(e.items[2].message == "placeholder '{?x}'");
    CHECK(e.items[3].message == "ends in a brace }");
    CHECK(e.items[4].message == "  spaces kept  ");
    CHECK(e.items[5].message == "'西罗莫司' is not a known drug; did you mean 'sirolimus'?");
    CHECK(e.items[6].message == "after blanks");
  }
  SECTION("a note belongs to the closest expected error or warning before it") {
    const auto e = verify::parse_expectations(
        "# expected-error@+1:1 {{e1}}\n"     // 0
        "# expected-note@+1:1 {{n1}}\n"      // 1 -> 0
        "# expected-warning@+1:1 {{w1}}\n"   // 2
        "# expected-note@+1:1 {{n2}}\n"      // 3 -> 2
        "# expected-note@+1:1 {{n3}}\n"      // 4 -> 2
        "# expected-error@+1:1 {{e2}}\n"     // 5
        "# expected-note@1:1 {{n4}}\n");     // 6 -> 5
    INFO(describe(e));
    REQUIRE(e.problems.empty());
    REQUIRE(e.items.size() == 7);
    CHECK_FALSE(e.items[0].owner.has_value());
    CHECK(e.items[1].owner == std::optional<std::size_t>(0));
    CHECK_FALSE(e.items[2].owner.has_value());
    CHECK(e.items[3].owner == std::optional<std::size_t>(2));
    CHECK(e.items[4].owner == std::optional<std::size_t>(2));
    CHECK(e.items[6].owner == std::optional<std::size_t>(5));
    CHECK(e.items[6].severity == Severity::note);
  }
  SECTION("a note before any error or warning is malformed") {
    const auto e = verify::parse_expectations("# expected-note@+1:1 {{n}}\n# expected-error@+1:1 {{e}}\n");
    INFO(describe(e));
    REQUIRE(e.problems.size() == 1);
    CHECK(e.problems[0].rfind("1: ", 0) == 0);
  }
  SECTION("expected-no-diagnostics") {
    const auto e = verify::parse_expectations("rule r when a() then info \"x\" end\n# expected-no-diagnostics\n");
    CHECK(e.no_diagnostics);
    CHECK(e.items.empty());
    CHECK(e.problems.empty());
    const auto both = verify::parse_expectations("# expected-no-diagnostics\n# expected-error@1:1 {{x}}\n");
    CHECK(both.problems.size() == 1);
  }
  SECTION("malformed directives are reported with their line") {
    const std::vector<std::string> malformed = {
        "# expected-eror@+1:1 {{typo}}",
        "# expected-error {{no location}}",
        "# expected-error@+1 {{no column}}",
        "# expected-error@+1:0 {{column zero}}",
        "# expected-error@+1:x {{bad column}}",
        "# expected-error@:3 {{no line}}",
        "# expected-error@0:3 {{line zero}}",
        "# expected-error@-2:3 {{before the first line}}",
        "# expected-error@+1:3 no braces",
        "# expected-error@+1:3 {{unclosed",
        "# expected-error@+1:3 {{trailing}} text",
        "# expected-error@+1:3 {single braces}",
        "# expected-error@+99999999999:3 {{overflow}}",
        "# expected-no-diagnostics please",
        "# expected-errors@+1:3 {{plural}}",
    };
    for (const auto& line : malformed) {
      INFO(line);
      const auto e = verify::parse_expectations("first line\n" + line + "\n");
      INFO(describe(e));
      REQUIRE(e.problems.size() == 1);
      CHECK(e.problems[0].rfind("2: ", 0) == 0);
      CHECK(e.items.empty());
    }
  }
  SECTION("only comments carry directives") {
    const auto e = verify::parse_expectations(
        "rule r when a() then info \"expected-error@1:1 {{not a directive}}\" end\n"
        "# a comment mentioning expected-error@1:1 {{in prose}}\n"
        "title: text # expected-warning@1:2 {{yaml comment}}\n");
    INFO(describe(e));
    REQUIRE(e.items.size() == 1);
    CHECK(e.items[0].message == "yaml comment");
    CHECK(e.items[0].line == 1);
  }
  SECTION("CRLF line ends") {
    const auto e = verify::parse_expectations("a\r\n# expected-error@-1:1 {{msg}}\r\nb\r\n");
    INFO(describe(e));
    REQUIRE(e.items.size() == 1);
    CHECK(e.items[0].line == 1);
    CHECK(e.items[0].message == "msg");
  }
  SECTION("sidecar files take absolute lines only") {
    const auto e = verify::parse_expectations("# expected-error@3:1 {{ok}}\n# expected-error@+1:1 {{relative}}\n",
                                              verify::LineNumbers::absolute_only);
    INFO(describe(e));
    REQUIRE(e.items.size() == 1);
    REQUIRE(e.problems.size() == 1);
    CHECK(e.problems[0].rfind("2: ", 0) == 0);
  }
  SECTION("any bytes") {
    static constexpr char bytes[] = "\0\xFF\xFE# expected-error@+1:1 {{x}}\n\x80\x81\n#\n# expected-\n";
    const std::string binary(bytes, sizeof bytes - 1);
    const auto e = verify::parse_expectations(binary);
    CHECK(e.items.size() == 1);
    CHECK(verify::parse_expectations("").items.empty());
    CHECK(verify::parse_expectations("#").items.empty());
    CHECK(verify::parse_expectations("# expected-").problems.size() == 1);
  }
}

TEST_CASE("verify: comparing with diagnostics", "[diagnostics][verify]") {
  const std::string case_text = "line one\n  line two\nline three\n";
  support::SourceManager sources;
  const auto case_file = sources.add_buffer("case.rules", case_text);
  const auto fixture = sources.add_buffer("fixture.yaml", "a: 1\nb: 2\n");
  support::DiagnosticEngine diags;
  const auto at = [&](std::uint32_t line, std::uint32_t column) {
    const auto offset = offset_of(case_text, line, column);
    return support::SourceRange{case_file, offset, offset + 1};
  };
  const auto run = [&](std::string_view directives) {
    return verify::compare(verify::parse_expectations(directives), diags.diagnostics(), sources, case_file,
                           "case.rules");
  };

  SECTION("everything expected and produced") {
    diags.report(DiagId::expected, at(2, 3), "':'");
    diags.report(DiagId::unused_variable, at(3, 1), "x");
    const auto failures = run("# expected-error@2:3 {{expected ':'}}\n"
                              "# expected-warning@3:1 {{variable 'x' is bound but never used}}\n");
    INFO(verify::listing(failures));
    CHECK(failures.empty());
  }
  SECTION("an expected error not produced") {
    const auto failures = run("# expected-error@2:3 {{expected ':'}}\n");
    REQUIRE(failures.size() == 1);
    CHECK(failures[0] == "case.rules:2:3: expected error not produced: expected ':'");
  }
  SECTION("an unexpected error") {
    diags.report(DiagId::expected, at(2, 3), "':'");
    const auto failures = run("# expected-no-diagnostics\n");
    REQUIRE(failures.size() == 1);
    CHECK(failures[0] == "case.rules: unexpected error at 2:3: expected ':'");
  }
  SECTION("a wrong column fails both ways and says where the message is") {
    diags.report(DiagId::expected, at(2, 3), "':'");
    const auto failures = run("# expected-error@2:4 {{expected ':'}}\n");
    INFO(verify::listing(failures));
    REQUIRE(failures.size() == 2);
    CHECK(failures[0] == "case.rules:2:4: expected error not produced: expected ':' (the same message was produced at 2:3)");
    CHECK(failures[1] == "case.rules: unexpected error at 2:3: expected ':'");
  }
  SECTION("a wrong line, message or severity fails") {
    diags.report(DiagId::expected, at(2, 3), "':'");
    CHECK_FALSE(run("# expected-error@1:3 {{expected ':'}}\n").empty());
    CHECK_FALSE(run("# expected-error@2:3 {{expected ')'}}\n").empty());
    CHECK_FALSE(run("# expected-error@2:3 {{expected ':' }}\n").empty());
    CHECK_FALSE(run("# expected-error@2:3 {{expected}}\n").empty());
    CHECK_FALSE(run("# expected-warning@2:3 {{expected ':'}}\n").empty());
    CHECK(run("# expected-error@2:3 {{expected ':'}}\n").empty());
  }
  SECTION("each diagnostic needs its own directive") {
    diags.report(DiagId::expected, at(2, 3), "':'");
    diags.report(DiagId::expected, at(2, 3), "':'");
    CHECK(run("# expected-error@2:3 {{expected ':'}}\n").size() == 1);
    CHECK(run("# expected-error@2:3 {{expected ':'}}\n# expected-error@2:3 {{expected ':'}}\n").empty());
    CHECK(run("# expected-error@2:3 {{expected ':'}}\n# expected-error@2:3 {{expected ':'}}\n"
              "# expected-error@2:3 {{expected ':'}}\n")
              .size() == 1);
  }
  SECTION("the fixture: warnings are ignored, errors fail") {
    diags.report(DiagId::yaml_empty_document, support::SourceRange{fixture, 0, 1});
    CHECK(run("# expected-no-diagnostics\n").empty());
    diags.report(DiagId::yaml_syntax, support::SourceRange{fixture, 5, 6}, "bad");
    const auto failures = run("# expected-no-diagnostics\n");
    REQUIRE(failures.size() == 1);
    CHECK(failures[0] == "case.rules: error in the kb fixture (it must stay clean): fixture.yaml:2:1: bad");
  }
  SECTION("an error without a location fails") {
    diags.report(DiagId::no_input_files, support::SourceRange{}, "x");
    CHECK(run("# expected-no-diagnostics\n").size() == 1);
  }
  SECTION("notes") {
    diags.report(DiagId::duplicate_rule, at(3, 1), "r").note(at(1, 1), DiagId::note_previous_definition);
    const std::string error = "# expected-error@3:1 {{rule 'r' is defined more than once}}\n";
    const std::string note = "# expected-note@1:1 {{previous definition is here}}\n";
    CHECK(run(error + note).empty());
    const auto missing_note = run(error);
    REQUIRE(missing_note.size() == 1);
    CHECK(missing_note[0] ==
          "case.rules: unexpected note at 1:1: previous definition is here (attached to the error at 3:1)");
    const auto wrong_note = run(error + "# expected-note@1:2 {{previous definition is here}}\n");
    CHECK(wrong_note.size() == 2);
  }
  SECTION("a note must be written after its own diagnostic") {
    diags.report(DiagId::expected, at(1, 1), "'rule'");
    diags.report(DiagId::duplicate_rule, at(3, 1), "r").note(at(2, 3), DiagId::note_previous_definition);
    const auto failures = run("# expected-note@2:3 {{previous definition is here}}\n"
                              "# expected-error@1:1 {{expected 'rule'}}\n"
                              "# expected-note@2:3 {{previous definition is here}}\n"
                              "# expected-error@3:1 {{rule 'r' is defined more than once}}\n");
    INFO(verify::listing(failures));
    // The first note has no owner (malformed); the second is under the wrong error.
    REQUIRE(failures.size() == 3);
    CHECK(failures[0].rfind("case.rules:1: ", 0) == 0);
    CHECK(failures[1].find("expected note not produced") != std::string::npos);
    CHECK(failures[1].find("it is attached to the error at 3:1") != std::string::npos);
    CHECK(failures[2] ==
          "case.rules: unexpected note at 2:3: previous definition is here (attached to the error at 3:1)");
  }
  SECTION("notes located in other files are ignored") {
    diags.report(DiagId::duplicate_rule, at(3, 1), "r")
        .note(support::SourceRange{fixture, 0, 1}, DiagId::note_previous_definition);
    CHECK(run("# expected-error@3:1 {{rule 'r' is defined more than once}}\n").empty());
  }
  SECTION("a note whose diagnostic is missing") {
    const auto failures = run("# expected-error@3:1 {{e}}\n# expected-note@1:1 {{n}}\n");
    REQUIRE(failures.size() == 2);
    CHECK(failures[1] == "case.rules:1:1: expected note not produced: n (its error expected at 3:1 was not produced)");
  }
  SECTION("a case without any expectation fails") {
    const auto failures = run("# just a comment\n");
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].find("no expectation") != std::string::npos);
    CHECK(run("# expected-no-diagnostics\n").empty());
  }
  SECTION("malformed directives fail") {
    const auto failures = run("# expected-no-diagnostics\n# expected-eror@1:1 {{x}}\n");
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].rfind("case.rules:2: unknown directive", 0) == 0);
  }
  SECTION("a diagnostic at the end of the file") {
    const auto end = static_cast<std::uint32_t>(case_text.size());
    diags.report(DiagId::expected, support::SourceRange{case_file, end, end}, "'end'");
    CHECK(run("# expected-error@4:1 {{expected 'end'}}\n").empty());
  }
}

namespace {

/// Every case of one corpus directory, each in its own section.
void run_corpus(const std::string& subdirectory, std::string_view extension) {
  const auto fixture = verify::case_files(corpus_dir / "kb", ".yaml");
  const auto cases = verify::case_files(corpus_dir / subdirectory, extension);
  {
    INFO("kb fixture: " << (corpus_dir / "kb").string() << ", cases: " << (corpus_dir / subdirectory).string());
    REQUIRE_FALSE(fixture.empty());
    CHECK_FALSE(cases.empty());
  }
  for (const auto& path : cases) {
    DYNAMIC_SECTION(subdirectory << "/" << path.filename().string()) {
      const auto failures = verify::run_case(path, fixture);
      if (failures.empty()) {
        SUCCEED();
      } else {
        FAIL_CHECK(verify::listing(failures));
      }
    }
  }
}

}  // namespace

TEST_CASE("diagnostics corpus: rule files", "[diagnostics][corpus]") { run_corpus("rules", ".rules"); }

TEST_CASE("diagnostics corpus: kb files", "[diagnostics][corpus]") { run_corpus("yaml", ".yaml"); }

TEST_CASE("diagnostics corpus: size and sidecars", "[diagnostics][corpus]") {
  const auto rules = verify::case_files(corpus_dir / "rules", ".rules");
  const auto yaml = verify::case_files(corpus_dir / "yaml", ".yaml");
  INFO(rules.size() << " rule cases, " << yaml.size() << " kb cases");
  CHECK(rules.size() + yaml.size() >= 40);
  // A sidecar without its case would silently test nothing.
  for (const char* subdirectory : {"rules", "yaml"}) {
    for (const auto& sidecar : verify::case_files(corpus_dir / subdirectory, ".expected")) {
      fs::path case_path = sidecar;
      case_path.replace_extension();
      INFO("sidecar " << sidecar.string());
      CHECK(fs::exists(case_path));
    }
  }
}

TEST_CASE("verify: a case that is not text does not crash the harness", "[diagnostics][verify]") {
  const fs::path dir =
      fs::temp_directory_path() /
      ("rapa_verify_test_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(dir);
  const auto fixture = verify::case_files(corpus_dir / "kb", ".yaml");
  REQUIRE_FALSE(fixture.empty());
  const auto write = [&](const std::string& name, std::string_view bytes) {
    std::ofstream out(dir / name, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  // Line 2 holds the first bad byte, at column 6.
  write("bad_utf8.rules", std::string_view("# x\nrule \xFF\xFE r when a() then info \"x\" end\n"));
  write("bad_utf8.rules.expected",
        "# expected-error@2:6 {{invalid UTF-8 byte sequence; files must be UTF-8 encoded}}\n");
  static constexpr char with_nul[] = "sources:\n  - key: a\0b\n";
  write("nul.yaml", std::string_view(with_nul, sizeof with_nul - 1));
  write("nul.yaml.expected", "# expected-error@2:11 {{file contains a NUL byte; rule and kb files must be text}}\n");
  write("no_sidecar.rules", std::string_view("\xFF\xFF\n# expected-no-diagnostics\n"));

  const auto bad = verify::run_case(dir / "bad_utf8.rules", fixture);
  INFO(verify::listing(bad));
  CHECK(bad.empty());
  const auto nul = verify::run_case(dir / "nul.yaml", fixture);
  INFO(verify::listing(nul));
  CHECK(nul.empty());
  // Without a sidecar the comment is read, and the load failure is unexpected.
  const auto no_sidecar = verify::run_case(dir / "no_sidecar.rules", fixture);
  INFO(verify::listing(no_sidecar));
  REQUIRE(no_sidecar.size() == 1);
  CHECK(no_sidecar[0] == "no_sidecar.rules: unexpected error at 1:1: invalid UTF-8 byte sequence; files must be UTF-8 "
                         "encoded");
  fs::remove_all(dir);
}
