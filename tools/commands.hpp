// The subcommands of `rapa`, each a function from its arguments to an exit status.
#pragma once

#include <string>
#include <vector>

namespace rapa::tools {

/// Exit statuses shared by every command, as compilers use them.
inline constexpr int exit_ok = 0;
inline constexpr int exit_errors = 1;
inline constexpr int exit_usage = 2;
/// `rapa advise`: advice was given and it includes a contraindication or a critical warning.
inline constexpr int exit_critical = 3;

int check_command(const std::vector<std::string>& args);
/// `rapa advise`: exit_ok, or exit_critical when a contraindication or critical warning was raised.
int advise_command(const std::vector<std::string>& args);
int test_command(const std::vector<std::string>& args);
/// `rapa audit`: list, show, verify and replay the stored consultations.
int audit_command(const std::vector<std::string>& args);
/// The audit database used when none is named: $RAPA_AUDIT_DB, else rapa-audit.sqlite in the
/// current directory.
std::string default_audit_database();
/// `rapa repl`: an interactive consultation; a terminal gets libedit, a pipe a plain transcript.
int repl_command(const std::vector<std::string>& args);
/// `rapa trace`: the provenance of advice, of a patient file or of a stored consultation.
int trace_command(const std::vector<std::string>& args);

/// The rule base rapa uses when no path is given: $RAPA_HOME, else the source tree it was
/// built from.
std::string default_home();

}  // namespace rapa::tools
