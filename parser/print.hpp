// The canonical text of a rule file: the syntax tree printed back in the rule language, one
// layout for every input. Parsing the output gives the same tree (ranges aside) and printing is
// idempotent; comments and the author's spacing are not in the tree and are not kept. Backs
// `rapa fmt` and the round-trip tests.
#pragma once

#include <string>

#include "parser/ast.hpp"

namespace rapa::parser {

/// Every rule of the file, separated by a blank line, ending with a newline ("" for no rule).
std::string print_rule_file(const ast::RuleFile& file);

/// One `rule ... end` block, ending with a newline. Layout: clauses before `when` and after the
/// actions indented by 2, `when` and `then` on their own lines, one condition or action per line
/// indented by 4; the details of `recommend` on one line below it indented by 6, then its text
/// on a line of its own.
std::string print_rule(const ast::Rule& rule);

/// Structural equality of two trees, ignoring source ranges (and hence the file they came from).
bool same_tree(const ast::Rule& a, const ast::Rule& b);
bool same_tree(const ast::RuleFile& a, const ast::RuleFile& b);

}  // namespace rapa::parser
