// Command-line arguments as every rapa command reads them: `--name VALUE` or `--name=VALUE`.
#pragma once

#include <cstddef>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapa::tools {

/// `a` is the option `name`, given as `--name` or `--name=VALUE`.
inline bool is_option(const std::string& a, std::string_view name) {
  return a == name || (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=');
}

/// The value of the option `name` at args[i] (which is_option() accepted), advancing i past a
/// separate value; nullopt, with "COMMAND: '--name' needs a value" on standard error, when it is
/// missing.
inline std::optional<std::string> option_value(const std::vector<std::string>& args, std::size_t& i,
                                               std::string_view name, std::string_view command) {
  const std::string& a = args[i];
  if (a.size() > name.size() && a[name.size()] == '=') return a.substr(name.size() + 1);
  if (i + 1 >= args.size()) {
    std::cerr << command << ": '" << name << "' needs a value\n";
    return std::nullopt;
  }
  return args[++i];
}

/// A whole number from `low` to `high` written in full ("12", not "12x" or "-1"); nullopt otherwise.
inline std::optional<std::size_t> whole_number(const std::string& text, std::size_t low, std::size_t high) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const std::size_t n = std::stoull(text);
  if (n < low || n > high) return std::nullopt;
  return n;
}

}  // namespace rapa::tools
