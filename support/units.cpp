// Parses unit spellings into dimension vectors and scale factors, and compares quantities.
#include "support/units.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace rapa::support {

namespace {

constexpr Dimension dim(int mass, int length, int time, int amount = 0, int activity = 0) {
  return Dimension{{static_cast<std::int8_t>(mass), static_cast<std::int8_t>(length),
                    static_cast<std::int8_t>(time), static_cast<std::int8_t>(amount),
                    static_cast<std::int8_t>(activity)}};
}

constexpr Dimension kNone = dim(0, 0, 0);
constexpr Dimension kMassDim = dim(1, 0, 0);
constexpr Dimension kLengthDim = dim(0, 1, 0);
constexpr Dimension kVolumeDim = dim(0, 3, 0);
constexpr Dimension kTimeDim = dim(0, 0, 1);
constexpr Dimension kAmountDim = dim(0, 0, 0, 1);
constexpr Dimension kActivityDim = dim(0, 0, 0, 0, 1);
constexpr Dimension kPressureDim = dim(1, -1, -2);

constexpr double kSecondsPerDay = 86400.0;

struct Atom {
  std::string_view name;  // with micro signs already normalised to 'u'
  Dimension dimension;
  double factor;  // in g, m, s, mol, U
};

// A fixed table rather than SI-prefix composition: it keeps error messages
// precise ("unknown unit 'mgg'") and avoids accepting nonsense like "Mmin".
constexpr Atom kAtoms[] = {
    // mass (base: gram)
    {"g", kMassDim, 1.0},
    {"kg", kMassDim, 1e3},
    {"mg", kMassDim, 1e-3},
    {"ug", kMassDim, 1e-6},
    {"mcg", kMassDim, 1e-6},
    {"ng", kMassDim, 1e-9},
    {"pg", kMassDim, 1e-12},
    // length (base: metre); areas and volumes via exponents (m2, mm3)
    {"m", kLengthDim, 1.0},
    {"cm", kLengthDim, 1e-2},
    {"mm", kLengthDim, 1e-3},
    {"um", kLengthDim, 1e-6},
    // volume (litre = 1e-3 m^3)
    {"L", kVolumeDim, 1e-3},
    {"l", kVolumeDim, 1e-3},
    {"dL", kVolumeDim, 1e-4},
    {"dl", kVolumeDim, 1e-4},
    {"mL", kVolumeDim, 1e-6},
    {"ml", kVolumeDim, 1e-6},
    {"uL", kVolumeDim, 1e-9},
    {"ul", kVolumeDim, 1e-9},
    {"nL", kVolumeDim, 1e-12},
    {"nl", kVolumeDim, 1e-12},
    {"fL", kVolumeDim, 1e-18},  // mean corpuscular volume
    {"fl", kVolumeDim, 1e-18},
    // amount of substance (base: mole)
    {"mol", kAmountDim, 1.0},
    {"mmol", kAmountDim, 1e-3},
    {"umol", kAmountDim, 1e-6},
    {"nmol", kAmountDim, 1e-9},
    {"pmol", kAmountDim, 1e-12},
    // time (base: second). Calendar units use mean lengths so that
    // 12 months == 1 year exactly: year = 365.25 days, month = year / 12 = 30.4375 days.
    {"s", kTimeDim, 1.0},
    {"sec", kTimeDim, 1.0},
    {"secs", kTimeDim, 1.0},
    {"min", kTimeDim, 60.0},
    {"mins", kTimeDim, 60.0},
    {"h", kTimeDim, 3600.0},
    {"hr", kTimeDim, 3600.0},
    {"hrs", kTimeDim, 3600.0},
    {"hour", kTimeDim, 3600.0},
    {"hours", kTimeDim, 3600.0},
    {"d", kTimeDim, kSecondsPerDay},
    {"day", kTimeDim, kSecondsPerDay},
    {"days", kTimeDim, kSecondsPerDay},
    {"wk", kTimeDim, 7 * kSecondsPerDay},
    {"wks", kTimeDim, 7 * kSecondsPerDay},
    {"week", kTimeDim, 7 * kSecondsPerDay},
    {"weeks", kTimeDim, 7 * kSecondsPerDay},
    {"mo", kTimeDim, 30.4375 * kSecondsPerDay},
    {"mos", kTimeDim, 30.4375 * kSecondsPerDay},
    {"month", kTimeDim, 30.4375 * kSecondsPerDay},
    {"months", kTimeDim, 30.4375 * kSecondsPerDay},
    {"y", kTimeDim, 365.25 * kSecondsPerDay},
    {"yr", kTimeDim, 365.25 * kSecondsPerDay},
    {"yrs", kTimeDim, 365.25 * kSecondsPerDay},
    {"year", kTimeDim, 365.25 * kSecondsPerDay},
    {"years", kTimeDim, 365.25 * kSecondsPerDay},
    // enzyme activity (base: U); IU is the same unit under another name
    {"U", kActivityDim, 1.0},
    {"IU", kActivityDim, 1.0},
    {"mU", kActivityDim, 1e-3},
    {"mIU", kActivityDim, 1e-3},
    {"kU", kActivityDim, 1e3},
    {"kIU", kActivityDim, 1e3},
    // percent is a plain ratio
    {"%", kNone, 0.01},
    // pressure: 1 Pa = 1 kg/(m·s^2) = 1000 g/(m·s^2)
    {"mmHg", kPressureDim, 133322.387415},
    {"kPa", kPressureDim, 1e6},
};

constexpr std::string_view kCommonSpellings[] = {
    "g",       "mg",        "ug",
    "mcg",     "ng",        "kg",
    "mg/day",  "mg/kg",     "mg/kg/day",
    "mg/m2",   "mg/m2/day", "ug/kg/min",
    "g/day",   "ng/mL",     "ug/mL",
    "ug/L",    "mg/L",      "mg/dL",
    "g/L",     "g/dL",      "pg/mL",
    "mmol/L",  "umol/L",    "nmol/L",
    "x10^9/L", "x10^12/L",  "/uL",
    "/mm3",    "U/L",       "IU/L",
    "mIU/mL",  "mL/min",    "mL/min/1.73m2",
    "mL/h",    "L",         "mL",
    "fL",      "%",         "cm",
    "m",       "m2",        "kg/m2",
    "mmHg",    "kPa",       "mg.h/L",
    "s",       "min",       "h",
    "hours",   "days",      "weeks",
    "months",  "years",
};

const Atom* find_atom(std::string_view normalised) {
  for (const Atom& atom : kAtoms) {
    if (atom.name == normalised) return &atom;
  }
  return nullptr;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

constexpr std::string_view kMicroSign = "\xC2\xB5";  // U+00B5
constexpr std::string_view kGreekMu = "\xCE\xBC";    // U+03BC
constexpr std::string_view kMiddleDot = "\xC2\xB7";  // U+00B7
constexpr std::string_view kTimesSign = "\xC3\x97";  // U+00D7

constexpr int kMaxScaleExponent = 24;      // 10^24 is beyond any clinical count
constexpr int kMaxAtomExponent = 9;        // m2, mm3; m99 is a typo
constexpr int kMaxDimensionExponent = 12;  // keeps int8 exponents far from overflow

// Printable description of the byte at an error position. Non-ASCII bytes are
// shown in hex so that messages stay valid UTF-8 whatever the input.
std::string describe_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte == ' ') return "a space";
  if (byte > 0x20 && byte < 0x7F) return std::string("'") + c + "'";
  constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xF];
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  UnitParseResult run() {
    if (text_.empty()) return fail(0, "empty unit");
    if (text_.size() > kMaxUnitLength) {
      return fail(0, "unit is too long (" + std::to_string(text_.size()) + " bytes, at most " +
                         std::to_string(kMaxUnitLength) + ")");
    }
    bool had_scale = false;
    if (!parse_scale(had_scale)) return take_error();
    // The first term is optional after a scale (x10^9/L) or before '/' (/uL).
    const bool first_term = had_scale ? at_atom_start() : !peek('/');
    if (first_term && !parse_term(false, false)) return take_error();
    while (pos_ < text_.size()) {
      if (peek('/')) {
        ++pos_;
        if (!parse_term(true, true)) return take_error();
      } else if (peek('*') || peek('.')) {
        ++pos_;
        if (!parse_term(false, false)) return take_error();
      } else if (rest().starts_with(kMiddleDot)) {
        pos_ += kMiddleDot.size();
        if (!parse_term(false, false)) return take_error();
      } else {
        return fail(pos_, "expected '/', '*' or '.' but found " + describe_byte(text_[pos_]));
      }
    }
    // Many large exponents can still push the factor out of double range.
    if (!std::isnormal(factor_) || factor_ <= 0.0) {
      return fail(0, "unit scale out of range");
    }
    Dimension dimension;
    for (std::size_t i = 0; i < exponents_.size(); ++i) {
      dimension.exponents[i] = static_cast<std::int8_t>(exponents_[i]);
    }
    return UnitParseResult{Unit{std::string(text_), dimension, factor_}, std::nullopt};
  }

 private:
  std::string_view rest() const { return text_.substr(pos_); }
  bool peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool at_digit() const { return pos_ < text_.size() && is_digit(text_[pos_]); }

  // Length of the atom character at pos_ (0 if none): letters, '%', micro signs.
  std::size_t atom_char_length(std::size_t at) const {
    if (at >= text_.size()) return 0;
    const char c = text_[at];
    if (is_ascii_letter(c) || c == '%') return 1;
    const std::string_view tail = text_.substr(at);
    if (tail.starts_with(kMicroSign) || tail.starts_with(kGreekMu)) return 2;
    return 0;
  }
  bool at_atom_start() const { return atom_char_length(pos_) != 0; }

  UnitParseResult fail(std::size_t offset, std::string message) {
    error_ = UnitParseError{offset, std::move(message)};
    return take_error();
  }
  bool set_error(std::size_t offset, std::string message) {
    error_ = UnitParseError{offset, std::move(message)};
    return false;
  }
  UnitParseResult take_error() { return UnitParseResult{std::nullopt, error_}; }

  // Reads decimal digits, saturating so that 10^999999 cannot overflow.
  int read_digits() {
    int value = 0;
    while (at_digit()) {
      value = std::min(value * 10 + (text_[pos_] - '0'), 100000);
      ++pos_;
    }
    return value;
  }

  // Optional leading power-of-ten scale: x10^9, X10^9, ×10^9 or 10^9.
  bool parse_scale(bool& had_scale) {
    std::size_t start = 0;
    if (text_.starts_with('x') || text_.starts_with('X')) {
      start = 1;
    } else if (text_.starts_with(kTimesSign)) {
      start = kTimesSign.size();
    }
    if (!text_.substr(start).starts_with("10^")) {
      if (start == 0 && at_digit()) {
        return set_error(0,
                         "a unit cannot start with a number; use a scale such as "
                         "'10^9' or put the multiplier after '/'");
      }
      return true;  // 'x' alone etc. falls through to atom parsing
    }
    had_scale = true;
    pos_ = start + 3;
    const std::size_t exponent_at = pos_;
    int sign = 1;
    if (peek('-') || peek('+')) {
      sign = peek('-') ? -1 : 1;
      ++pos_;
    }
    if (!at_digit()) return set_error(pos_, "expected digits after '^'");
    const int exponent = read_digits();
    if (exponent > kMaxScaleExponent) {
      return set_error(exponent_at,
                       "scale exponent out of range (at most " + std::to_string(kMaxScaleExponent) + ")");
    }
    factor_ *= std::pow(10.0, sign * exponent);
    return true;
  }

  // Parses [number] atom [exponent] and folds it into the running unit.
  bool parse_term(bool divide, bool allow_multiplier) {
    double multiplier = 1.0;
    if (allow_multiplier && at_digit()) {
      const std::size_t number_at = pos_;
      while (at_digit()) ++pos_;
      if (peek('.')) {
        ++pos_;
        if (!at_digit()) return set_error(pos_, "expected digits after '.'");
        while (at_digit()) ++pos_;
      }
      const char* first = text_.data() + number_at;
      const char* last = text_.data() + pos_;
      const auto [end, ec] = std::from_chars(first, last, multiplier);
      if (ec != std::errc() || end != last || !std::isfinite(multiplier)) {
        return set_error(number_at, "invalid multiplier");
      }
      if (!(multiplier > 0.0)) return set_error(number_at, "multiplier must be positive");
      if (!at_atom_start()) {
        return set_error(pos_, "expected a unit name after multiplier '" +
                                   std::string(text_.substr(number_at, pos_ - number_at)) + "'");
      }
    }

    const std::size_t name_at = pos_;
    std::string normalised;
    while (const std::size_t length = atom_char_length(pos_)) {
      normalised += length == 1 ? text_[pos_] : 'u';  // both micro signs mean 'u'
      pos_ += length;
    }
    const std::string_view spelled = text_.substr(name_at, pos_ - name_at);
    if (spelled.empty()) {
      if (pos_ >= text_.size()) {
        const char previous = pos_ > 0 ? text_[pos_ - 1] : '/';
        return set_error(pos_, "expected a unit name after " + describe_byte(previous));
      }
      return set_error(pos_, "expected a unit name but found " + describe_byte(text_[pos_]));
    }
    const Atom* atom = find_atom(normalised);
    if (atom == nullptr) return set_error(name_at, "unknown unit '" + std::string(spelled) + "'");

    int exponent = 1;
    if (peek('^') || at_digit()) {
      const std::size_t exponent_at = pos_;
      int sign = 1;
      if (peek('^')) {
        ++pos_;
        if (peek('-')) {
          sign = -1;
          ++pos_;
        }
        if (!at_digit()) return set_error(pos_, "expected digits after '^'");
      }
      const int magnitude = read_digits();
      if (magnitude == 0) return set_error(exponent_at, "exponent must not be zero");
      if (magnitude > kMaxAtomExponent) {
        return set_error(exponent_at,
                         "exponent out of range (at most " + std::to_string(kMaxAtomExponent) + ")");
      }
      exponent = sign * magnitude;
    }

    const int direction = divide ? -1 : 1;
    for (std::size_t i = 0; i < exponents_.size(); ++i) {
      exponents_[i] += direction * exponent * atom->dimension.exponents[i];
      if (std::abs(exponents_[i]) > kMaxDimensionExponent) {
        return set_error(name_at, "unit exponent out of range");
      }
    }
    const double term = multiplier * std::pow(atom->factor, exponent);
    if (divide) {
      factor_ /= term;
    } else {
      factor_ *= term;
    }
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::array<int, 5> exponents_{};
  double factor_ = 1.0;
  std::optional<UnitParseError> error_;
};

struct NamedDimension {
  Dimension dimension;
  std::string_view words;
};

constexpr NamedDimension kNamedDimensions[] = {
    {kNone, "dimensionless"},
    {kMassDim, "mass"},
    {kLengthDim, "length"},
    {dim(0, 2, 0), "area"},
    {kVolumeDim, "volume"},
    {kTimeDim, "time"},
    {kAmountDim, "amount of substance"},
    {kActivityDim, "enzyme activity"},
    {dim(1, -3, 0), "mass concentration"},
    {dim(0, -3, 0, 1), "molar concentration"},
    {dim(0, -3, 0, 0, 1), "enzyme activity concentration"},
    {dim(0, -3, 0), "cell count per volume"},
    {dim(1, 0, -1), "mass per time"},
    {dim(1, -2, 0), "mass per area"},
    {dim(1, -2, -1), "mass per area per time"},
    {dim(0, 3, -1), "volume per time"},
    // Dimensionally a speed, but in clinical rules it only arises from flow
    // normalised to body surface area (mL/min/1.73m2), so name it that way.
    {dim(0, 1, -1), "volume per time per area"},
    {dim(0, 0, -1), "rate per time"},
    {dim(0, 0, -1, 1), "amount per time"},
    {dim(-1, 0, 0, 1), "amount per mass"},
    {dim(1, -3, 1), "concentration times time"},  // AUC, e.g. mg.h/L
    {kPressureDim, "pressure"},
};

constexpr std::string_view kBaseNames[] = {"mass", "length", "time", "amount", "activity"};

}  // namespace

bool Dimension::dimensionless() const {
  return std::all_of(exponents.begin(), exponents.end(), [](std::int8_t e) { return e == 0; });
}

std::string describe(const Dimension& dimension) {
  for (const NamedDimension& named : kNamedDimensions) {
    if (named.dimension == dimension) return std::string(named.words);
  }
  std::string formula;
  for (std::size_t i = 0; i < dimension.exponents.size(); ++i) {
    const int exponent = dimension.exponents[i];
    if (exponent == 0) continue;
    if (!formula.empty()) formula += "\xC2\xB7";  // middle dot
    formula += kBaseNames[i];
    if (exponent != 1) {
      formula += "^" + std::to_string(exponent);
    }
  }
  return formula;
}

UnitParseResult parse_unit(std::string_view text) { return Parser(text).run(); }

std::span<const std::string_view> common_unit_spellings() { return kCommonSpellings; }

double Quantity::in_base() const { return value * unit.factor; }

double convert(double value, const Unit& from, const Unit& to) {
  assert(from.dimension == to.dimension && "convert: units must have the same dimension");
  return value * from.factor / to.factor;
}

int compare_numbers(double x, double y) {
  if (x == y) return 0;  // also covers equal infinities
  // An infinity against a finite number differs by infinity, which an infinite tolerance
  // would otherwise cover. Tested second: the first test fails for nearly every pair.
  const double difference = std::abs(x - y);
  if (difference <= kRelativeTolerance * std::max(std::abs(x), std::abs(y)) && !std::isinf(difference))
    return 0;
  return x < y ? -1 : 1;
}

int compare(const Quantity& a, const Quantity& b) {
  assert(a.unit.dimension == b.unit.dimension && "compare: quantities must have the same dimension");
  return compare_numbers(a.in_base(), b.in_base());
}

bool same_quantity(const Quantity& a, const Quantity& b) {
  return a.unit.dimension == b.unit.dimension && compare(a, b) == 0;
}

}  // namespace rapa::support
