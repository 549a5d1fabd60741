// Quantities and ranges as a rule writes them: their value in base units, the unit a range
// shares, their spelling for messages, and the lab test that fixes a lab value's unit. Shared by
// the checker, which judges them, and the lowering, which turns them into numbers.
#pragma once

#include <optional>
#include <string>

#include "parser/ast.hpp"
#include "parser/kb/knowledge_base.hpp"

namespace rapa::parser {

/// The low end of a range as it is read: in `2..4 mg/day` the unit written on the high end
/// applies to the low end too.
ast::Quantity range_low(const ast::Range& range);

/// The value in base units (support/units.hpp); a bare number is its own value. nullopt when
/// the unit does not parse.
std::optional<double> in_base(const ast::Quantity& quantity);

/// "150 x10^9/L", "2..4 mg/day": for messages, and for showing an amount with no source text.
std::string format_quantity(const ast::Quantity& quantity);
std::string format_range(const ast::Range& range);

/// The lab test whose unit a `unit_from` slot takes in this pattern: the test named by a single
/// constant in the slot `unit_from` names (`lab(test: platelets, value: ...)`). nullptr when the
/// slot has a fixed unit, or the test is a variable, alternatives or not a known lab.
const kb::LabTest* unit_lab(const ast::Pattern& pattern, const kb::Slot& slot, const kb::KnowledgeBase& kb);

}  // namespace rapa::parser
