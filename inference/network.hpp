// The Rete network's parts, named as in Doorenbos (1995), "Production Matching for Large
// Learning Systems": alpha memories, join and negative nodes, tokens, the agenda. Internal to
// the engine; see engine.hpp for the interface.
//
// Differences from the thesis, and why:
// - Alpha memories are shared, and so are join nodes: productions whose conditions begin alike
//   share the joins of that prefix. Negative nodes and production nodes are each production's
//   own (a negation's body names the rule's own variables).
// - A negative node holds a conjunction (a single pattern, or the body of `not { ... }` and
//   `exists`), and recomputes an owner token's state from its alpha memories when one of them
//   changes. Bodies are small and owners few, so this is cheap, and one node kind replaces the
//   thesis's negative node, NCC node and NCC partner with their buffering rules.
// - Matching is three-valued: every token carries a Truth (yes, or undetermined when an
//   unknown value or an undetermined fact took part).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "inference/rule_base.hpp"

namespace rapa::inference {

using FactId = std::uint32_t;
using FiringId = std::uint32_t;
inline constexpr FactId kNoFact = ~FactId{0};
inline constexpr FiringId kNoFiring = ~FiringId{0};

struct Node;

/// A partial match: the chain of tokens from the root to here, one per beta node on the way.
///
/// One cache line. A patient makes dozens of tokens and reads them again as their children are
/// made and their productions fire, so their size is much of what a patient touches: padding
/// the 96-byte token of the eighth round to 128 bytes cost 22% more time at R = 200. To fit, the
/// two lists a token is in are linked one way only (unlinking a token searches its list from
/// the head, see Engine::Impl::unlink), and an agenda entry is cancelled through the token
/// rather than checked against a serial number.
struct alignas(64) Token {
  Token* parent = nullptr;
  Node* node = nullptr;
  /// Join tokens: their fact's slots, which stay where they are while the fact (and so the
  /// token) lives; joins read them without going through working memory.
  const Value* slots = nullptr;
  // Tree of tokens, so that removing one removes its descendants.
  Token* first_child = nullptr;
  Token* next_sibling = nullptr;
  /// The tokens that matched the same fact, so that retracting it finds them.
  Token* next_of_fact = nullptr;
  FactId fact = kNoFact;       // join tokens: the fact this step matched
  /// Where the token is held: its index in its node's memory. A production token, which only
  /// the agenda holds, has its activation's index in the agenda here until it fires, and its
  /// firing's id from then on.
  std::uint32_t place = 0;
  Truth truth = Truth::yes;    // of the whole partial match
  Truth local = Truth::yes;    // negative-node owners: the negation's own truth
  // The flags are whole bytes, not bit-fields: writing a bit-field reads its line first, and
  // a new token's line is not in the cache.
  /// Made since the rule base's facts were matched (Engine::Impl::mark_base), from the patient
  /// arena: reset() drops all such tokens at once. The others, the base tokens, stay.
  bool patient = false;
  /// Base tokens: listed in the engine's patient_parents (a patient token is among its children).
  bool listed = false;
  /// Base negative-node owners: its negation's truth changed while a patient's facts were in.
  bool flipped = false;
  /// A production token (its node's kind says which tokens are) that fired: `place` is its
  /// firing, no longer its activation.
  bool fired = false;
};
static_assert(sizeof(Token) == 64, "a token is one cache line");

/// A map from a 64-bit key (a hash, or an address) to a value, filled while the network is
/// built and read on every fact: open addressing over a power-of-two table, so a lookup is a
/// multiply, a shift and a probe where std::unordered_map divides by a prime. The multiply
/// takes the high bits, since a Value's hash of a round number has its low bits all zero.
template <class V>
class HashTable {
 public:
  /// The value under `key`, default-constructed when new.
  V& operator[](std::size_t key) {
    if ((size_ + 1) * 2 > keys_.size()) grow();
    std::size_t i = home(key);
    for (; used_[i]; i = (i + 1) & (keys_.size() - 1))
      if (keys_[i] == key) return values_[i];
    used_[i] = 1;
    keys_[i] = key;
    ++size_;
    return values_[i];
  }
  const V* find(std::size_t key) const {
    if (size_ == 0) return nullptr;
    for (std::size_t i = home(key); used_[i]; i = (i + 1) & (keys_.size() - 1))
      if (keys_[i] == key) return &values_[i];
    return nullptr;
  }
  template <class Visit>  // visit(key, value)
  void for_each(Visit&& visit) const {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (used_[i]) visit(keys_[i], values_[i]);
  }
  void clear() {
    keys_.clear();
    values_.clear();
    used_.clear();
    size_ = 0;
    shift_ = 64;
  }

 private:
  std::size_t home(std::size_t key) const {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow() {
    std::vector<std::size_t> keys = std::move(keys_);
    std::vector<V> values = std::move(values_);
    std::vector<std::uint8_t> used = std::move(used_);
    const std::size_t capacity = keys.empty() ? 8 : keys.size() * 2;
    keys_.assign(capacity, 0);
    values_.clear();
    values_.resize(capacity);
    used_.assign(capacity, 0);
    size_ = 0;
    shift_ = 64 - std::countr_zero(capacity);
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (used[i]) (*this)[keys[i]] = std::move(values[i]);
  }
  std::vector<std::size_t> keys_;
  std::vector<V> values_;
  std::vector<std::uint8_t> used_;
  std::size_t size_ = 0;
  int shift_ = 64;
};

/// The token `up` steps above `token`: where a join finds the fact that bound a variable.
inline const Token* ancestor(const Token* token, std::uint16_t up) {
  for (; up > 0; --up) token = token->parent;
  return token;
}

/// An alpha memory's facts, in insertion order, with their truths (fact existence and
/// constant tests): two arrays with one size and capacity, 24 bytes where two vectors took 48,
/// so that the memory's first cache line has room for what a fact entering it reads next.
class FactColumn {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  FactId id(std::size_t at) const { return ids_[at]; }
  Truth truth(std::size_t at) const { return truths_[at]; }
  std::span<const FactId> ids() const { return {ids_.get(), size_}; }
  void push_back(FactId id, Truth truth) {
    if (size_ == capacity_) grow();
    ids_[size_] = id;
    truths_[size_] = truth;
    ++size_;
  }
  /// Keeps the first `n`.
  void truncate(std::size_t n) {
    if (n < size_) size_ = static_cast<std::uint32_t>(n);
  }
  /// Takes `id` out, the others keeping their order; nothing when it is not here.
  void erase(FactId id) {
    std::size_t at = 0;
    while (at < size_ && ids_[at] != id) ++at;
    if (at == size_) return;
    for (--size_; at < size_; ++at) {
      ids_[at] = ids_[at + 1];
      truths_[at] = truths_[at + 1];
    }
  }
  void clear() { size_ = 0; }

 private:
  void grow() {
    const std::uint32_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;
    auto ids = std::make_unique<FactId[]>(capacity);
    auto truths = std::make_unique<Truth[]>(capacity);
    std::copy(ids_.get(), ids_.get() + size_, ids.get());
    std::copy(truths_.get(), truths_.get() + size_, truths.get());
    ids_ = std::move(ids);
    truths_ = std::move(truths);
    capacity_ = capacity;
  }
  std::unique_ptr<FactId[]> ids_;
  std::unique_ptr<Truth[]> truths_;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
};

/// Facts of one type that pass the same constant tests. Aligned, and ordered by who reads
/// what: the first cache line is what entering, leaving, joining and reset() read of every
/// memory they touch, and a memory with one successor (most of them) needs no other line to
/// pass a fact on; the second line holds the next successors; the rest only some memories
/// need (tests beyond those a fact is known to pass, base indexes, negative nodes). Each line a
/// visit spans is a likely miss: the network is larger than the first-level cache, and the
/// memories a patient touches vary from patient to patient.
struct alignas(64) AlphaMemory {
  FactColumn facts;
  std::uint32_t base_size = 0;      // the rule base's own facts come first
  std::uint32_t test_count = 0;     // tests.size()
  std::uint32_t index = 0;          // its place in the engine's list of memories
  // The successors, copied from `successors` and `successor_parents` by place_successors():
  // the first here, the next few in the second line, so that a fact entering the memory finds
  // them without the vectors' buffers, each a likely cache miss of its own.
  std::uint32_t successor_count = 0;
  std::uint32_t first_parent = 0;
  bool listed = false;              // in the engine's patient_memories
  TypeId type = 0;
  Node* first_successor = nullptr;

  static constexpr std::size_t kNearSuccessors = 4;  // after the first
  std::array<std::uint32_t, kNearSuccessors> near_parents{};
  std::array<Node*, kNearSuccessors> near_successors{};

  /// Parallel to `successors`: each one's parent's Node::index. A fact entering the memory
  /// checks the parents' flags in one small array instead of visiting every successor node.
  std::vector<std::uint32_t> successor_parents;
  std::vector<Node*> successors;    // deepest first, so a fact never joins itself twice

  std::vector<SlotTest> tests;      // constant operands only

  /// Copies the successors into the first two lines; once, when the network is finished.
  void place_successors() {
    successor_count = static_cast<std::uint32_t>(successors.size());
    if (successor_count == 0) return;
    first_parent = successor_parents[0];
    first_successor = successors[0];
    for (std::size_t i = 1; i < successor_count && i <= kNearSuccessors; ++i) {
      near_parents[i - 1] = successor_parents[i];
      near_successors[i - 1] = successors[i];
    }
  }

  /// visit(parent index, successor) for each successor in order, read from the first line, then
  /// the second, then the vectors: the layout above, said once.
  template <class Visit>
  [[gnu::always_inline]] void for_each_successor(Visit&& visit) const {
    const std::size_t count = successor_count;
    if (count == 0) return;
    visit(first_parent, first_successor);
    const std::size_t near = std::min(count, 1 + kNearSuccessors);
    for (std::size_t i = 1; i < near; ++i) visit(near_parents[i - 1], near_successors[i - 1]);
    if (count == near) return;  // the vectors are in another line
    // The buffers in locals: `visit` may call anything, so the vectors would be read again.
    const std::uint32_t* parents = successor_parents.data();
    Node* const* rest = successors.data();
    for (std::size_t i = near; i < count; ++i) visit(parents[i], rest[i]);
  }

  /// Positions of the base facts by the value of one slot, for joins that look facts up by a
  /// value they already hold (cyp3a4(drug: ?m) after medication(drug: ?m)). Base facts never
  /// move while the engine runs, so the index is built once; the few facts added later are
  /// scanned.
  struct BaseIndex {
    SlotIndex slot = 0;
    HashTable<std::vector<std::uint32_t>> by_hash;
    std::vector<std::uint32_t> unknown;  // base facts whose slot is unknown: match anything
  };
  std::vector<BaseIndex> indexes;

  const BaseIndex* index_on(SlotIndex slot) const {
    for (const BaseIndex& i : indexes)
      if (i.slot == slot) return &i;
    return nullptr;
  }
  std::vector<Node*> negatives;     // the negative nodes among them, which a fact leaving wakes
};

/// A value a join test reads: a constant, a slot of the fact being joined, or a slot of the
/// fact matched `up` tokens above the parent token.
struct Operand {
  enum class Source : std::uint8_t { constant, fact, token };
  // Small fields first, here and in JoinTest, so that no padding is left: every join reads
  // its tests, and the fewer cache lines they take the better.
  Source source = Source::constant;
  SlotIndex slot = 0;
  std::uint16_t up = 0;
  Value constant;
};

struct JoinTest {
  Op op = Op::same;
  /// `fact.slot same ?var bound above`: the shape of almost every join (a shared variable),
  /// tested without the general operand dispatch.
  bool fact_same_token = false;
  Operand lhs;
  Operand rhs;
  std::vector<Operand> choices;  // non-empty: lhs is one of them
};

/// Where a variable's value lives in a token chain: the slot of the fact matched at `depth`,
/// by the join that is `join`th on the way from the root (its fact's place in a firing's
/// `matched`, which fire() knows without reading the token's node).
struct VarLocation {
  VarId var = 0;
  std::uint16_t depth = 0;
  SlotIndex slot = 0;
  std::uint16_t join = 0;
};

/// Fields in the order a patient's matching reads them: what every activation of a join
/// reads comes first, aligned to a cache line (the network is larger than the first-level
/// cache, so each line a node visit spans is a likely miss); what productions, negations and
/// reset() read follows.
struct alignas(64) Node {
  enum class Kind : std::uint8_t { root, join, negative, production };
  // The first cache line holds what an activation reads: of a production, everything its
  // activation and its firing need; of a join, where to find its candidates.
  Kind kind = Kind::root;
  /// join: its one test is the hashed one, which join_truth() then takes from this line
  /// (hashed_fact_slot, hashed_up, hashed_slot) without reading `tests`.
  bool only_hashed_test = false;
  std::uint16_t depth = 0;           // root 0; each node one more than its parent
  /// join: bit s set for each slot s that it binds (bind_slots), which join_truth() reads
  /// instead of bind_slots when they are all below 32 (`binds_in_mask`).
  std::uint32_t bind_mask = 0;
  Node* parent = nullptr;

  // production
  std::uint32_t agenda_rank = 0;      // place in the agenda's order of productions (engine.cpp)
  std::uint16_t joins_above = 0;      // join nodes on the way from the root: facts matched
  std::uint16_t production = 0;
  RuleId rule = 0;
  /// The rule's variables (production and negative nodes): the size of a firing's bindings,
  /// and of a negation's environment.
  std::uint16_t var_count = 0;
  /// The rule's conclusions, a run of the engine's (Engine::Impl::conclusions), which a firing
  /// reads instead of the rule's actions.
  std::uint16_t conclusion_count = 0;
  std::uint32_t first_conclusion = 0;
  /// The top-level variables, for the firing's record: a run of the engine's
  /// (Engine::Impl::production_bindings).
  std::uint32_t first_binding = 0;
  std::uint16_t binding_count = 0;

  // join
  bool binds_in_mask = false;
  /// A test `fact.slot same token value` whose value finds the candidates in the alpha
  /// memory's base index; -1 when the join has none.
  std::int16_t hashed_test = -1;
  SlotIndex hashed_fact_slot = 0;    // that test's `fact.slot`
  AlphaMemory* alpha = nullptr;
  /// That test's index in `alpha->indexes`, found once here rather than per activation.
  std::uint32_t hashed_index = 0;
  /// Where that test's value is (its rhs: `up` tokens above the parent, slot `slot`), copied
  /// here so that a left activation finds its candidates from this cache line alone; when
  /// there are none it never reads `tests`.
  std::uint16_t hashed_up = 0;
  SlotIndex hashed_slot = 0;
  // The second line: what making a token, passing it on and reset() read.
  /// The children as a token passing on reads them, each with a join child's alpha memory
  /// (AlphaMemory::index; kNoMemory for the other kinds), so that it passes over joins whose
  /// memory is empty without visiting them (Doorenbos's null left activations). One array,
  /// so one line read for both.
  struct Child {
    Node* node = nullptr;
    std::uint32_t memory = 0;
  };
  std::vector<Child> links;
  /// This node's memory (every kind): the base tokens first, `base_count` of them, then the
  /// patient's, so that reset() drops the patient's by cutting the vector back.
  std::vector<Token*> tokens;
  std::uint32_t base_count = 0;
  std::uint32_t index = 0;           // its place in the engine's list of nodes
  std::uint64_t patient_mark = 0;    // the last reset() before it was listed as holding patient tokens
  /// The join's tests, read from this third line only by a join that has more than the
  /// hashed one (only_hashed_test).
  std::vector<JoinTest> tests;
  std::vector<Node*> children;       // every kind but production
  static constexpr std::uint32_t kNoMemory = ~std::uint32_t{0};
  std::vector<SlotIndex> bind_slots;  // an unknown value bound here makes the match undetermined

  // production, read only while the network is built
  std::int32_t level = 1;
  std::int32_t salience = 0;

  // negative: the negated conjunction, evaluated with the variables bound above it
  /// A negation of one pattern whose tests read only constants and variables bound above it
  /// (`not lab(patient: ?p, test: anc)`, the usual shape) is evaluated over its alpha memory
  /// without the interpreter; null for other bodies. See Engine::Impl::compile_negation.
  AlphaMemory* negated_alpha = nullptr;
  struct NegatedTest {
    Op op = Op::same;
    SlotIndex slot = 0;         // of the candidate fact
    std::uint16_t up = 0;       // the variable's token, counted from the owner's parent
    SlotIndex token_slot = 0;   // the variable's slot in that token's fact
  };
  std::vector<NegatedTest> negated_tests;
  std::vector<SlotIndex> negated_binds;  // an unknown value bound here makes the match undetermined
  const std::vector<Element>* body = nullptr;
  std::vector<VarLocation> env_layout;
  std::uint64_t flipped_mark = 0;    // the same, as holding flipped owners (Token::flipped)
};

/// The base tokens (Token::patient false): created and destroyed one by one, and recycled.
class TokenPool {
 public:
  Token* make() {
    Token* token = take();
    *token = Token{};
    return token;
  }
  /// A token as last left, for a caller that sets every field itself.
  Token* take() {
    if (free_.empty()) {
      chunks_.push_back(std::make_unique<Token[]>(kChunk));
      for (std::size_t i = kChunk; i-- > 0;) free_.push_back(&chunks_.back()[i]);
    }
    Token* token = free_.back();
    free_.pop_back();
    return token;
  }
  void release(Token* token) { free_.push_back(token); }

 private:
  static constexpr std::size_t kChunk = 256;
  std::vector<std::unique_ptr<Token[]>> chunks_;
  std::vector<Token*> free_;
};

/// Runs of values handed out in order from chunks kept until clear(), which takes them all
/// back at once: what a patient's facts and firings hold (slots, matched facts, bindings) lies
/// side by side, in memory the last patient used, with no vector of its own per record. A run
/// never moves, so views of it stay valid until clear().
template <class T>
class RunArena {
 public:
  T* take(std::size_t n) {
    if (static_cast<std::size_t>(end_ - next_) < n) next_chunk(n);
    T* run = next_;
    next_ += n;
    return run;
  }
  /// Returns the run taken last, which nothing has been taken after.
  void give_back(std::span<const T> run) {
    assert(run.data() + run.size() == next_);
    next_ -= run.size();
  }
  void clear() {
    used_chunks_ = 0;
    next_ = end_ = nullptr;
  }

 private:
  void next_chunk(std::size_t n) {
    // A chunk too small for this run is skipped until clear(); runs are short, chunks long.
    while (used_chunks_ < chunks_.size() && chunks_[used_chunks_].size < n) ++used_chunks_;
    if (used_chunks_ == chunks_.size()) {
      const std::size_t size = n > kChunk ? n : kChunk;
      chunks_.push_back(Chunk{std::make_unique<T[]>(size), size});
    }
    Chunk& chunk = chunks_[used_chunks_++];
    next_ = chunk.items.get();
    end_ = next_ + chunk.size;
  }
  struct Chunk {
    std::unique_ptr<T[]> items;
    std::size_t size = 0;
  };
  static constexpr std::size_t kChunk = 1024;
  std::vector<Chunk> chunks_;
  std::size_t used_chunks_ = 0;
  T* next_ = nullptr;
  T* end_ = nullptr;
};

/// Distinct items from a set whose size is known once the network is built (its alpha
/// memories, its nodes), each added at most once between clears (a flag or mark of its own
/// says whether it is listed): room for all of them is made up front, so adding checks nothing.
template <class T>
class ListedOnce {
 public:
  void make_room(std::size_t n) { items_.resize(n); }
  void add(T item) {
    assert(size_ < items_.size());
    items_[size_++] = item;
  }
  T* begin() { return items_.data(); }
  T* end() { return items_.data() + size_; }
  void clear() { size_ = 0; }

 private:
  std::vector<T> items_;
  std::size_t size_ = 0;
};

/// The patient's tokens: one run each from an arena kept from one patient to the next, all
/// taken back at once by clear(), which reset() calls instead of releasing them one by one. A
/// token released before then (a retraction) is handed out again first.
class TokenArena {
 public:
  Token* take() {
    if (free_.empty()) return tokens_.take(1);
    Token* token = free_.back();
    free_.pop_back();
    return token;
  }
  void release(Token* token) { free_.push_back(token); }
  /// Every token back, to be handed out again.
  void clear() {
    free_.clear();
    tokens_.clear();
  }

 private:
  RunArena<Token> tokens_;
  std::vector<Token*> free_;
};

}  // namespace rapa::inference

namespace rapa::inference {

/// A vector whose elements outlive clear() and truncate(): the next patient's facts and
/// firings reuse their buffers instead of going back to the allocator.
template <class T>
class Recycling {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return items_[i]; }
  const T& operator[](std::size_t i) const { return items_[i]; }
  const T& at(std::size_t i) const {
    if (i >= size_) throw std::out_of_range("no such element");
    return items_[i];
  }
  /// The next element, default-constructed the first time and as left behind after that: the
  /// caller resets every field.
  T& next() {
    if (size_ == items_.size()) items_.emplace_back();
    return items_[size_++];
  }
  void truncate(std::size_t n) { size_ = n < size_ ? n : size_; }
  void clear() { size_ = 0; }
  T* begin() { return items_.data(); }
  T* end() { return items_.data() + size_; }
  const T* begin() const { return items_.data(); }
  const T* end() const { return items_.data() + size_; }

 private:
  std::vector<T> items_;
  std::size_t size_ = 0;
};

/// Facts by identity hash: open addressing with linear probing, no allocation per entry.
/// Erasing shifts the entries after it back (Knuth's algorithm R) instead of leaving
/// tombstones: reset() erases a patient's facts, and tombstones would fill the table and
/// force a rehash every few patients.
class FactIndex {
 public:
  void insert(std::size_t hash, FactId id) {
    make_room();
    note_filled(place(hash, id));
  }
  void erase(std::size_t hash, FactId id) {
    if (slots_.empty()) return;
    std::size_t i = hash & mask();
    for (; slots_[i].id != kEmpty; i = (i + 1) & mask())
      if (slots_[i].hash == low_bits(hash) && slots_[i].id == id) break;
    if (slots_[i].id == kEmpty) return;
    // Move back each later entry of the cluster whose home is not in (i, j]: a search for it
    // would otherwise stop at the hole.
    for (std::size_t j = (i + 1) & mask(); slots_[j].id != kEmpty; j = (j + 1) & mask()) {
      const std::size_t home = slots_[j].hash & mask();
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i].id = kEmpty;
    --live_;
    // restore() copies the saved table after an erase, so the places filled so far are no
    // longer needed; dropping them keeps a session that never resets from growing the list.
    erased_since_save_ = true;
    filled_since_save_.clear();
  }
  /// One probe for a fact that may already be there: the place in `hash`'s cluster of the fact
  /// `same(id)` accepts, or else of the empty place that ends the cluster, for fill(). Grows
  /// first, so that the empty place is still there to fill.
  template <class Same>  // bool same(FactId)
  std::size_t probe(std::size_t hash, Same&& same) {
    make_room();
    std::size_t i = hash & mask();
    for (; slots_[i].id != kEmpty; i = (i + 1) & mask())
      if (slots_[i].hash == low_bits(hash) && same(slots_[i].id)) break;
    return i;
  }
  /// The fact at a place probe() returned; kNoFact when it is the empty one.
  FactId at(std::size_t place) const { return slots_[place].id; }
  /// Fills the empty place probe() returned, provided nothing was inserted or erased since.
  void fill(std::size_t place, std::size_t hash, FactId id) {
    slots_[place] = Slot{low_bits(hash), id};
    ++live_;
    note_filled(place);
  }
  template <class Visit>  // bool visit(FactId): false stops
  void find(std::size_t hash, Visit&& visit) const {
    if (slots_.empty()) return;
    for (std::size_t i = hash & mask(); slots_[i].id != kEmpty; i = (i + 1) & mask())
      if (slots_[i].hash == low_bits(hash) && !visit(slots_[i].id)) return;
  }
  /// Empties the table, and forgets what save() kept.
  void clear() {
    for (auto& s : slots_) s.id = kEmpty;
    live_ = 0;
    saved_.clear();
    saved_live_ = 0;
    filled_since_save_.clear();
    erased_since_save_ = false;
  }
  /// save() keeps the table as it is (the rule base's facts); restore() puts it back. When
  /// nothing was erased since, the places filled since are the only difference, and emptying
  /// those few (a patient's facts) is cheaper than copying the whole table.
  void save() {
    saved_ = slots_;
    saved_live_ = live_;
    filled_since_save_.clear();
    erased_since_save_ = false;
  }
  void restore() {
    if (slots_.size() != saved_.size()) {
      // Grown since save(): keep the size (the next patient would grow it again) and save the
      // saved entries again at this size.
      const std::vector<Slot> base = std::move(saved_);
      clear();
      for (const Slot& s : base)
        if (s.id != kEmpty) place(s.hash, s.id);
      save();
      return;
    }
    if (erased_since_save_) {
      slots_ = saved_;  // an erase may have moved the saved entries
      erased_since_save_ = false;
    } else {
      for (std::uint32_t place : filled_since_save_) slots_[place].id = kEmpty;
    }
    filled_since_save_.clear();
    live_ = saved_live_;
  }

 private:
  static constexpr FactId kEmpty = kNoFact;
  /// The hash's low 32 bits: all a place needs (the table never has 2^32 places), and a slot
  /// of 8 bytes instead of 16 halves the lines a probe touches. Two facts that share them are
  /// told apart by the caller's comparison, as for equal hashes.
  struct Slot {
    std::uint32_t hash = 0;
    FactId id = kEmpty;
  };
  static std::uint32_t low_bits(std::size_t hash) { return static_cast<std::uint32_t>(hash); }
  std::size_t mask() const { return slots_.size() - 1; }
  /// Grows before a fill would leave the table more than half full: past that, linear
  /// probing's clusters lengthen quickly, and every assertion and conclusion probes.
  void make_room() {
    if ((live_ + 1) * 2 > slots_.size()) grow();
  }
  std::size_t place(std::size_t hash, FactId id) {
    std::size_t i = hash & mask();
    while (slots_[i].id != kEmpty) i = (i + 1) & mask();
    slots_[i] = Slot{low_bits(hash), id};
    ++live_;
    return i;
  }
  /// Kept even after an erase (restore() then copies instead): a test on every insert would
  /// cost more than the push, and the next erase empties the list again.
  void note_filled(std::size_t place) { filled_since_save_.push_back(static_cast<std::uint32_t>(place)); }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    std::size_t capacity = 64;
    while ((live_ + 1) * 4 > capacity) capacity *= 2;  // a quarter full, room to grow into
    slots_.assign(capacity, Slot{});
    live_ = 0;
    filled_since_save_.clear();  // restore() sees the new size and puts the saved entries back
    for (const Slot& s : old)
      if (s.id != kEmpty) place(s.hash, s.id);
  }
  std::vector<Slot> slots_;
  std::size_t live_ = 0;
  std::vector<Slot> saved_;
  std::size_t saved_live_ = 0;
  std::vector<std::uint32_t> filled_since_save_;  // places, for restore()
  bool erased_since_save_ = false;
};

}  // namespace rapa::inference
