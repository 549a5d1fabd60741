// Definitions of the condition group; included only by condition.cpp.
#pragma once

#include "parser/grammar/annotate.hpp"
#include "parser/grammar/ast_adapted.hpp"
#include "parser/grammar/condition.hpp"
#include "parser/grammar/lexical.hpp"
#include "parser/grammar/value.hpp"

namespace rapa::parser::grammar {

struct pattern_class : annotate_position {};
struct condition_class : annotate_position {};
struct one_of_class : annotate_position {};
struct comparison_class : annotate_position {};
struct constraint_class {};
struct slot_constraint_class : annotate_position {};
struct test_class : annotate_position {};
struct negation_class : annotate_position {};
struct existence_class : annotate_position {};
struct alternatives_class : annotate_position {};
struct branch_class : annotate_position {};
struct group_class {};

const pattern_type pattern_rule = "a pattern such as 'diagnosis(code: ITP)'";
const condition_type condition_rule = "a condition";
const x3::rule<one_of_class, ast::OneOf> one_of_rule = "a value";
struct one_of_fill_class {};
const x3::rule<one_of_fill_class, ast::OneOf> one_of_fill_rule = "a value";
const x3::rule<comparison_class, ast::Comparison> comparison_rule = "a comparison";
const x3::rule<constraint_class, ast::Constraint> constraint_rule = "a value or a comparison";
const x3::rule<slot_constraint_class, ast::SlotConstraint> slot_constraint_rule = "a slot such as 'code: ITP'";
const x3::rule<test_class, ast::Test> test_rule = "a test such as '?age >= 18 years'";
const x3::rule<negation_class, ast::Negation> negation_rule = "'not'";
struct negation_fill_class {};
const x3::rule<negation_fill_class, ast::Negation> negation_fill_rule = "'not'";
const x3::rule<existence_class, ast::Existence> existence_rule = "'exists'";
struct existence_fill_class {};
const x3::rule<existence_fill_class, ast::Existence> existence_fill_rule = "'exists'";
const x3::rule<alternatives_class, ast::Alternatives> alternatives_rule = "'either'";
struct alternatives_fill_class {};
const x3::rule<alternatives_fill_class, ast::Alternatives> alternatives_fill_rule = "'either'";
const x3::rule<branch_class, ast::Branch> branch_rule = "'{'";
struct branch_fill_class {};
const x3::rule<branch_fill_class, ast::Branch> branch_fill_rule = "'{'";
const x3::rule<group_class, std::vector<ast::Condition>> group_rule = "'{'";
struct body_class {};
const x3::rule<body_class, std::vector<ast::Condition>> body_rule = "a pattern or a '{' group";

const auto one_of_fill_rule_def = (value() % '|')[into(&ast::OneOf::alternatives)];
const auto one_of_rule_def = one_of_fill_rule;
const auto comparison_rule_def = compare_op() > value();
const auto constraint_rule_def = comparison_rule | one_of_rule;
const auto slot_constraint_rule_def = name() > ':' > constraint_rule;
const auto test_rule_def = value() >> compare_op() > value();
const auto pattern_rule_def = name() >> '(' > -(slot_constraint_rule % ',') > ')' >
                              -(kw("where") > (test_rule % ','));

// `not p` and `not { p q }`: a single pattern or a braced group.
// Nodes filled by semantic actions are parsed by a *_fill rule and wrapped in a plain rule: X3
// runs a rule with actions on an unused attribute, so only the wrapper's on_success sees the
// node and can record its source range.
struct group_body_class {};
const x3::rule<group_body_class, std::vector<ast::Condition>> group_body_rule = "a condition";
const auto group_body_rule_def = +condition_rule;
const auto group_rule_def = '{' > group_body_rule > '}';
const auto assign_val = [](auto& context) { x3::_val(context) = std::move(x3::_attr(context)); };
const auto push_val = [](auto& context) { x3::_val(context).push_back(std::move(x3::_attr(context))); };
const auto body_rule_def = group_rule[assign_val] | pattern_rule[push_val];
const auto negation_fill_rule_def = kw("not") > body_rule[into(&ast::Negation::body)];
const auto negation_rule_def = negation_fill_rule;
const auto existence_fill_rule_def = kw("exists") > body_rule[into(&ast::Existence::body)];
const auto existence_rule_def = existence_fill_rule;
const auto branch_fill_rule_def = group_rule[into(&ast::Branch::conditions)];
const auto branch_rule_def = branch_fill_rule;
struct or_branches_class {};
const x3::rule<or_branches_class, std::vector<ast::Branch>> or_branches_rule = "'or'";
const auto or_branches_rule_def = +(kw("or") > branch_rule);
const auto alternatives_fill_rule_def = kw("either") > branch_rule[push_into(&ast::Alternatives::branches)] >
                                   or_branches_rule[([](auto& context) {
                                     auto& branches = x3::_val(context).branches;
                                     for (auto& b : x3::_attr(context)) branches.push_back(std::move(b));
                                   })];
const auto alternatives_rule_def = alternatives_fill_rule;

const auto condition_rule_def = negation_rule | existence_rule | alternatives_rule | pattern_rule;

BOOST_SPIRIT_DEFINE(branch_fill_rule, alternatives_fill_rule, existence_fill_rule, negation_fill_rule,
                    one_of_fill_rule, pattern_rule, condition_rule, one_of_rule, comparison_rule, constraint_rule,
                    slot_constraint_rule, test_rule, negation_rule, existence_rule, alternatives_rule,
                    branch_rule, group_rule, body_rule, group_body_rule, or_branches_rule)

}  // namespace rapa::parser::grammar
