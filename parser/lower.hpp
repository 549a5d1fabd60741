// The compiler's back end: a checked rule base (syntax tree and kb) lowered into the rule base
// the inference engine runs. Names become canonical symbols (brands and Chinese names unify with
// the drug id), quantities numbers in base units, `either`/`not`/`exists` a disjunction of
// productions, variables numbers, texts templates.
#pragma once

#include <memory>

#include "inference/rule_base.hpp"
#include "parser/check.hpp"
#include "support/source_manager.hpp"

namespace rapa::parser {

/// Precondition: checking `checked` reported no errors. On other input nothing is asserted:
/// a rule that cannot be lowered faithfully (an unknown fact type, an unbound variable, ...) is
/// left out rather than lowered with a condition missing, and the rest is returned. `sources`
/// must hold the files the syntax tree was parsed from (details keep their amounts as written).
std::shared_ptr<const inference::RuleBase> lower(const CheckedRuleBase& checked,
                                                 const support::SourceManager& sources);

}  // namespace rapa::parser
