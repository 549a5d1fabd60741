// The one instantiation of the rule block group.
#include "parser/grammar/rule_file_def.hpp"

namespace rapa::parser::grammar {

BOOST_SPIRIT_INSTANTIATE(rule_block_type, iterator_type, context_type)

const rule_block_type& rule_block() { return rule_block_rule; }

}  // namespace rapa::parser::grammar
