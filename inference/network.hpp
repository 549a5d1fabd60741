// The Rete network's parts, named as in Doorenbos (1995), "Production Matching for Large
// Learning Systems": alpha memories, join and negative nodes, tokens, the agenda. Internal to
// the engine; see engine.hpp for the interface.
//
// Differences from the thesis, and why:
// - Every production has its own chain of beta nodes below a shared root; alpha memories are
//   shared. Clinical rule bases are small and their conditions rarely share long prefixes.
// - A negative node holds a conjunction (a single pattern, or the body of `not { ... }` and
//   `exists`), and recomputes an owner token's state from its alpha memories when one of them
//   changes. Bodies are small and owners few, so this is cheap, and one node kind replaces the
//   thesis's negative node, NCC node and NCC partner with their buffering rules.
// - Matching is three-valued: every token carries a Truth (yes, or undetermined when an
//   unknown value or an undetermined fact took part).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "inference/rule_base.hpp"

namespace rapa::inference {

using FactId = std::uint32_t;
using FiringId = std::uint32_t;
inline constexpr FactId kNoFact = ~FactId{0};
inline constexpr FiringId kNoFiring = ~FiringId{0};

struct Node;

/// A partial match: the chain of tokens from the root to here, one per beta node on the way.
struct Token {
  Token* parent = nullptr;
  Node* node = nullptr;
  FactId fact = kNoFact;       // join tokens: the fact this step matched
  Truth truth = Truth::yes;    // of the whole partial match
  Truth local = Truth::yes;    // negative-node owners: the negation's own truth
  std::uint64_t serial = 0;    // unique per creation: agenda entries check it
  std::uint32_t index_in_node = 0;
  FiringId firing = kNoFiring;  // production tokens that fired
  // Tree of tokens, so that removing one removes its descendants.
  Token* first_child = nullptr;
  Token* next_sibling = nullptr;
  Token* prev_sibling = nullptr;
  // The tokens that matched the same fact, so that retracting it finds them.
  Token* next_of_fact = nullptr;
  Token* prev_of_fact = nullptr;
};

/// Facts of one type that pass the same constant tests.
struct AlphaMemory {
  TypeId type = 0;
  std::vector<SlotTest> tests;      // constant operands only
  std::vector<FactId> facts;        // in insertion order
  std::vector<Truth> truths;        // parallel to facts: fact existence and constant tests
  std::vector<Node*> successors;    // deepest first, so a fact never joins itself twice
};

/// A value a join test reads: a constant, a slot of the fact being joined, or a slot of the
/// fact matched `up` tokens above the parent token.
struct Operand {
  enum class Source : std::uint8_t { constant, fact, token };
  Source source = Source::constant;
  Value constant;
  SlotIndex slot = 0;
  std::uint16_t up = 0;
};

struct JoinTest {
  Op op = Op::same;
  Operand lhs;
  Operand rhs;
  std::vector<Operand> choices;  // non-empty: lhs is one of them
};

/// Where a variable's value lives in a token chain: the slot of the fact matched at `depth`.
struct VarLocation {
  VarId var = 0;
  std::uint16_t depth = 0;
  SlotIndex slot = 0;
};

struct Node {
  enum class Kind : std::uint8_t { root, join, negative, production };
  Kind kind = Kind::root;
  Node* parent = nullptr;
  std::vector<Node*> children;
  std::uint16_t depth = 0;           // root 0; each node one more than its parent
  std::vector<Token*> tokens;        // this node's memory

  // join
  AlphaMemory* alpha = nullptr;
  std::vector<JoinTest> tests;

  // negative: the negated conjunction, evaluated with the variables bound above it
  const std::vector<Element>* body = nullptr;
  std::vector<VarLocation> env_layout;
  std::uint16_t var_count = 0;

  // production
  RuleId rule = 0;
  std::uint16_t production = 0;
  std::int32_t level = 1;
  std::int32_t salience = 0;
  std::vector<VarLocation> bindings;  // top-level variables, for the firing's record
};

/// Tokens are created and destroyed at a high rate; recycle them.
class TokenPool {
 public:
  Token* make() {
    if (free_.empty()) {
      chunks_.push_back(std::make_unique<Token[]>(kChunk));
      for (std::size_t i = kChunk; i-- > 0;) free_.push_back(&chunks_.back()[i]);
    }
    Token* token = free_.back();
    free_.pop_back();
    *token = Token{};
    return token;
  }
  void release(Token* token) { free_.push_back(token); }

 private:
  static constexpr std::size_t kChunk = 256;
  std::vector<std::unique_ptr<Token[]>> chunks_;
  std::vector<Token*> free_;
};

}  // namespace rapa::inference
