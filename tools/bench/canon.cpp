#include "tools/bench/canon.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

#include "support/sha256.hpp"

namespace rapa::bench {

std::string python_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // The shortest digits that read back to the same double, in scientific form: d[.ddd]e±XX.
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  std::string sign;
  if (text.front() == '-') {
    sign = "-";
    text.remove_prefix(1);
  }
  const std::size_t e = text.find('e');
  std::string digits(text.substr(0, e));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::atoi(std::string(text.substr(e + 1)).c_str());
  // Python's repr (float_repr_style "short"): positional when -4 <= exponent < 16, else
  // scientific with at least two exponent digits; positional always shows a ".0" at least.
  if (exponent < -4 || exponent >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    const int magnitude = std::abs(exponent);
    out += exponent < 0 ? "e-" : "e+";
    if (magnitude < 10) out += "0";
    return out + std::to_string(magnitude);
  }
  std::string out;
  if (exponent < 0) {
    out = "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  } else {
    const auto whole = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= whole) {
      out = digits + std::string(whole - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, whole) + "." + digits.substr(whole);
    }
  }
  return sign + out;
}

std::string fact_line(const inference::FactTypeInfo& type, const std::vector<std::string>& values) {
  std::string line = type.name;
  for (std::size_t i = 0; i < type.slots.size() && i < values.size(); ++i) {
    line += '|';
    line += type.slots[i].name;
    line += '=';
    line += values[i];
  }
  return line;
}

std::string lines_sha16(std::vector<std::string> lines) {
  // std::string's operator< compares chars as unsigned via char_traits: byte order, as
  // Python's code-point sort on these ASCII lines.
  std::sort(lines.begin(), lines.end());
  support::Sha256 hash;
  for (const std::string& line : lines) {
    hash.update(line);
    hash.update("\n");
  }
  return hash.hex_digest().substr(0, 16);
}

std::string checksum_row(std::string_view id, std::uint64_t fired, const PatientLines& lines) {
  std::string row(id);
  row += '\t' + std::to_string(fired) + '\t' + std::to_string(lines.derived.size()) + '\t' +
         std::to_string(lines.advice.size()) + '\t' + lines_sha16(lines.advice) + '\t' +
         lines_sha16(lines.derived) + '\n';
  return row;
}

PatientLines engine_lines(const inference::Engine& engine, inference::TypeId advice_type) {
  PatientLines out;
  const auto& types = engine.rules().types;
  const auto name = [&engine](inference::Symbol s) { return engine.symbol_name(s); };
  for (const inference::FactId fact : engine.facts()) {
    const inference::TypeId type = engine.type_of(fact);
    const auto kind = types[type].kind;
    if (kind != inference::FactTypeInfo::Kind::derived && kind != inference::FactTypeInfo::Kind::output) continue;
    std::vector<std::string> values;
    for (const inference::Value& value : engine.slots_of(fact)) values.push_back(canonical_value(value, name));
    (type == advice_type ? out.advice : out.derived).push_back(fact_line(types[type], values));
  }
  std::sort(out.advice.begin(), out.advice.end());
  std::sort(out.derived.begin(), out.derived.end());
  return out;
}

}  // namespace rapa::bench
