// The semantic checker: rule files against the knowledge base. Each concern is its own small
// pass (names, schema, units, variables, actions, evidence, whole-rule-base warnings); every
// pass reports all it finds, so one run shows every problem.
#pragma once

#include <vector>

#include "parser/ast.hpp"
#include "parser/kb/knowledge_base.hpp"
#include "support/diagnostics.hpp"

namespace rapa::parser {

/// Checks the rule files against `kb` (already loaded and indexed) and reports to `diags`.
void check_rules(const std::vector<ast::RuleFile>& files, const kb::KnowledgeBase& kb,
                 support::DiagnosticEngine& diags);

}  // namespace rapa::parser
