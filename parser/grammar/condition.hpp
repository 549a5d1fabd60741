// Grammar group: conditions of a rule (patterns with slot constraints and tests, not, exists,
// either/or).
#pragma once

#include "parser/ast.hpp"
#include "parser/grammar/config.hpp"

namespace rapa::parser::grammar {

struct pattern_class;
struct condition_class;

using pattern_type = x3::rule<pattern_class, ast::Pattern>;
using condition_type = x3::rule<condition_class, ast::Condition>;

BOOST_SPIRIT_DECLARE(pattern_type, condition_type)

const pattern_type& pattern();
const condition_type& condition();

}  // namespace rapa::parser::grammar
