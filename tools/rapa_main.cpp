// `rapa`: dispatches to a subcommand through a table. Kept thin: the work is in the libraries.
#include <array>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "tools/commands.hpp"

namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string>&);
};

constexpr std::array commands = {
    Command{"advise", "advise on one patient file, or a cohort in batch", rapa::tools::advise_command},
    Command{"audit", "list, show, verify and replay the stored consultations", rapa::tools::audit_command},
    Command{"check", "check rule files and kb files and report problems", rapa::tools::check_command},
    Command{"repl", "an interactive consultation: facts, advice, why and why not", rapa::tools::repl_command},
    Command{"test", "run golden patient cases against the rules; coverage and impact", rapa::tools::test_command},
    Command{"trace", "the provenance of advice: rules, facts and sources, as text, JSON or DOT",
            rapa::tools::trace_command},
};

void print_help(std::ostream& out) {
  out << "usage: rapa <command> [options] [args]\n\n"
         "rapa gives evidence-graded guidance on mTOR inhibitors (sirolimus, everolimus)\n"
         "in immune hematologic diseases.\n\ncommands:\n";
  for (const auto& c : commands) out << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << "\n";
  out << "\noptions:\n  --help     show this help ('rapa <command> --help' for a command)\n"
         "  --version  show the version\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (args.empty()) {
    print_help(std::cerr);
    return rapa::tools::exit_usage;
  }
  const std::string_view first = args.front();
  if (first == "--help" || first == "-h" || first == "help") {
    print_help(std::cout);
    return rapa::tools::exit_ok;
  }
  if (first == "--version") {
    std::cout << "rapa " << RAPA_VERSION << "\n";
    return rapa::tools::exit_ok;
  }
  for (const auto& c : commands) {
    if (c.name == first) {
      try {
        return c.run({args.begin() + 1, args.end()});
      } catch (const std::exception& e) {
        // The libraries report problems as diagnostics; reaching here is a bug or exhaustion.
        std::cerr << "rapa: internal error: " << e.what() << "\n";
        return rapa::tools::exit_errors;
      }
    }
  }
  std::cerr << "rapa: unknown command '" << first << "'\n";
  print_help(std::cerr);
  return rapa::tools::exit_usage;
}
