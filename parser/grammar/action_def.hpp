// Definitions of the action group; included only by action.cpp.
#pragma once

#include "parser/grammar/action.hpp"
#include "parser/grammar/annotate.hpp"
#include "parser/grammar/ast_adapted.hpp"
#include "parser/grammar/condition.hpp"
#include "parser/grammar/lexical.hpp"
#include "parser/grammar/value.hpp"

namespace rapa::parser::grammar {

struct action_class : annotate_position {};
struct detail_class : annotate_position {};
struct detail_key_class : annotate_position {};
struct amount_class {};
struct recommend_class : annotate_position {};
struct warn_class : annotate_position {};
struct contraindicate_class : annotate_position {};
struct monitor_class : annotate_position {};
struct ask_class : annotate_position {};
struct info_class : annotate_position {};
struct conclude_class : annotate_position {};
struct severity_class : annotate_position {};

const action_type action_rule =
    "an action (recommend, warn, contraindicate, monitor, ask, info or conclude)";
const x3::rule<detail_class, ast::Detail> detail_rule = "a detail";
const x3::rule<detail_key_class, ast::Name> detail_key_rule = "a detail";
const x3::rule<amount_class, ast::Amount> amount_rule = "an amount such as '2 mg/day' or '5..15 ng/mL'";
const x3::rule<recommend_class, ast::Recommend> recommend_rule = "'recommend'";
const x3::rule<warn_class, ast::Warn> warn_rule = "'warn'";
const x3::rule<contraindicate_class, ast::Contraindicate> contraindicate_rule = "'contraindicate'";
const x3::rule<monitor_class, ast::Monitor> monitor_rule = "'monitor'";
const x3::rule<ask_class, ast::Ask> ask_rule = "'ask'";
const x3::rule<info_class, ast::Info> info_rule = "'info'";
struct info_fill_class {};
const x3::rule<info_fill_class, ast::Info> info_fill_rule = "'info'";
const x3::rule<conclude_class, ast::Conclude> conclude_rule = "'conclude'";
struct conclude_fill_class {};
const x3::rule<conclude_fill_class, ast::Conclude> conclude_fill_rule = "'conclude'";
const x3::rule<severity_class, ast::Name> severity_rule = "a severity (critical, high, moderate or low)";

inline constexpr std::array<std::string_view, 4> severities = {"critical", "high", "moderate", "low"};

const auto amount_rule_def = range() | quantity();
// `reassess at 3 months`: 'at' may follow any detail word, for reading.
const auto detail_key_rule_def = word_set_parser{detail_keys.data(), detail_keys.size()};
const auto detail_rule_def = detail_key_rule >> -kw("at") > amount_rule;
const auto severity_rule_def = word_set_parser{severities.data(), severities.size()};

// A comma may separate details. Inside a sequence, so that a missing comma gives back the white
// space the skipper ate (a bare optional would keep it and stretch the node's range).
const auto detail_separator = -(x3::lit(',') >> x3::eps);
const auto recommend_rule_def = kw("recommend") > name() > *(detail_rule >> detail_separator) > -text();
const auto warn_rule_def = kw("warn") > severity_rule > text();
const auto contraindicate_rule_def = kw("contraindicate") > name() > text();
const auto monitor_rule_def = kw("monitor") > name() > *(detail_rule >> detail_separator) > text();
const auto ask_rule_def = kw("ask") > name() > text();
const auto info_fill_rule_def = kw("info") > text()[into(&ast::Info::text)];
const auto info_rule_def = info_fill_rule;
const auto conclude_fill_rule_def = kw("conclude") > pattern()[into(&ast::Conclude::fact)];
const auto conclude_rule_def = conclude_fill_rule;

const auto action_rule_def = recommend_rule | warn_rule | contraindicate_rule | monitor_rule | ask_rule |
                             info_rule | conclude_rule;

BOOST_SPIRIT_DEFINE(conclude_fill_rule, info_fill_rule, action_rule, detail_rule, detail_key_rule, amount_rule, recommend_rule, warn_rule,
                    contraindicate_rule, monitor_rule, ask_rule, info_rule, conclude_rule, severity_rule)

}  // namespace rapa::parser::grammar
