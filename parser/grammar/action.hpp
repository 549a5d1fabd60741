// Grammar group: the actions after `then`.
#pragma once

#include "parser/ast.hpp"
#include "parser/grammar/config.hpp"

namespace rapa::parser::grammar {

struct action_class;
using action_type = x3::rule<action_class, ast::Action>;

BOOST_SPIRIT_DECLARE(action_type)

const action_type& action();

}  // namespace rapa::parser::grammar
