// `rapa check`: the guideline authors' compiler.
#include <cstdlib>
#include <iostream>
#include <string_view>

#include <unistd.h>

#include "parser/check.hpp"
#include "support/diagnostic_render.hpp"
#include "tools/commands.hpp"

namespace rapa::tools {
namespace {

constexpr std::string_view check_help =
    "usage: rapa check [options] [paths...]\n\n"
    "Checks rule files (*.rules) against the kb (*.yaml) and reports every problem found,\n"
    "as file:line:col: severity: message, with the source line and a caret.\n"
    "Directories are searched recursively. Without paths, checks the bundled rules/ and kb/\n"
    "(of $RAPA_HOME when set).\n\n"
    "options:\n"
    "  --format text|json  how to print diagnostics (default text, on standard error;\n"
    "                      json goes to standard output)\n"
    "  --werror            treat warnings as errors\n"
    "  -Wno-<group>        silence a warning group: unused-source, unreachable-rule,\n"
    "                      unused-variable, duplicate-citation, grade-reason, empty-kb-file,\n"
    "                      or all\n"
    "  --color, --no-color colour the text output (default: when standard error is a terminal)\n"
    "  --help              show this help\n\n"
    "exit status: 0 no errors, 1 errors found, 2 usage error\n";

}  // namespace

std::string default_home() {
  if (const char* home = std::getenv("RAPA_HOME"); home && *home) return home;
  return RAPA_DEFAULT_HOME;
}

int check_command(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  bool json = false;
  bool werror = false;
  int colour = -1;  // -1: decide from the terminal
  std::vector<std::string> disabled;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << check_help;
      return exit_ok;
    } else if (a == "--format" || a.rfind("--format=", 0) == 0) {
      std::string value;
      if (a == "--format") {
        if (i + 1 >= args.size()) {
          std::cerr << "rapa check: '--format' needs a value: text or json\n";
          return exit_usage;
        }
        value = args[++i];
      } else {
        value = a.substr(9);
      }
      if (value != "text" && value != "json") {
        std::cerr << "rapa check: unknown format '" << value << "' (expected text or json)\n";
        return exit_usage;
      }
      json = value == "json";
    } else if (a == "--werror" || a == "-Werror") {
      werror = true;
    } else if (a.rfind("-Wno-", 0) == 0 && a.size() > 5) {
      disabled.push_back(a.substr(5));
    } else if (a == "--color" || a == "--colour") {
      colour = 1;
    } else if (a == "--no-color" || a == "--no-colour") {
      colour = 0;
    } else if (a == "--") {
      paths.insert(paths.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "rapa check: unknown option '" << a << "'\n" << check_help;
      return exit_usage;
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty()) {
    const auto home = default_home();
    paths = {home + "/rules", home + "/kb"};
  }

  support::SourceManager sources;
  support::DiagnosticEngine diags;
  diags.set_warnings_as_errors(werror);
  for (auto& group : disabled) diags.disable_warning_group(group);
  const auto result = parser::check_paths(paths, sources, diags);
  const auto sorted = diags.sorted();

  if (json) {
    std::cout << support::render_json(sources, sorted);
  } else {
    support::TextStyle style;
    style.colour = colour == -1 ? isatty(STDERR_FILENO) != 0 : colour == 1;
    std::cerr << support::render_text(sources, sorted, style);
    std::cerr << support::render_summary(diags.error_count(), diags.warning_count());
    if (!diags.has_errors()) {
      std::size_t rules = 0;
      for (const auto& f : result.files) rules += f.rules.size();
      std::cout << "rapa check: " << rules << " rules in " << result.files.size() << " files, "
                << result.kb.sources.size() << " sources, " << result.kb.drugs.size() << " drugs, "
                << result.kb.fact_types.size() << " fact types: "
                << (diags.warning_count() ? "no errors" : "no problems found") << "\n";
    }
  }
  return diags.has_errors() ? exit_errors : exit_ok;
}

}  // namespace rapa::tools
