// The tokens of the rule language, as small hand-written X3 parsers: names, variables, texts,
// units, keywords and numbers. Hand-written because each has a rule X3's stock parsers cannot
// state well: names exclude reserved words, a unit must sit on the same line as its number,
// an unterminated text is reported at its opening quote.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <system_error>
#include <string>
#include <string_view>

#include "parser/ast.hpp"
#include "parser/grammar/config.hpp"

namespace rapa::parser::grammar {

/// Words that structure a rule; they cannot name a fact type, slot, symbol or unit.
inline constexpr std::array<std::string_view, 23> reserved_words = {
    "rule",      "title",   "salience",       "when",    "then",   "where",  "not",    "exists",
    "either",    "or",      "end",            "grade",   "because", "cite",  "rationale",
    "recommend", "warn",    "contraindicate", "monitor", "ask",    "info",   "conclude", "consensus"};

/// Words that introduce a detail of recommend or monitor (`start 2..4 mg/day`), optionally
/// followed by `at` for reading (`reassess at 3 months`). They stay usable as names elsewhere (a
/// lab test may be called `trough`), but never as a unit.
inline constexpr std::array<std::string_view, 8> detail_keys = {
    "start", "maintain", "loading", "trough", "reassess", "every", "after", "within"};

inline bool is_reserved(std::string_view word) {
  return std::find(reserved_words.begin(), reserved_words.end(), word) != reserved_words.end();
}

inline bool is_detail_word(std::string_view word) {
  return word == "at" || std::find(detail_keys.begin(), detail_keys.end(), word) != detail_keys.end();
}

inline bool is_name_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || u >= 0x80;  // UTF-8: 中文 names
}

inline bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

/// Stores a token's text into the attribute, whatever form the enclosing rule gave it.
template <class Attribute, class Member>
void store_text(Attribute& attr, Member member, std::string text) {
  if constexpr (std::is_same_v<Attribute, x3::unused_type>) {
    (void)attr; (void)member; (void)text;
  } else if constexpr (std::is_same_v<Attribute, std::string>) {
    (void)member;
    attr = std::move(text);
  } else {
    attr.*member = std::move(text);
  }
}

/// A name: letters, digits, '_', non-ASCII letters, and '.' between parts (itp.refractory).
struct name_parser : x3::parser<name_parser> {
  using attribute_type = ast::Name;
  static const bool has_attribute = true;

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx&, Attr& attr) const {
    It start = first;
    x3::skip_over(start, last, ctx);  // on a copy: a failed token must not eat white space
    It it = start;
    if (it == last || !is_name_start(*it)) return false;
    while (it != last) {
      if (is_name_char(*it)) { ++it; continue; }
      if (*it == '.' && it + 1 != last && is_name_start(*(it + 1))) { ++it; continue; }
      break;
    }
    std::string_view word(&*start, static_cast<std::size_t>(it - start));
    if (is_reserved(word)) return false;
    store_text(attr, &ast::Name::text, std::string(word));
    first = it;
    return true;
  }
};

/// ?name
struct variable_parser : x3::parser<variable_parser> {
  using attribute_type = ast::Variable;
  static const bool has_attribute = true;

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx&, Attr& attr) const {
    It it = first;
    x3::skip_over(it, last, ctx);
    if (it == last || *it != '?') return false;
    ++it;
    if (it == last || !is_name_start(*it)) return false;
    const It start = it;
    while (it != last && is_name_char(*it)) ++it;
    store_text(attr, &ast::Variable::name, std::string(&*start, static_cast<std::size_t>(it - start)));
    first = it;
    return true;
  }
};

/// Thrown through X3 (as its expectation_failure) for a text without its closing quote, at the
/// opening quote, where the author needs to look.
inline constexpr std::string_view unterminated_text = "<unterminated text>";

/// "...": kept raw; `\"` does not end it. May span lines.
struct text_parser : x3::parser<text_parser> {
  using attribute_type = ast::Text;
  static const bool has_attribute = true;

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx&, Attr& attr) const {
    It open = first;
    x3::skip_over(open, last, ctx);
    if (open == last || *open != '"') return false;
    It it = open + 1;
    while (it != last && *it != '"') {
      if (*it == '\\' && it + 1 != last) ++it;
      ++it;
    }
    if (it == last) throw x3::expectation_failure<It>(open, std::string(unterminated_text));
    store_text(attr, &ast::Text::raw, std::string(&*(open + 1), static_cast<std::size_t>(it - open - 1)));
    first = it + 1;
    return true;
  }
};

/// A unit right after a number, on the same line: mg/day, x10^9/L, /uL, mL/min/1.73m2, %.
/// Whether it is a known unit is for the checker to say, with a suggestion.
struct unit_parser : x3::parser<unit_parser> {
  using attribute_type = ast::Unit;
  static const bool has_attribute = true;

  static bool is_unit_start(char c) { return is_name_start(c) || c == '%' || c == '/'; }
  static bool is_unit_char(char c) { return is_name_char(c) || c == '%' || c == '/' || c == '^' || c == '*' || c == '.'; }

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx&, RCtx&, Attr& attr) const {
    It it = first;
    while (it != last && (*it == ' ' || *it == '\t')) ++it;  // never across a line break
    const It start = it;
    if (it != last && *it >= '0' && *it <= '9') {
      // A power-of-ten scale may open a unit (10^9/L); any other digit ends the number's unit.
      while (it != last && *it >= '0' && *it <= '9') ++it;
      if (it == last || *it != '^') return false;
    } else if (it == last || !is_unit_start(*it)) {
      return false;
    }
    while (it != last && is_unit_char(*it)) {
      if (*it == '.' && (it + 1 == last || *(it + 1) == '.' || !is_unit_char(*(it + 1)))) break;  // 2 mg..4 mg
      ++it;
    }
    std::string_view word(&*start, static_cast<std::size_t>(it - start));
    if (is_reserved(word) || is_detail_word(word)) return false;
    store_text(attr, &ast::Unit::spelling, std::string(word));
    first = it;
    return true;
  }
};

/// Matches one of a fixed set of words and keeps it as a Name.
struct word_set_parser : x3::parser<word_set_parser> {
  using attribute_type = ast::Name;
  static const bool has_attribute = true;
  const std::string_view* words;
  std::size_t count;

  constexpr word_set_parser(const std::string_view* w, std::size_t n) : words(w), count(n) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx& rctx, Attr& attr) const {
    It it = first;
    ast::Name word;
    if (!name_parser{}.parse(it, last, ctx, rctx, word)) return false;
    for (std::size_t i = 0; i < count; ++i) {
      if (words[i] == word.text) {
        store_text(attr, &ast::Name::text, std::move(word.text));
        first = it;
        return true;
      }
    }
    return false;
  }
};

/// A keyword as a whole word: `kw("not")` does not match the start of `nothing`.
struct keyword_parser : x3::parser<keyword_parser> {
  using attribute_type = x3::unused_type;
  static const bool has_attribute = false;
  std::string_view word;

  constexpr explicit keyword_parser(std::string_view w) : word(w) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx&, Attr&) const {
    It it = first;
    x3::skip_over(it, last, ctx);
    const auto available = static_cast<std::size_t>(last - it);
    if (available < word.size() || std::string_view(&*it, word.size()) != word) return false;
    if (available > word.size() && is_name_char(*(it + static_cast<std::ptrdiff_t>(word.size())))) return false;
    first = it + static_cast<std::ptrdiff_t>(word.size());
    return true;
  }
};

constexpr keyword_parser kw(std::string_view word) { return keyword_parser(word); }

/// Numbers as clinicians write them: digits with an optional fraction and exponent; no leading
/// or trailing dot (so 2..4 is a range), no 'inf' or 'nan' (so `infection` stays a name).
struct number_parser : x3::parser<number_parser> {
  using attribute_type = double;
  static const bool has_attribute = true;

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx& ctx, RCtx&, Attr& attr) const {
    It start = first;
    x3::skip_over(start, last, ctx);
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    const auto digits = [&](It& i) {
      const It from = i;
      while (i != last && digit(*i)) ++i;
      return i != from;
    };
    It it = start;
    if (it != last && (*it == '-' || *it == '+')) ++it;
    if (!digits(it)) return false;
    if (it != last && *it == '.' && it + 1 != last && digit(*(it + 1))) {
      ++it;
      digits(it);
    }
    if (it != last && (*it == 'e' || *it == 'E')) {
      It exponent = it + 1;
      if (exponent != last && (*exponent == '-' || *exponent == '+')) ++exponent;
      if (digits(exponent) && (exponent == last || !is_name_char(*exponent))) it = exponent;
    }
    const char* begin = &*start;
    const char* end = begin + (it - start);
    if (*begin == '+') ++begin;  // from_chars takes no leading '+'
    double value = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end) return false;  // out of range: not a number we accept
    if constexpr (!std::is_same_v<Attr, x3::unused_type>) attr = value;
    first = it;
    return true;
  }
};
inline constexpr number_parser number{};

}  // namespace rapa::parser::grammar

namespace boost::spirit::x3 {
// "expected ..." must always be words. X3 names a rule by its given name but other parsers by
// their C++ type; a semantic action, a list or a repetition in an expectation is named here
// after the parser it wraps, which is always a named rule.
template <class Subject, class Action>
struct get_info<action<Subject, Action>> {
  using result_type = std::string;
  std::string operator()(const action<Subject, Action>& p) const { return what(p.subject); }
};
template <class Left, class Right>
struct get_info<list<Left, Right>> {
  using result_type = std::string;
  std::string operator()(const list<Left, Right>& p) const { return what(p.left); }
};
template <class Subject>
struct get_info<plus<Subject>> {
  using result_type = std::string;
  std::string operator()(const plus<Subject>& p) const { return what(p.subject); }
};

// Let X3 name our tokens in "expected ..." messages.
template <>
struct get_info<rapa::parser::grammar::keyword_parser> {
  using result_type = std::string;
  std::string operator()(const rapa::parser::grammar::keyword_parser& p) const {
    return "'" + std::string(p.word) + "'";
  }
};
}  // namespace boost::spirit::x3
