// The one instantiation of the action group.
#include "parser/grammar/action_def.hpp"

namespace rapa::parser::grammar {

BOOST_SPIRIT_INSTANTIATE(action_type, iterator_type, context_type)

const action_type& action() { return action_rule; }

}  // namespace rapa::parser::grammar
