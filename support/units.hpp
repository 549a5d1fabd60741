// Quantities with physical units: parsing unit spellings, dimension checking and conversion for clinical
// thresholds.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rapa::support {

// Indices into Dimension::exponents. Enzyme activity (U, IU) is its own base
// dimension because assays do not state a fixed substance rate we could reduce it to.
inline constexpr std::size_t kMass = 0;
inline constexpr std::size_t kLength = 1;
inline constexpr std::size_t kTime = 2;
inline constexpr std::size_t kAmount = 3;
inline constexpr std::size_t kActivity = 4;

// Exponent vector over the base dimensions (mass, length, time, amount, activity).
struct Dimension {
  std::array<std::int8_t, 5> exponents{};

  bool dimensionless() const;
  friend bool operator==(const Dimension&, const Dimension&) = default;
};

// Human words for a dimension ("mass concentration", "mass per time", "time",
// "dimensionless"); unnamed ones fall back to a formula such as "mass·length^-3".
std::string describe(const Dimension& dimension);

// A parsed unit. `factor` converts a value in this unit to the canonical base
// scale: gram, metre, second, mole, unit of enzyme activity (U). Only ratios of
// factors matter, so the choice of base is invisible outside this file.
struct Unit {
  std::string spelling;  // exactly as the author wrote it
  Dimension dimension;
  double factor = 1.0;
};

struct UnitParseError {
  std::size_t offset;   // byte offset into the parsed text
  std::string message;  // lower-case, no trailing period
};

// Exactly one of the two members is set.
struct UnitParseResult {
  std::optional<Unit> unit;
  std::optional<UnitParseError> error;
};

// Longest unit text accepted; anything longer is certainly a mistake.
inline constexpr std::size_t kMaxUnitLength = 64;

// Grammar (no whitespace anywhere):
//   unit  := [scale] [term] { ('/' dterm | ('*' | '.' | '·') term) }
//   scale := ['x' | 'X' | '×'] '10^' ['-' | '+'] digits      e.g. x10^9, 10^6
//   term  := atom [exponent]                                  e.g. mg, m2, m^2, s^-1
//   dterm := [number] term                                    e.g. 1.73m2 in mL/min/1.73m2
// Operators apply strictly left to right (as in UCUM): mg/m2/day = ((mg / m2) / day).
// A unit may start with '/' (/uL is a count per volume). Never throws.
UnitParseResult parse_unit(std::string_view text);

// Well-formed spellings for "did you mean" suggestions; every entry parses.
std::span<const std::string_view> common_unit_spellings();

struct Quantity {
  double value = 0.0;
  Unit unit;

  double in_base() const;  // value expressed in the canonical base scale
};

// Precondition (asserted): from.dimension == to.dimension.
double convert(double value, const Unit& from, const Unit& to);

// Relative tolerance used by compare(). Scale factors such as 1e-9 are not exact
// in binary floating point, so 150000 /uL and 150 x10^9/L differ by a few ulps
// after conversion; 1e-9 is far above that rounding noise and far below any
// clinically meaningful difference.
inline constexpr double kRelativeTolerance = 1e-9;

// -1, 0 or 1 comparing two numbers in the same base units; within kRelativeTolerance they
// are equal (an infinity equals only itself). NaN values are not supported.
int compare_numbers(double a, double b);

// -1, 0 or 1 comparing a with b; values within kRelativeTolerance are equal.
// Precondition (asserted): same dimension. NaN values are not supported.
int compare(const Quantity& a, const Quantity& b);

// True when both have the same dimension and compare() returns 0; never asserts.
bool same_quantity(const Quantity& a, const Quantity& b);

}  // namespace rapa::support
