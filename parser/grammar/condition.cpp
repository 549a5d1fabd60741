// The one instantiation of the condition group.
#include "parser/grammar/condition_def.hpp"

namespace rapa::parser::grammar {

BOOST_SPIRIT_INSTANTIATE(pattern_type, iterator_type, context_type)
BOOST_SPIRIT_INSTANTIATE(condition_type, iterator_type, context_type)

const pattern_type& pattern() { return pattern_rule; }
const condition_type& condition() { return condition_rule; }

}  // namespace rapa::parser::grammar
