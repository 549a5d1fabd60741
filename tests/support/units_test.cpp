// Tests for unit parsing, dimension checking and quantity comparison.
#include "support/units.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>

using namespace rapa::support;

namespace {

Unit unit_of(std::string_view text) {
  const UnitParseResult result = parse_unit(text);
  INFO("unit text: " << std::string(text));
  INFO("error: " << (result.error ? result.error->message : std::string("none")));
  REQUIRE(result.unit.has_value());
  REQUIRE_FALSE(result.error.has_value());
  return *result.unit;
}

Quantity q(double value, std::string_view text) { return Quantity{value, unit_of(text)}; }

UnitParseError error_of(std::string_view text) {
  const UnitParseResult result = parse_unit(text);
  INFO("unit text: " << std::string(text));
  REQUIRE_FALSE(result.unit.has_value());
  REQUIRE(result.error.has_value());
  return *result.error;
}

// Invariants that must hold for every input, however malformed.
void check_well_behaved(std::string_view text) {
  const UnitParseResult result = parse_unit(text);
  REQUIRE(result.unit.has_value() != result.error.has_value());
  if (result.error) {
    CHECK(result.error->offset <= text.size());
    CHECK_FALSE(result.error->message.empty());
    CHECK(result.error->message.back() != '.');
  } else {
    CHECK(result.unit->spelling == text);
    CHECK(std::isfinite(result.unit->factor));
    CHECK(result.unit->factor > 0.0);
  }
}

}  // namespace

TEST_CASE("cell counts per volume agree across spellings", "[units]") {
  CHECK(compare(q(150000, "/uL"), q(150, "x10^9/L")) == 0);
  CHECK(same_quantity(q(150000, "/uL"), q(150, "x10^9/L")));
  CHECK(same_quantity(q(150000, "/mm3"), q(150, "10^9/L")));
  CHECK(same_quantity(q(4.5, "x10^12/L"), q(4.5, "10^6/uL")));
  CHECK(compare(q(29, "x10^9/L"), q(30, "x10^9/L")) == -1);
  CHECK(compare(q(149999, "/uL"), q(150, "x10^9/L")) == -1);
  CHECK(describe(unit_of("/uL").dimension) == "cell count per volume");
}

TEST_CASE("mass concentrations convert", "[units]") {
  CHECK(same_quantity(q(1, "g/dL"), q(10, "g/L")));
  CHECK(same_quantity(q(1000, "ng/mL"), q(1, "mg/L")));
  CHECK(same_quantity(q(1, "mg/L"), q(1, "ug/mL")));
  CHECK(same_quantity(q(1, "\xC2\xB5g/mL"), q(1, "mcg/mL")));  // micro sign
  CHECK(same_quantity(q(1, "\xCE\xBCg/mL"), q(1, "ug/mL")));   // Greek mu
  CHECK(same_quantity(q(1, "mg/dL"), q(1, "mg/100mL")));
  CHECK(convert(2.5, unit_of("g/dL"), unit_of("g/L")) == Approx(25.0));
  CHECK(describe(unit_of("ng/mL").dimension) == "mass concentration");
}

TEST_CASE("different dimensions are distinguished and described in words", "[units]") {
  const Unit dose = unit_of("mg/day");
  const Unit trough = unit_of("ng/mL");
  CHECK_FALSE(dose.dimension == trough.dimension);
  CHECK(describe(dose.dimension) == "mass per time");
  CHECK(describe(trough.dimension) == "mass concentration");
  CHECK_FALSE(same_quantity(Quantity{5, dose}, Quantity{5, trough}));
  CHECK(describe(unit_of("years").dimension) == "time");
  CHECK(describe(unit_of("%").dimension) == "dimensionless");
  CHECK(describe(unit_of("umol/L").dimension) == "molar concentration");
  CHECK(describe(unit_of("U/L").dimension) == "enzyme activity concentration");
  // Unnamed dimensions fall back to a formula.
  CHECK(describe(unit_of("kg/mm3/s2").dimension) == "mass\xC2\xB7length^-3\xC2\xB7time^-2");
}

TEST_CASE("compound clinical units parse", "[units]") {
  const Unit bsa_dose = unit_of("mg/m2/day");
  CHECK(bsa_dose.dimension.exponents == std::array<std::int8_t, 5>{1, -2, -1, 0, 0});
  CHECK(describe(bsa_dose.dimension) == "mass per area per time");

  const Unit egfr = unit_of("mL/min/1.73m2");
  const Unit clearance = unit_of("mL/min");
  CHECK_FALSE(egfr.dimension == clearance.dimension);
  CHECK(egfr.factor == Approx(1e-6 / 60 / 1.73));
  CHECK(describe(egfr.dimension) == "volume per time per area");

  CHECK(unit_of("m2").dimension == unit_of("m^2").dimension);
  CHECK(unit_of("mm3").factor == Approx(unit_of("uL").factor));
  CHECK(same_quantity(q(1, "s^-1"), q(1, "/s")));
  CHECK(same_quantity(q(2, "mg.h/L"), q(2, "mg*h/L")));
  CHECK(same_quantity(q(2, "mg\xC2\xB7h/L"), q(2, "mg*h/L")));
  CHECK(same_quantity(q(1, "IU/L"), q(1, "U/L")));
  CHECK(same_quantity(q(1, "kg"), q(1000, "g")));
  CHECK(convert(1, unit_of("kPa"), unit_of("mmHg")) == Approx(7.50061683));
  CHECK(same_quantity(q(1, "x10^3"), q(1000, "%")) == false);  // 1000 vs 10
  CHECK(same_quantity(q(1, "x10^3"), q(100000, "%")));
}

TEST_CASE("time units use mean calendar lengths", "[units]") {
  CHECK(same_quantity(q(12, "months"), q(1, "year")));
  CHECK(same_quantity(q(2, "weeks"), q(14, "days")));
  CHECK(same_quantity(q(1, "d"), q(24, "h")));
  CHECK(same_quantity(q(1, "hr"), q(60, "min")));
  CHECK(same_quantity(q(1, "yr"), q(365.25, "days")));
  CHECK(compare(q(17.99, "years"), q(18, "y")) == -1);
  CHECK(compare(q(18, "years"), q(18, "y")) == 0);
  CHECK(compare(q(19, "years"), q(18, "y")) == 1);
}

TEST_CASE("numbers within the tolerance compare equal; an infinity equals only itself", "[units]") {
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(compare_numbers(1.0, 1.0 + 1e-12) == 0);
  CHECK(compare_numbers(1.0, 1.0 + 1e-6) == -1);
  CHECK(compare_numbers(inf, inf) == 0);
  CHECK(compare_numbers(-inf, 5.0) == -1);
  CHECK(compare_numbers(5.0, inf) == -1);
  CHECK(compare_numbers(inf, -1e308) == 1);
  CHECK(compare_numbers(-inf, inf) == -1);
}

TEST_CASE("percent is dimensionless with factor 0.01", "[units]") {
  const Unit percent = unit_of("%");
  CHECK(percent.dimension.dimensionless());
  CHECK(percent.factor == Approx(0.01));
  CHECK(unit_of("mg/kg").dimension.dimensionless());
}

TEST_CASE("spelling is kept as written", "[units]") {
  CHECK(unit_of("x10^9/L").spelling == "x10^9/L");
  CHECK(unit_of("\xC2\xB5mol/L").spelling == "\xC2\xB5mol/L");
}

TEST_CASE("every common spelling parses", "[units]") {
  CHECK(common_unit_spellings().size() > 20);
  for (const std::string_view spelling : common_unit_spellings()) {
    INFO(std::string(spelling));
    CHECK(parse_unit(spelling).unit.has_value());
  }
}

TEST_CASE("malformed units report errors with offsets", "[units]") {
  auto e = error_of("mgg");
  CHECK(e.offset == 0);
  CHECK(e.message == "unknown unit 'mgg'");

  e = error_of("mg/dLL");
  CHECK(e.offset == 3);
  CHECK(e.message == "unknown unit 'dLL'");

  e = error_of("x10^");
  CHECK(e.offset == 4);
  CHECK(e.message == "expected digits after '^'");

  e = error_of("");
  CHECK(e.offset == 0);
  CHECK(e.message == "empty unit");

  e = error_of(std::string(1000, 'm'));
  CHECK(e.offset == 0);
  CHECK(e.message.find("too long") != std::string::npos);

  e = error_of("10^999");
  CHECK(e.offset == 3);
  CHECK(e.message.find("out of range") != std::string::npos);

  e = error_of("/");
  CHECK(e.offset == 1);
  CHECK(e.message == "expected a unit name after '/'");

  e = error_of("//");
  CHECK(e.offset == 1);

  e = error_of("mg/");
  CHECK(e.offset == 3);

  e = error_of("m99");
  CHECK(e.offset == 1);
  CHECK(e.message.find("exponent out of range") != std::string::npos);

  e = error_of("m0");
  CHECK(e.message == "exponent must not be zero");

  e = error_of("mg day");
  CHECK(e.offset == 2);
  CHECK(e.message.find("a space") != std::string::npos);

  e = error_of("mg/0m2");
  CHECK(e.offset == 3);
  CHECK(e.message == "multiplier must be positive");

  e = error_of("mL/min/1.73");
  CHECK(e.offset == 11);

  e = error_of("5mg");
  CHECK(e.offset == 0);

  e = error_of("mg\xFF");
  CHECK(e.offset == 2);
  CHECK(e.message.find("0xFF") != std::string::npos);

  // Dimension exponents are bounded so int8 cannot overflow.
  e = error_of("m9*m9*m9*m9*m9*m9*m9*m9*m9*m9*m9*m9*m9*m9*m9*m9");
  CHECK(e.message == "unit exponent out of range");

  // Each exponent is in range but the combined factor underflows a double.
  e = error_of("10^-24pg9*um9*pmol9*mU9");
  CHECK(e.message == "unit scale out of range");
}

TEST_CASE("arbitrary bytes never crash the parser", "[units]") {
  const std::string_view edge_cases[] = {
      "x10^",
      "10^",
      "10^-",
      "x10^9/",
      "x",
      "X",
      "\xC3\x97",
      "\xC3\x97"
      "10^9/L",
      "\xC2",
      "\xCE",
      "\xC2\xB5",
      "^",
      "^2",
      "m^",
      "m^-",
      "m^-0",
      "/1.",
      "/1.m",
      "/.5m",
      "/1e5m",
      "mg/1.73",
      "/99999999999999999999999999999999999999m",
      "%%",
      ".",
      "*",
      "mg..L",
      "10^24",
      "10^-24",
      "fL9/fL9/fL9/fL9/fL9",
      "/fL9/fL9/fL9",
      "10^-24fL9",
  };
  for (const std::string_view text : edge_cases) {
    INFO(std::string(text));
    check_well_behaved(text);
  }
  CHECK(parse_unit("\xC3\x97"
                   "10^9/L")
            .unit.has_value());
  CHECK(parse_unit("/0.5m2").unit.has_value());

  std::mt19937 rng(12345);
  const std::string alphabet = "mgLdlnuµμ%hrsyeaUI0123456789./*^-x";
  for (int i = 0; i < 20000; ++i) {
    std::string text(rng() % 80, '\0');
    const bool raw = i % 2 == 0;
    for (char& c : text) {
      c = raw ? static_cast<char>(rng() & 0xFF) : alphabet[rng() % alphabet.size()];
    }
    INFO(text);
    check_well_behaved(text);
  }
}
