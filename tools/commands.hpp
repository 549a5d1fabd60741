// The subcommands of `rapa`, each a function from its arguments to an exit status.
#pragma once

#include <string>
#include <vector>

namespace rapa::tools {

/// Exit statuses shared by every command, as compilers use them.
inline constexpr int exit_ok = 0;
inline constexpr int exit_errors = 1;
inline constexpr int exit_usage = 2;

int check_command(const std::vector<std::string>& args);

/// The rule base rapa uses when no path is given: $RAPA_HOME, else the source tree it was
/// built from.
std::string default_home();

}  // namespace rapa::tools
