#include "parser/literal.hpp"

#include <fmt/format.h>

#include "support/units.hpp"

namespace rapa::parser {

ast::Quantity range_low(const ast::Range& range) {
  ast::Quantity low = range.low;
  if (!low.unit && range.high.unit) low.unit = range.high.unit;
  return low;
}

std::optional<double> in_base(const ast::Quantity& quantity) {
  if (!quantity.unit) return quantity.value;
  auto parsed = support::parse_unit(quantity.unit->spelling);
  if (!parsed.unit) return std::nullopt;
  return support::Quantity{quantity.value, *parsed.unit}.in_base();
}

std::string format_quantity(const ast::Quantity& quantity) {
  return quantity.unit ? fmt::format("{} {}", quantity.value, quantity.unit->spelling)
                       : fmt::format("{}", quantity.value);
}

std::string format_range(const ast::Range& range) {
  return range.low.unit ? format_quantity(range.low) + ".." + format_quantity(range.high)
                        : fmt::format("{}..{}", range.low.value, format_quantity(range.high));
}

const kb::LabTest* unit_lab(const ast::Pattern& pattern, const kb::Slot& slot, const kb::KnowledgeBase& kb) {
  if (slot.unit_from.empty()) return nullptr;
  for (const auto& sc : pattern.slots) {
    if (sc.slot.text != slot.unit_from) continue;
    const auto* one = boost::get<ast::OneOf>(&sc.constraint);
    if (!one || one->alternatives.size() != 1) continue;
    const auto* name = boost::get<ast::Name>(&one->alternatives.front());
    if (!name) continue;
    if (const auto* lab = kb.find_lab(name->text)) return lab;
  }
  return nullptr;
}

}  // namespace rapa::parser
