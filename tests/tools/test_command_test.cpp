// `rapa test` end to end: the real executable on case files and rule folders written into a
// temporary directory, its report and its exit status.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;

struct Result {
  int status = -1;
  std::string out;  // standard output and error
};

Result rapa(const std::string& args) {
  Result r;
  const std::string command = std::string(RAPA_EXECUTABLE) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) r.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

/// A fresh temporary directory, removed afterwards.
struct Scratch {
  fs::path dir;
  // The process id keeps test cases that CTest runs side by side out of each other's way.
  explicit Scratch(const std::string& name)
      : dir(fs::temp_directory_path() / ("rapa-test-command-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() { fs::remove_all(dir); }
  std::string operator/(const std::string& sub) const { return (dir / sub).string(); }
};

/// A rule base: rules/test.rules beside a copy of the diagnostics kb.
void rule_base(const fs::path& root, const std::string& trough, const std::string& interaction_action) {
  fs::create_directories(root / "kb");
  fs::copy(std::string(RAPA_TEST_DIR) + "/diagnostics/kb", root / "kb",
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  write(root / "rules/test.rules",
        "rule itp.sirolimus\n"
        "  title \"Sirolimus for ITP\"\n"
        "  when\n"
        "    diagnosis(code: ITP, status: active)\n"
        "  then\n"
        "    recommend sirolimus start 2..4 mg/day, trough " +
            trough +
            " \"Off-label.\"\n"
            "  grade C\n"
            "  cite feng2020_itp\n"
            "end\n\n"
            "rule ddi.strong_inhibitor\n"
            "  title \"Strong CYP3A4 inhibitor with sirolimus\"\n"
            "  when\n"
            "    medication(drug: sirolimus, status: active | planned)\n"
            "    medication(drug: ?m, status: active | planned)\n"
            "    cyp3a4(drug: ?m, role: inhibitor, strength: strong)\n"
            "  then\n"
            "    " +
            interaction_action +
            " \"{?m} is a strong CYP3A4 inhibitor.\"\n"
            "  cite rapamune_label\n"
            "end\n\n"
            "rule aiha.sirolimus\n"
            "  title \"Sirolimus for AIHA\"\n"
            "  when\n"
            "    diagnosis(code: AIHA, status: active)\n"
            "  then\n"
            "    recommend sirolimus \"Off-label.\"\n"
            "  grade C\n"
            "  cite zhang2023_aiha\n"
            "end\n");
}

const std::string kPatient =
    "---\n"
    "patient: {age: 40 years, sex: male}\n"
    "diagnoses: [{code: ITP, status: active}]\n"
    "medications: [{drug: voriconazole, status: active}, {drug: sirolimus, status: planned}]\n";

const std::string kPassing =
    "description: passes\n"
    "expect:\n"
    "  must: [{kind: recommend, drug: sirolimus, details: {trough: within 4..15 ng/mL}}]\n"
    "  must_not: [{kind: contraindicate}]\n" +
    kPatient;

const std::string kFailing =
    "description: fails\n"
    "expect:\n"
    "  must: [{kind: warn, severity: critical}]\n"
    "  must_not: [{kind: recommend}]\n" +
    kPatient;

std::string rules_of(const Scratch& s, const std::string& base) {
  return "--rules " + s / (base + "/rules") + " --rules " + s / (base + "/kb");
}

TEST_CASE("rapa test: a line per case, the difference, the tally and the status", "[tools][cases]") {
  Scratch s("run");
  rule_base(s.dir / "now", "4..15 ng/mL", "warn high");
  write(s.dir / "cases/a_pass.yaml", kPassing);
  write(s.dir / "cases/sub/b_fail.yaml", kFailing);

  Result r = rapa("test " + rules_of(s, "now") + " " + s / "cases");
  CHECK(r.status == 1);
  CHECK(r.out.find("PASS " + s / "cases/a_pass.yaml" + ": passes\n") != std::string::npos);
  CHECK(r.out.find("FAIL " + s / "cases/sub/b_fail.yaml" + ": fails\n") != std::string::npos);
  CHECK(r.out.find("must (" + s / "cases/sub/b_fail.yaml" + ":3): kind: warn, severity: critical") !=
        std::string::npos);
  CHECK(r.out.find("severity is high, not critical") != std::string::npos);
  CHECK(r.out.find("must not (" + s / "cases/sub/b_fail.yaml" + ":4): kind: recommend") != std::string::npos);
  CHECK(r.out.find("#1 recommend sirolimus [itp.sirolimus]") != std::string::npos);
  CHECK(r.out.find("1 passed, 1 failed\n") != std::string::npos);
  CHECK(r.out.find("a_pass") < r.out.find("b_fail"));  // sorted

  Result pass = rapa("test " + rules_of(s, "now") + " " + s / "cases/a_pass.yaml");
  CHECK(pass.status == 0);
  CHECK(pass.out.find("1 passed, 0 failed") != std::string::npos);

  Result json = rapa("test --format json " + rules_of(s, "now") + " " + s / "cases");
  CHECK(json.status == 1);
  CHECK(json.out.find("\"failed\": 1") != std::string::npos);
}

TEST_CASE("rapa test: a YAML error is reported at the case file's line", "[tools][cases]") {
  Scratch s("yaml");
  rule_base(s.dir / "now", "4..15 ng/mL", "warn high");
  write(s.dir / "broken.yaml",
        "description: broken\n"
        "expect: {must: []}\n"
        "---\n"
        "patient: {age: 40 years, sex: male}\n"
        "diagnoses: [{code: ITP, status: active}\n");
  Result r = rapa("test " + rules_of(s, "now") + " " + s / "broken.yaml");
  CHECK(r.status == 1);
  CHECK(r.out.find("FAIL " + s / "broken.yaml") != std::string::npos);
  CHECK(r.out.find(s / "broken.yaml" + ":6:") != std::string::npos);  // the unclosed '[' runs to the end
  CHECK(r.out.find("0 passed, 1 failed") != std::string::npos);
}

TEST_CASE("rapa test --coverage lists the rules no case fires", "[tools][coverage]") {
  Scratch s("coverage");
  rule_base(s.dir / "now", "4..15 ng/mL", "warn high");
  write(s.dir / "a.yaml", kPassing);
  Result r = rapa("test --coverage " + rules_of(s, "now") + " " + s / "a.yaml");
  CHECK(r.status == 0);  // listed, not required
  CHECK(r.out.find("coverage: 2 of 3 rules fired by some case") != std::string::npos);
  CHECK(r.out.find("rule not fired: aiha.sirolimus") != std::string::npos);
  CHECK(r.out.find("source not cited: csh2025") != std::string::npos);
  Result required = rapa("test --require-coverage " + rules_of(s, "now") + " " + s / "a.yaml");
  CHECK(required.status == 1);
}

TEST_CASE("rapa test --against a folder lists advice gained, lost and changed", "[tools][impact]") {
  Scratch s("against");
  rule_base(s.dir / "now", "5..15 ng/mL", "info");
  rule_base(s.dir / "before", "4..15 ng/mL", "warn high");
  write(s.dir / "a.yaml", "description: impact\nexpect: {}\n" + kPatient);
  Result r = rapa("test " + rules_of(s, "now") + " " + s / "a.yaml" + " --against " + s / "before");
  CHECK(r.status == 0);
  CHECK(r.out.find("the advice of 1 of 1 cases differs") != std::string::npos);
  CHECK(r.out.find("changed: recommend sirolimus [itp.sirolimus]") != std::string::npos);
  CHECK(r.out.find("trough 4..15 ng/mL -> 5..15 ng/mL") != std::string::npos);
  CHECK(r.out.find("gained: info [ddi.strong_inhibitor]") != std::string::npos);
  CHECK(r.out.find("lost: warn high [ddi.strong_inhibitor]") != std::string::npos);
  CHECK(r.out.find("1 passed, 0 failed") != std::string::npos);

  Result same = rapa("test " + rules_of(s, "now") + " " + s / "a.yaml" + " --against " + s / "now");
  CHECK(same.out.find("the advice of 0 of 1 cases differs") != std::string::npos);
}

TEST_CASE("rapa test --against a git revision extracts the same paths at that revision", "[tools][impact]") {
  Scratch s("git");
  rule_base(s.dir / "repo", "4..15 ng/mL", "warn high");
  write(s.dir / "a.yaml", "description: impact\nexpect: {}\n" + kPatient);
  const std::string git = "git -C " + s / "repo" + " -c user.name=t -c user.email=t@t ";
  REQUIRE(std::system((git + "init -q && " + git + "add -A && " + git + "commit -qm v1").c_str()) == 0);
  rule_base(s.dir / "edited", "5..15 ng/mL", "warn high");
  fs::copy_file(s.dir / "edited/rules/test.rules", s.dir / "repo/rules/test.rules",
                fs::copy_options::overwrite_existing);

  Result r = rapa("test " + rules_of(s, "repo") + " " + s / "a.yaml" + " --against HEAD");
  CHECK(r.status == 0);
  CHECK(r.out.find("trough 4..15 ng/mL -> 5..15 ng/mL") != std::string::npos);
  Result bad = rapa("test " + rules_of(s, "repo") + " " + s / "a.yaml" + " --against no-such-revision");
  CHECK(bad.status == 2);
  CHECK(bad.out.find("neither a directory nor a revision") != std::string::npos);
}

TEST_CASE("rapa test: usage errors exit 2", "[tools]") {
  CHECK(rapa("test --no-such-option").status == 2);
  CHECK(rapa("test /no/such/case.yaml").status == 2);
  CHECK(rapa("test --format xml").status == 2);
  Result help = rapa("test --help");
  CHECK(help.status == 0);
  CHECK(help.out.find("usage: rapa test") != std::string::npos);
}

}  // namespace
