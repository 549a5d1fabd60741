// Definitions of the rule block group; included only by rule_file.cpp.
#pragma once

#include "parser/grammar/action.hpp"
#include "parser/grammar/annotate.hpp"
#include "parser/grammar/ast_adapted.hpp"
#include "parser/grammar/condition.hpp"
#include "parser/grammar/lexical.hpp"
#include "parser/grammar/rule_file.hpp"
#include "parser/grammar/value.hpp"

namespace rapa::parser::grammar {

struct rule_block_class : annotate_position {};
struct clause_class {};
struct title_class : annotate_position {};
struct salience_class : annotate_position {};
struct grade_class : annotate_position {};
struct grade_letter_class : annotate_position {};
struct cite_class : annotate_position {};
struct rationale_class : annotate_position {};
struct source_key_class : annotate_position {};
struct when_class {};
struct then_class {};
struct end_class {};
struct conditions_end_class {};
struct conditions_class {};
struct actions_class {};

const rule_block_type rule_block_rule = "'rule'";
const x3::rule<clause_class, ast::Clause> clause_rule = "a clause";
const x3::rule<title_class, ast::Title> title_rule = "'title'";
struct title_fill_class {};
const x3::rule<title_fill_class, ast::Title> title_fill_rule = "'title'";
const x3::rule<salience_class, ast::Salience> salience_rule = "'salience'";
struct salience_fill_class {};
const x3::rule<salience_fill_class, ast::Salience> salience_fill_rule = "'salience'";
const x3::rule<grade_class, ast::Grade> grade_rule = "'grade'";
const x3::rule<grade_letter_class, ast::Name> grade_letter_rule = "a grade (A, B, C or D)";
const x3::rule<cite_class, ast::Cite> cite_rule = "'cite'";
struct cite_fill_class {};
const x3::rule<cite_fill_class, ast::Cite> cite_fill_rule = "'cite'";
const x3::rule<rationale_class, ast::Rationale> rationale_rule = "'rationale'";
struct rationale_fill_class {};
const x3::rule<rationale_fill_class, ast::Rationale> rationale_fill_rule = "'rationale'";
const x3::rule<source_key_class, ast::Name> source_key_rule = "a source key";
// Named keyword rules, so that "expected ..." says the word the author must write.
const x3::rule<when_class> when_rule = "'when'";
const x3::rule<then_class> then_rule = "'then'";
const x3::rule<end_class> end_rule = "'end' (or another action or clause)";
const x3::rule<conditions_end_class> conditions_end_rule = "'then' (or another condition)";

const x3::rule<conditions_class, std::vector<ast::Condition>> conditions_rule = "a condition";
const x3::rule<actions_class, std::vector<ast::Action>> actions_rule =
    "an action (recommend, warn, contraindicate, monitor, ask, info or conclude)";

inline constexpr std::array<std::string_view, 4> grade_letters = {"A", "B", "C", "D"};

const auto title_fill_rule_def = kw("title") > text()[into(&ast::Title::text)];
const auto title_rule_def = title_fill_rule;
struct integer_class {};
const x3::rule<integer_class, std::int32_t> integer_rule = "a whole number";
const auto integer_rule_def = x3::int32;
const auto salience_fill_rule_def = kw("salience") > integer_rule[into(&ast::Salience::value)];
const auto salience_rule_def = salience_fill_rule;
const auto grade_letter_rule_def = word_set_parser{grade_letters.data(), grade_letters.size()};
const auto grade_rule_def = kw("grade") > grade_letter_rule > x3::matches[kw("consensus")] >
                            -(kw("because") > text());
const auto source_key_rule_def = name();
const auto cite_fill_rule_def = kw("cite") > (source_key_rule % ',')[into(&ast::Cite::keys)];
const auto cite_rule_def = cite_fill_rule;
const auto rationale_fill_rule_def = kw("rationale") > text()[into(&ast::Rationale::text)];
const auto rationale_rule_def = rationale_fill_rule;
const auto clause_rule_def = title_rule | salience_rule | grade_rule | cite_rule | rationale_rule;

const auto when_rule_def = kw("when");
const auto then_rule_def = kw("then");
const auto end_rule_def = kw("end");
const auto conditions_end_rule_def = &kw("then");

const auto conditions_rule_def = +condition();
const auto actions_rule_def = +action();
const auto rule_block_rule_def = kw("rule") > name() > *clause_rule > when_rule > conditions_rule >
                                 conditions_end_rule > then_rule > actions_rule > *clause_rule > end_rule;

BOOST_SPIRIT_DEFINE(rationale_fill_rule, cite_fill_rule, salience_fill_rule, title_fill_rule, rule_block_rule, clause_rule, title_rule, salience_rule, grade_rule, grade_letter_rule,
                    cite_rule, rationale_rule, source_key_rule, when_rule, then_rule, end_rule,
                    conditions_end_rule, conditions_rule, actions_rule, integer_rule)

}  // namespace rapa::parser::grammar
