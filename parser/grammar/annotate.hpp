// Tags every AST node with the byte range it was parsed from. Our own handler, not X3's
// position_tagged: ranges must outlive the parse and match those of the YAML loaders.
#pragma once

#include <type_traits>

#include "parser/ast.hpp"
#include "parser/grammar/config.hpp"

namespace rapa::parser::grammar {

/// Base of the ID class of every rule whose attribute is an ast::Node.
struct annotate_position {
  template <class Iterator, class Attribute, class Context>
  void on_success(const Iterator& first, const Iterator& last, Attribute& attr, const Context& context) const {
    if constexpr (std::is_base_of_v<ast::Node, Attribute>) {
      const ParseState& state = x3::get<parse_state_tag>(context);
      attr.range = {state.file, static_cast<std::uint32_t>(first - state.begin),
                    static_cast<std::uint32_t>(last - state.begin)};
    }
  }
};

/// A semantic action storing the rule's parsed attribute into one member of its AST node. Used
/// for nodes with a single field, which X3 does not reliably fill through Fusion.
template <class Node, class Member>
auto into(Member Node::*member) {
  return [member](auto& context) { x3::_val(context).*member = std::move(x3::_attr(context)); };
}

/// Like into(), for a member that is a list receiving one element.
template <class Node, class Member>
auto push_into(Member Node::*member) {
  return [member](auto& context) { (x3::_val(context).*member).push_back(std::move(x3::_attr(context))); };
}

}  // namespace rapa::parser::grammar
