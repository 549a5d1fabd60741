// The one definition of the iterator, skipper and context every grammar instantiation uses.
// Keeping them here is what prevents X3's "undefined parse_rule" link errors: every
// BOOST_SPIRIT_INSTANTIATE and the parse entry point see exactly these types.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "support/source_manager.hpp"

namespace rapa::parser::grammar {

namespace x3 = boost::spirit::x3;

using iterator_type = const char*;

/// Where the buffer being parsed begins, so on_success can turn iterators into offsets.
struct ParseState {
  support::FileId file = 0;
  iterator_type begin = nullptr;
};
struct parse_state_tag;

/// Skips one white-space byte or one `#` comment to the end of its line. Hand-written because
/// X3's character classes assert on bytes above 0x7F, which UTF-8 text is full of.
struct skipper_parser : x3::parser<skipper_parser> {
  using attribute_type = x3::unused_type;
  static const bool has_attribute = false;

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, const It& last, const Ctx&, RCtx&, Attr&) const {
    if (first == last) return false;
    const char c = *first;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++first;
      return true;
    }
    if (c != '#') return false;
    while (first != last && *first != '\n') ++first;
    return true;
  }
};
inline constexpr skipper_parser skipper{};
using skipper_type = skipper_parser;

using phrase_context_type = x3::phrase_parse_context<skipper_type>::type;
using context_type = x3::context<parse_state_tag, ParseState, phrase_context_type>;

}  // namespace rapa::parser::grammar
