// Grammar group: the leaves every other group uses (names, texts, quantities, ranges, values).
#pragma once

#include "parser/ast.hpp"
#include "parser/grammar/config.hpp"

namespace rapa::parser::grammar {

struct name_class;
struct text_class;
struct quantity_class;
struct range_class;
struct value_class;
struct compare_op_class;

using name_type = x3::rule<name_class, ast::Name>;
using text_type = x3::rule<text_class, ast::Text>;
using quantity_type = x3::rule<quantity_class, ast::Quantity>;
using range_type = x3::rule<range_class, ast::Range>;
using value_type = x3::rule<value_class, ast::Value>;
using compare_op_type = x3::rule<compare_op_class, ast::CompareOp>;

BOOST_SPIRIT_DECLARE(name_type, text_type, quantity_type, range_type, value_type, compare_op_type)

const name_type& name();
const text_type& text();
const quantity_type& quantity();
const range_type& range();
const value_type& value();
const compare_op_type& compare_op();

}  // namespace rapa::parser::grammar
