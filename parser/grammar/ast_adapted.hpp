// Fusion adaptation of the AST nodes with several fields; single-field nodes are filled by
// semantic actions (see annotate.hpp `into`).
#pragma once

#include <boost/fusion/include/adapt_struct.hpp>

#include "parser/ast.hpp"

BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Quantity, value, unit)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Range, low, high)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Comparison, op, operand)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::SlotConstraint, slot, constraint)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Test, lhs, op, rhs)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Pattern, type, slots, tests)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Detail, key, amount)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Recommend, drug, details, text)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Warn, severity, text)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Contraindicate, drug, text)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Monitor, what, details, text)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Ask, datum, text)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Grade, letter, consensus, because)
BOOST_FUSION_ADAPT_STRUCT(rapa::parser::ast::Rule, name, head, conditions, actions, tail)
