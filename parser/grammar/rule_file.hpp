// Grammar group: one `rule ... end` block with its clauses. A file is parsed block by block by
// parse_rule_file (parser/parse.cpp), which recovers after a broken block.
#pragma once

#include "parser/ast.hpp"
#include "parser/grammar/config.hpp"

namespace rapa::parser::grammar {

struct rule_block_class;
using rule_block_type = x3::rule<rule_block_class, ast::Rule>;

BOOST_SPIRIT_DECLARE(rule_block_type)

const rule_block_type& rule_block();

}  // namespace rapa::parser::grammar
