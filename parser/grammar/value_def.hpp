// Definitions of the value group; included only by value.cpp.
#pragma once

#include "parser/grammar/annotate.hpp"
#include "parser/grammar/ast_adapted.hpp"
#include "parser/grammar/lexical.hpp"
#include "parser/grammar/value.hpp"

namespace rapa::parser::grammar {

struct name_class : annotate_position {};
struct text_class : annotate_position {};
struct quantity_class : annotate_position {};
struct range_class : annotate_position {};
struct value_class : annotate_position {};
struct compare_op_class {};
struct unit_class : annotate_position {};
struct variable_class : annotate_position {};

const name_type name_rule = "a name";
const text_type text_rule = "a quoted text";
const quantity_type quantity_rule = "a number";
const range_type range_rule = "a range";
const value_type value_rule = "a value";
const compare_op_type compare_op_rule = "a comparison";
const x3::rule<unit_class, ast::Unit> unit_rule = "a unit";
const x3::rule<variable_class, ast::Variable> variable_rule = "a variable";

inline const struct compare_op_symbols : x3::symbols<ast::CompareOp> {
  compare_op_symbols() {
    add("<", ast::CompareOp::lt)("<=", ast::CompareOp::le)(">", ast::CompareOp::gt)(
        ">=", ast::CompareOp::ge)("==", ast::CompareOp::eq)("!=", ast::CompareOp::ne);
  }
} compare_ops;

const auto name_rule_def = name_parser{};
const auto text_rule_def = text_parser{};
const auto unit_rule_def = unit_parser{};
const auto variable_rule_def = variable_parser{};
const auto quantity_rule_def = number >> -unit_rule;
// `2..4 mg/day`: the number before '..' is parsed again as a quantity if no '..' follows.
const auto range_rule_def = quantity_rule >> ".." > quantity_rule;
const auto value_rule_def = variable_rule | range_rule | quantity_rule | text_rule | name_rule;
const auto compare_op_rule_def = compare_ops;

BOOST_SPIRIT_DEFINE(name_rule, text_rule, unit_rule, variable_rule, quantity_rule, range_rule, value_rule,
                    compare_op_rule)

}  // namespace rapa::parser::grammar
