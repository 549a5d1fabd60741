// `rapa test`: the golden cases (docs/cases.md) run against the rule base, for authors: which
// cases pass, which rules no case exercises, and what an edit changes in every case's advice.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string_view>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "consult/cases.hpp"
#include "support/diagnostic_render.hpp"
#include "tools/commands.hpp"

namespace rapa::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view test_help =
    "usage: rapa test [options] [cases...]\n\n"
    "Runs golden cases (YAML files: a patient, and what its advice must and must not say;\n"
    "see docs/cases.md) and prints PASS or FAIL per case, with the expectation that failed\n"
    "and what the advice said instead, then 'N passed, N failed'. Directories are searched\n"
    "recursively for *.yaml. Without cases, runs tests/cases of $RAPA_HOME (or the source\n"
    "tree).\n\n"
    "options:\n"
    "  --rules PATH        a rule or kb file or directory to run the cases under; repeat for\n"
    "                      several (default: rules/ and kb/ of $RAPA_HOME or the source tree)\n"
    "  --coverage          also list the rules no case fires (definitely or for want of data)\n"
    "                      and the sources no rule cites\n"
    "  --require-coverage  as --coverage, and fail when some rule is fired by no case\n"
    "  --against REV|DIR   also run every case under another rule base and list, per case,\n"
    "                      the advice gained, lost or changed: DIR holds rules/ and kb/; REV is\n"
    "                      a git revision of the repository the --rules paths are in\n"
    "  --format text|json  how to print the report (default text)\n"
    "  --help              show this help\n\n"
    "exit status: 0 every case passed (and, with --require-coverage, every rule is fired),\n"
    "1 otherwise, 2 usage error\n";

struct Options {
  std::vector<std::string> cases;
  std::vector<std::string> rules;
  bool coverage = false;
  bool require_coverage = false;
  std::optional<std::string> against;
  bool json = false;
};

/// What one case gave under one rule base.
struct Outcome {
  bool loaded = false;
  std::string errors;  // rendered diagnostics when the case or its patient did not load
  consult::Consultation consultation;
  std::vector<std::string> fired;
};

/// A failed expectation, rendered: the GoldenCase it points into is not kept.
struct FailureReport {
  bool must = true;
  std::string line;  // "tests/cases/x.yaml:12"
  std::string expectation;
  std::string because;
  std::vector<std::string> explanation;
};

struct CaseReport {
  std::string path;
  std::string description;
  Outcome outcome;
  std::vector<FailureReport> failures;
  bool passed() const { return outcome.loaded && failures.empty(); }
};

/// How one case's advice differs under the other rule base.
struct CaseImpact {
  std::string path;
  std::string error;  // the patient does not load under the other rule base
  std::vector<consult::AdviceChange> changes;
};

std::string rendered(const consult::Knowledge& knowledge, const support::DiagnosticEngine& diags) {
  return support::render_text(*knowledge.sources, diags.sorted());
}

/// Case files under the given paths: files as given, directories recursively, sorted.
std::vector<std::string> case_files(const std::vector<std::string>& paths, std::string& error) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file() && (it->path().extension() == ".yaml" || it->path().extension() == ".yml"))
          found.push_back(it->path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      error = "no such file or directory: '" + path + "'";
      return {};
    }
  }
  return files;
}

Outcome run_case(consult::Knowledge& knowledge, const consult::GoldenCase& golden) {
  Outcome out;
  inference::Engine engine(knowledge.rules);
  support::DiagnosticEngine diags;
  if (!consult::load_case_patient(knowledge, golden, engine, diags)) {
    out.errors = rendered(knowledge, diags);
    return out;
  }
  auto run = engine.run();
  if (!run.completed) {
    out.errors = golden.path + ": the engine reached its firing limit\n";
    return out;
  }
  out.loaded = true;
  out.consultation = consult::consult(knowledge, engine);
  out.fired = consult::fired_rules(engine);
  return out;
}

std::optional<consult::Knowledge> load(const std::vector<std::string>& paths, std::string_view what) {
  support::DiagnosticEngine diags;
  auto knowledge = consult::load_knowledge(paths, diags);
  if (!knowledge) {
    // The sources the diagnostics point into went with the knowledge: give the messages, and
    // leave the places to `rapa check`.
    std::cerr << "rapa test: the rule base " << what << " has errors ('rapa check' shows where):\n";
    for (const auto& d : diags.sorted())
      if (d.severity == support::Severity::error) std::cerr << "  " << d.message << "\n";
  }
  return knowledge;
}

std::string shell_quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// A temporary directory removed when it goes out of scope.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "rapa-against-XXXXXX").string();
    if (mkdtemp(pattern.data())) path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

/// The rule base to compare with: DIR/rules and DIR/kb, or the same paths as `rules` at a git
/// revision of their repository, extracted into `temp`. Empty with `error` set when neither.
std::vector<std::string> other_rule_base(const std::string& against, const std::vector<std::string>& rules,
                                         const TempDir& temp, std::string& error) {
  std::error_code ec;
  if (fs::is_directory(against, ec)) {
    std::vector<std::string> paths;
    for (const char* sub : {"rules", "kb"})
      if (fs::is_directory(fs::path(against) / sub, ec)) paths.push_back((fs::path(against) / sub).string());
    if (paths.empty()) error = "'" + against + "' holds neither rules/ nor kb/";
    return paths;
  }
  if (temp.path.empty()) {
    error = "cannot create a temporary directory";
    return {};
  }
  // The repository the current rules come from, and their paths inside it.
  fs::path first = fs::absolute(rules.front(), ec);
  fs::path dir = fs::is_directory(first, ec) ? first : first.parent_path();
  const fs::path top_file = temp.path / "toplevel";
  std::string command = "git -C " + shell_quoted(dir.string()) + " rev-parse --show-toplevel > " +
                        shell_quoted(top_file.string());
  if (std::system(command.c_str()) != 0) {
    error = "'" + against + "' is not a directory, and '" + dir.string() + "' is not in a git repository";
    return {};
  }
  std::string top;
  {
    std::ifstream in(top_file);
    std::getline(in, top);
  }
  std::vector<std::string> inside, paths;
  for (const auto& rule_path : rules) {
    fs::path relative =
        fs::relative(fs::weakly_canonical(fs::absolute(rule_path)), fs::weakly_canonical(top), ec);
    if (ec || relative.empty() || *relative.begin() == "..") {
      error = "'" + rule_path + "' is not inside the git repository " + top;
      return {};
    }
    inside.push_back(relative.string());
    paths.push_back((temp.path / "tree" / relative).string());
  }
  fs::create_directories(temp.path / "tree", ec);
  command = "git -C " + shell_quoted(top) + " archive --format=tar " + shell_quoted(against) + " --";
  for (const auto& p : inside) command += " " + shell_quoted(p);
  command += " | tar -x -C " + shell_quoted((temp.path / "tree").string());
  // A pipeline's status is tar's; check the revision first so that a bad one is named.
  std::string verify = "git -C " + shell_quoted(top) + " rev-parse --verify --quiet " +
                       shell_quoted(against + "^{commit}") + " > /dev/null";
  if (std::system(verify.c_str()) != 0) {
    error = "'" + against + "' is neither a directory nor a revision of the git repository " + top;
    return {};
  }
  if (std::system(command.c_str()) != 0) {
    error = "cannot extract " + against + " from " + top;
    return {};
  }
  for (auto& p : paths)
    if (!fs::exists(p, ec)) p.clear();
  std::erase(paths, std::string());
  if (paths.empty()) error = "'" + against + "' has none of the rule paths";
  return paths;
}

std::string line_of(const consult::Knowledge& knowledge, support::SourceRange range) {
  return consult::location(*knowledge.sources, range);
}

std::string_view change_name(consult::AdviceChange::Kind kind) {
  switch (kind) {
    case consult::AdviceChange::Kind::gained:
      return "gained";
    case consult::AdviceChange::Kind::lost:
      return "lost";
    case consult::AdviceChange::Kind::changed:
      return "changed";
  }
  return "?";
}

int parse_options(const std::vector<std::string>& args, Options& options) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // "--opt value" or "--opt=value"
    auto value_of = [&](std::string_view name) -> std::optional<std::string> {
      if (a == name) {
        if (i + 1 >= args.size()) {
          std::cerr << "rapa test: '" << name << "' needs a value\n";
          return std::nullopt;
        }
        return args[++i];
      }
      return a.substr(name.size() + 1);
    };
    auto is = [&](std::string_view name) { return a == name || a.starts_with(std::string(name) + "="); };
    if (a == "--help" || a == "-h") {
      std::cout << test_help;
      return exit_ok;
    } else if (is("--rules")) {
      auto v = value_of("--rules");
      if (!v) return exit_usage;
      options.rules.push_back(*v);
    } else if (a == "--coverage") {
      options.coverage = true;
    } else if (a == "--require-coverage") {
      options.coverage = options.require_coverage = true;
    } else if (is("--against")) {
      auto v = value_of("--against");
      if (!v) return exit_usage;
      options.against = *v;
    } else if (is("--format")) {
      auto v = value_of("--format");
      if (!v) return exit_usage;
      if (*v != "text" && *v != "json") {
        std::cerr << "rapa test: unknown format '" << *v << "' (expected text or json)\n";
        return exit_usage;
      }
      options.json = *v == "json";
    } else if (a == "--") {
      options.cases.insert(options.cases.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                           args.end());
      break;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "rapa test: unknown option '" << a << "'\n" << test_help;
      return exit_usage;
    } else {
      options.cases.push_back(a);
    }
  }
  return -1;  // go on
}

}  // namespace

int test_command(const std::vector<std::string>& args) {
  Options options;
  if (int status = parse_options(args, options); status != -1) return status;
  const std::string home = default_home();
  if (options.rules.empty()) options.rules = {home + "/rules", home + "/kb"};
  if (options.cases.empty()) options.cases = {home + "/tests/cases"};

  std::string error;
  const auto files = case_files(options.cases, error);
  if (!error.empty()) {
    std::cerr << "rapa test: " << error << "\n";
    return exit_usage;
  }
  if (files.empty()) {
    std::cerr << "rapa test: no case files (*.yaml) found\n";
    return exit_usage;
  }

  auto knowledge = load(options.rules, "under test");
  if (!knowledge) return exit_errors;

  // --- Run every case under the current rule base ---
  std::vector<CaseReport> reports;
  std::vector<std::optional<consult::GoldenCase>> goldens;
  for (const auto& file : files) {
    CaseReport report;
    report.path = file;
    support::DiagnosticEngine diags;
    auto golden = consult::read_case(*knowledge, file, diags);
    if (!golden) {
      report.outcome.errors = rendered(*knowledge, diags);
    } else {
      report.description = golden->description;
      report.outcome = run_case(*knowledge, *golden);
      if (report.outcome.loaded)
        for (const consult::Failure& f : consult::check_case(*golden, report.outcome.consultation))
          report.failures.push_back({f.must, line_of(*knowledge, f.expectation->range),
                                     f.expectation->written, f.expectation->because, f.explanation});
    }
    goldens.push_back(std::move(golden));
    reports.push_back(std::move(report));
  }
  const auto passed = static_cast<std::size_t>(
      std::count_if(reports.begin(), reports.end(), [](const CaseReport& r) { return r.passed(); }));
  const std::size_t failed = reports.size() - passed;

  // --- Coverage ---
  std::vector<std::string> unfired, uncited;
  if (options.coverage) {
    std::set<std::string> fired, cited;
    for (const auto& r : reports) fired.insert(r.outcome.fired.begin(), r.outcome.fired.end());
    for (const inference::Rule& rule : knowledge->rules->rules) {
      if (!fired.contains(rule.name)) unfired.push_back(rule.name);
      for (const auto& c : rule.citations) cited.insert(knowledge->rules->sources.at(c.source).key);
    }
    for (const auto& source : knowledge->rules->sources)
      if (!cited.contains(source.key)) uncited.push_back(source.key);
  }

  // --- Impact of an edit: the same cases under another rule base ---
  std::vector<CaseImpact> impact;
  if (options.against) {
    TempDir temp;
    auto other_paths = other_rule_base(*options.against, options.rules, temp, error);
    if (!error.empty()) {
      std::cerr << "rapa test: " << error << "\n";
      return exit_usage;
    }
    auto other = load(other_paths, "of " + *options.against);
    if (!other) return exit_errors;
    for (std::size_t i = 0; i < reports.size(); ++i) {
      if (!goldens[i] || !reports[i].outcome.loaded) continue;
      Outcome before = run_case(*other, *goldens[i]);
      CaseImpact entry{reports[i].path, {}, {}};
      if (!before.loaded)
        entry.error = "the patient does not load under " + *options.against + ":\n" + before.errors;
      else
        entry.changes = consult::compare(before.consultation, reports[i].outcome.consultation);
      if (!entry.error.empty() || !entry.changes.empty()) impact.push_back(std::move(entry));
    }
  }

  // --- Report ---
  const bool coverage_failed = options.require_coverage && !unfired.empty();
  if (options.json) {
    json out = {{"cases", json::array()}, {"passed", passed}, {"failed", failed}};
    for (const auto& r : reports) {
      json c = {{"path", r.path},
                {"description", r.description},
                {"passed", r.passed()},
                {"failures", json::array()}};
      for (const auto& f : r.failures)
        c["failures"].push_back({{"must", f.must},
                                 {"line", f.line},
                                 {"expectation", f.expectation},
                                 {"because", f.because},
                                 {"explanation", f.explanation}});
      if (!r.outcome.errors.empty()) c["errors"] = r.outcome.errors;
      out["cases"].push_back(std::move(c));
    }
    if (options.coverage) out["coverage"] = {{"rules_not_fired", unfired}, {"sources_not_cited", uncited}};
    if (options.against) {
      json cases = json::array();
      for (const auto& entry : impact) {
        json c = {{"path", entry.path}, {"changes", json::array()}};
        if (!entry.error.empty()) c["error"] = entry.error;
        for (const auto& change : entry.changes)
          c["changes"].push_back(
              {{"change", change_name(change.kind)}, {"item", change.item}, {"what", change.what}});
        cases.push_back(std::move(c));
      }
      out["against"] = {{"revision", *options.against}, {"cases", cases}};
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& r : reports) {
      std::cout << (r.passed() ? "PASS " : "FAIL ") << r.path;
      if (!r.description.empty()) std::cout << ": " << r.description;
      std::cout << "\n";
      if (!r.outcome.errors.empty()) std::cout << r.outcome.errors;
      for (const auto& f : r.failures) {
        std::cout << "  " << (f.must ? "must" : "must not") << " (" << f.line << "): " << f.expectation
                  << "\n";
        if (!f.because.empty()) std::cout << "    because: " << f.because << "\n";
        std::cout << (f.must ? "    not met; the advice said:\n" : "    but the advice said:\n");
        for (const auto& line : f.explanation) std::cout << "      " << line << "\n";
      }
    }
    if (options.coverage) {
      const std::size_t rule_count = knowledge->rules->rules.size();
      std::cout << "\ncoverage: " << rule_count - unfired.size() << " of " << rule_count
                << " rules fired by some case\n";
      for (const auto& name : unfired) std::cout << "  rule not fired: " << name << "\n";
      std::cout << uncited.size() << " of " << knowledge->rules->sources.size()
                << " sources cited by no rule\n";
      for (const auto& key : uncited) std::cout << "  source not cited: " << key << "\n";
    }
    if (options.against) {
      std::cout << "\nagainst " << *options.against << ": the advice of " << impact.size() << " of "
                << reports.size()
                << " cases differs (gained and lost: present only under the rules tested, or only under "
                << *options.against << ")\n";
      for (const auto& entry : impact) {
        std::cout << entry.path << "\n";
        if (!entry.error.empty()) std::cout << "  " << entry.error;
        for (const auto& change : entry.changes) {
          std::cout << "  " << change_name(change.kind) << ": " << change.item << "\n";
          for (const auto& what : change.what) std::cout << "      " << what << "\n";
        }
      }
    }
    std::cout << "\n" << passed << " passed, " << failed << " failed\n";
    if (coverage_failed) std::cout << unfired.size() << " rules fired by no case\n";
  }
  return failed == 0 && !coverage_failed ? exit_ok : exit_errors;
}

}  // namespace rapa::tools
