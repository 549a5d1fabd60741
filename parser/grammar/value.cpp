// The one instantiation of the value group.
#include "parser/grammar/value_def.hpp"

namespace rapa::parser::grammar {

BOOST_SPIRIT_INSTANTIATE(name_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(text_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(quantity_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(range_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(value_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(compare_op_type, iterator_type, context_type)

const name_type& name() { return name_rule; }
const text_type& text() { return text_rule; }
const quantity_type& quantity() { return quantity_rule; }
const range_type& range() { return range_rule; }
const value_type& value() { return value_rule; }
const compare_op_type& compare_op() { return compare_op_rule; }

}  // namespace rapa::parser::grammar
