#include "inference/engine.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "inference/interpret.hpp"
#include "inference/network.hpp"
#include "support/units.hpp"

namespace rapa::inference {

namespace {

/// Fact identity: same value, or both unknown for the same reason (two "not asked" pregnancy
/// statuses are one fact, not two).
bool identical(const Value& a, const Value& b) {
  if (a.is_unknown() || b.is_unknown()) return a.is_unknown() && b.is_unknown() && a.reason() == b.reason();
  return a.same(b);
}

/// The hash of fact identity, a slot at a time: a conclusion hashes its values as it builds them.
class IdentityHash {
 public:
  explicit IdentityHash(TypeId type) : hash_(type * 0x9E3779B97F4A7C15ull) {}
  // An unknown's hash covers its reason, as identity does.
  void add(const Value& v) { hash_ = (hash_ ^ v.hash()) * 0x100000001B3ull; }
  std::size_t value() const { return hash_; }

 private:
  std::size_t hash_;
};

std::size_t identity_hash(TypeId type, std::span<const Value> slots) {
  IdentityHash hash(type);
  for (const Value& v : slots) hash.add(v);
  return hash.value();
}

bool is_constant_test(const SlotTest& test) {
  if (!test.choices.empty())
    return std::all_of(test.choices.begin(), test.choices.end(),
                       [](const Term& t) { return t.kind == Term::Kind::constant; });
  return test.operand.kind == Term::Kind::constant;
}

/// A `where` test that reads one value of the pattern's own fact and a constant (`where ?age
/// >= 18 years`, ?age bound by this pattern): a constant test on that slot, as the slot test
/// it amounts to. Such tests belong in the alpha network, as in CLIPS's pattern network: a
/// fact that fails one never enters the memory, so no join looks at it. Empty for other
/// tests, and when the variable is bound by two slots (which one would it be?).
std::optional<SlotTest> as_slot_test(const Pattern& pattern, const Test& test) {
  if (test.lhs.kind != Term::Kind::variable || test.rhs.kind != Term::Kind::constant) return std::nullopt;
  std::optional<SlotIndex> slot;
  for (const auto& [s, var] : pattern.binds) {
    if (var != test.lhs.var) continue;
    if (slot) return std::nullopt;
    slot = s;
  }
  if (!slot) return std::nullopt;
  return SlotTest{*slot, test.op, test.rhs, {}};
}

/// A key under which alpha memories with the same type and constant tests are shared.
std::string alpha_key(TypeId type, const std::vector<SlotTest>& tests) {
  std::string key = std::to_string(type);
  auto add_value = [&](const Value& v) {
    key += '/';
    key += std::to_string(static_cast<int>(v.kind()));
    key += ':';
    switch (v.kind()) {
      case Value::Kind::symbol:
      case Value::Kind::text: key += std::to_string(v.as_symbol()); break;
      case Value::Kind::integer: key += std::to_string(v.as_integer()); break;
      case Value::Kind::number: key += std::to_string(std::bit_cast<std::uint64_t>(v.as_double())); break;
      case Value::Kind::unknown: key += std::to_string(static_cast<int>(v.reason())); break;
    }
  };
  for (const SlotTest& t : tests) {
    key += '|';
    key += std::to_string(t.slot);
    key += op_spelling(t.op);
    if (t.choices.empty()) add_value(t.operand.constant);
    for (const Term& c : t.choices) add_value(c.constant);
  }
  return key;
}

/// Agenda order: lower level first (a conclusion is complete before rules that read it run),
/// then higher salience, then rule order in the rule base, then production, then the order in
/// which the activations appeared. Deterministic for a given sequence of operations.
///
/// The first four keys belong to the production node, so they are ranked once, when the network
/// is built (Node::agenda_rank), and the agenda is a queue per rank: activations are added as
/// their tokens are made, so appending keeps each queue in the fifth key's order without
/// comparing anything. A bit per rank finds the first queue that is not empty.
/// The queues are chains through one array of activations, which starts over whenever the
/// agenda empties (at the end of every run), so a patient's activations lie side by side.
class Agenda {
 public:
  struct Activation {
    Token* token;        // null once cancelled: the token was removed before it fired
    std::uint32_t next;  // the next of the same rank, or kNone
  };
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  explicit Agenda(std::size_t ranks = 0) : queues_(ranks), nonempty_((ranks + 63) / 64, 0) {}

  /// The activation's place, valid until it is popped or the agenda empties.
  std::uint32_t push(std::uint32_t rank, Token* token) {
    const auto at = static_cast<std::uint32_t>(items_.size());
    items_.push_back(Activation{token, kNone});
    Queue& queue = queues_[rank];
    if (queue.head == kNone) {
      queue.head = at;
      nonempty_[rank / 64] |= std::uint64_t{1} << (rank % 64);
      first_word_ = std::min<std::size_t>(first_word_, rank / 64);
    } else {
      items_[queue.tail].next = at;
    }
    queue.tail = at;
    return at;
  }

  /// The activation at `at` stays in its queue but is passed over: its token is gone.
  void cancel(std::uint32_t at) { items_[at].token = nullptr; }

  /// Not const: like first_rank(), it starts the array over when it finds the agenda empty.
  bool empty() { return first_rank() == kNone; }
  /// Activations added since the agenda last emptied, popped or not.
  std::size_t added() const { return items_.size(); }

  /// The rank whose queue holds the next activation, or kNone when the agenda is empty.
  std::uint32_t first_rank() {
    for (; first_word_ < nonempty_.size(); ++first_word_)
      if (nonempty_[first_word_] != 0)
        return static_cast<std::uint32_t>(first_word_ * 64 + static_cast<std::size_t>(std::countr_zero(nonempty_[first_word_])));
    items_.clear();  // empty: the next activations start over at the front
    return kNone;
  }

  const Activation& front(std::uint32_t rank) const { return items_[queues_[rank].head]; }

  void pop(std::uint32_t rank) {
    Queue& queue = queues_[rank];
    queue.head = items_[queue.head].next;
    if (queue.head == kNone) nonempty_[rank / 64] &= ~(std::uint64_t{1} << (rank % 64));
  }

  void clear() {
    for (Queue& queue : queues_) queue = Queue{};
    std::fill(nonempty_.begin(), nonempty_.end(), 0);
    first_word_ = nonempty_.size();
    items_.clear();
  }

 private:
  struct Queue {
    std::uint32_t head = kNone;  // the first activation of this rank in items_
    std::uint32_t tail = kNone;  // its last
  };
  std::vector<Queue> queues_;
  std::vector<Activation> items_;
  std::vector<std::uint64_t> nonempty_;  // bit `rank % 64` of word `rank / 64`
  /// The words before it are all zero: firing mostly adds activations of later ranks (higher
  /// levels), so the search for the first resumes where the last one ended.
  std::size_t first_word_ = 0;
};

}  // namespace

struct Engine::Impl final : FactSource {
  /// Aligned, with what making a fact and matching it write and read in the first cache line,
  /// and the lists that only some facts fill in the second: a patient's input facts are made
  /// without touching it (see `lists_used`).
  struct alignas(64) FactRecord {
    TypeId type = 0;
    Truth truth = Truth::yes;
    bool alive = true;
    bool listed = false;  // base facts: in patient_base_facts (a patient token matched it)
    /// more_memories or supports may hold something: a record reused for a new fact clears
    /// them only then. Set wherever they are added to.
    bool lists_used = false;
    /// In base_slots or patient_slots, where they stay while the record does: tokens point
    /// into them (Token::slots).
    std::span<const Value> slots;
    /// The alpha memories it is stored in: the first here, the others in `more_memories`. A fact
    /// is in one memory or none far more often than in several, so entering and reset() read
    /// this line and no heap block of its own.
    AlphaMemory* first_memory = nullptr;
    Token* tokens = nullptr;            // join tokens that matched it
    /// identity_hash of type and slots, kept for erasing: its low 32 bits, all that
    /// FactIndex keeps of a hash.
    std::uint32_t identity = 0;
    Origin origin;
    // Second line
    std::vector<AlphaMemory*> more_memories;
    std::vector<FiringId> supports;     // derived facts: live firings concluding it

    void add_memory(AlphaMemory* memory) {
      if (!first_memory) {
        first_memory = memory;
      } else {
        more_memories.push_back(memory);
        lists_used = true;
      }
    }
    void add_support(FiringId firing) {
      supports.push_back(firing);
      lists_used = true;
    }
    void clear_memories() {
      first_memory = nullptr;
      more_memories.clear();
    }
    /// A record as a new fact finds it: in no memory, without supports.
    void clear_lists() {
      first_memory = nullptr;
      if (!lists_used) return;
      more_memories.clear();
      supports.clear();
      lists_used = false;
    }
    template <class Visit>  // visit(AlphaMemory*)
    void for_each_memory(Visit&& visit) const {
      if (!first_memory) return;
      visit(first_memory);
      for (AlphaMemory* memory : more_memories) visit(memory);
    }
  };

  struct FiringRecord {
    Firing firing;
    std::vector<FactId> concluded;
  };

  struct QuestionState {
    std::uint32_t answers = 0;  // live input facts answering it
    bool none = false;          // answer_none()
    FactId placeholder = kNoFact;
  };

  std::shared_ptr<const RuleBase> rules;
  EngineOptions options;
  SymbolTable local_symbols;  // names not in the rule base; ids continue after it

  // Network
  std::vector<std::unique_ptr<AlphaMemory>> alpha_memories;
  std::unordered_map<std::string, AlphaMemory*> alpha_by_key;
  std::vector<std::vector<AlphaMemory*>> alpha_by_type;
  /// A run of `dispatched`: the memories a fact can enter, side by side.
  struct MemoryRun {
    std::uint32_t first = 0;
    std::uint32_t count = 0;
  };
  /// Per type, the memories a fact can enter, found by the value of one slot (lab.test,
  /// diagnosis.code) instead of trying every memory of the type.
  struct Dispatch {
    std::optional<SlotIndex> slot;
    HashTable<std::vector<std::pair<Value, MemoryRun>>> by_value;
    /// The same runs for symbol values (most are: lab.test, diagnosis.code), found by the
    /// symbol's number, which is small and dense: one index instead of a hash probe.
    std::vector<MemoryRun> by_symbol;
    MemoryRun rest;  // memories with no identity test on that slot

    /// Empty when no memory requires `v`.
    MemoryRun bucket(const Value& v) const {
      if (v.kind() == Value::Kind::symbol) return v.as_symbol() < by_symbol.size() ? by_symbol[v.as_symbol()] : MemoryRun{};
      const auto* chain = by_value.find(v.hash());
      if (!chain) return {};
      for (const auto& [value, run] : *chain)
        if (value.same(v)) return run;
      return {};
    }
  };
  /// An entry of `dispatched`: a memory, and copies of up to two of its tests after those the
  /// dispatch has passed, when they compare a slot with a constant (`age >= 40`, `age < 65`). A
  /// fact that fails a copy is turned away without reading the memory and its tests, which are
  /// seldom in cache; one that passes them for certain skips them in try_memory. Packed into
  /// 32 bytes, two entries a cache line: a fact reads a run of them, and with an entry a line
  /// each line was a likely miss.
  struct DispatchedMemory {
    AlphaMemory* memory = nullptr;
    std::array<std::uint64_t, 2> payloads{};  // the constants, taken apart (Value::payload)
    std::array<Value::Kind, 2> kinds{};
    std::array<Op, 2> ops{};
    std::array<std::uint8_t, 2> slots{};      // a test of a slot past 255 is left to try_memory
    std::uint8_t screen_count = 0;

    Value constant(std::size_t screen) const { return Value::from_parts(kinds[screen], payloads[screen]); }
  };
  static_assert(sizeof(DispatchedMemory) == 32, "two dispatch entries to a cache line");
  /// Every Dispatch's runs, one after another. A fact's dispatch reads one small entry and then
  /// its memories in a row: with a vector per value it read the vector, then its buffer, each
  /// likely a cache miss of its own (a time profile showed them as most of enter_network's).
  std::vector<DispatchedMemory> dispatched;
  std::vector<Dispatch> dispatch;
  HashTable<AlphaMemory*> alpha_of_pattern;  // by the Pattern's address
  static std::size_t key_of(const Pattern& pattern) { return reinterpret_cast<std::uintptr_t>(&pattern); }
  std::vector<std::unique_ptr<Node>> nodes;
  /// By Node::index: whether the node's memory holds a token. Most joins wait on a parent
  /// memory that is empty for this patient; a fact entering their alpha memory skips them
  /// (Doorenbos's null right activations) by reading this, not the nodes.
  std::vector<std::uint8_t> has_tokens;
  Node* root = nullptr;
  /// By AlphaMemory::index: whether the memory holds a fact. A join whose memory holds none has
  /// nothing to match a new token against; pass_on skips it by reading this, not the node.
  std::vector<std::uint8_t> has_facts;
  Token* root_token = nullptr;
  TokenPool pool;      // base tokens
  TokenArena arena;    // patient tokens
  /// From mark_base() on, what is made belongs to the patient and reset() drops it; false
  /// again while reset() makes the base's own tokens again.
  bool patient_phase = false;
  /// What reset() undoes without looking at each patient fact and token: the alpha memories
  /// holding patient facts, the nodes holding patient tokens, the base tokens and base facts
  /// whose lists hold some (patient tokens come first in every list: see make_token), and the
  /// nodes whose base owners flipped.
  ListedOnce<AlphaMemory*> patient_memories;  // AlphaMemory::listed
  ListedOnce<Node*> patient_nodes;             // Node::patient_mark
  // Base tokens and base facts are not bounded by the network's size as memories and nodes
  // are (the base grows with the kb's facts), so these two grow as vectors do.
  std::vector<Token*> patient_parents;       // Token::listed
  std::vector<FactId> patient_base_facts;    // FactRecord::listed
  std::vector<Node*> flipped_nodes;
  /// A base token fired, or a firing concluded a base fact: the base itself changed, and
  /// reset() rebuilds it.
  bool base_changed = false;
  std::vector<std::int32_t> rule_level;
  /// Every rule's `conclude` actions, laid out for fire(): a rule's are a run of `conclusions`
  /// (Node::first_conclusion) and their slots a run of `conclusion_terms`. The rule base's
  /// actions are large and scattered among its rules, and each firing would read them afresh.
  struct Conclusion {
    TypeId type = 0;
    std::uint16_t slot_count = 0;
    std::uint32_t first_term = 0;
  };
  std::vector<Conclusion> conclusions;
  std::vector<Term> conclusion_terms;
  /// Each production's top-level variables, where a firing finds their values (Node::first_binding).
  std::vector<VarLocation> production_bindings;
  std::vector<std::vector<std::size_t>> questions_by_type;
  /// What assert_input needs of each fact type, in a few bytes a type instead of the rule
  /// base's FactTypeInfo and questions_by_type's vectors: a cache line or two less per fact.
  struct InputType {
    std::uint32_t slot_count = 0;
    bool assertable = false;  // input and kb types; derived and output ones are concluded
    bool counted = false;     // a question counts its facts (count_answers)
  };
  std::vector<InputType> input_types;

  // Working memory
  Recycling<FactRecord> facts;
  std::size_t base_fact_count = 0;  // the rule base's own facts come first
  /// Live facts by type, kept as facts come and go so that counting them (collecting a
  /// patient's advice) does not walk working memory; `base_live` is the count after the base.
  std::vector<std::uint32_t> live_by_type;
  std::vector<std::uint32_t> base_live;
  FactIndex identity;
  std::vector<QuestionState> questions;
  std::vector<FactId> pending_support;  // derived facts whose support changed

  // Agenda and results
  Agenda agenda;
  Recycling<FiringRecord> firings;
  /// The matched facts and bindings of `firings` (Firing::matched, Firing::bindings): emptied
  /// with them.
  RunArena<FactId> fired_facts;
  RunArena<Value> fired_values;
  /// The slots of the facts: the rule base's, and the patient's (emptied by reset()).
  RunArena<Value> base_slots;
  RunArena<Value> patient_slots;
  std::uint64_t definite_firings = 0;
  mutable Env negation_env;           // see env_of
  /// Counts reset() calls from 1, so that no node starts out marked (Node::patient_mark and the
  /// other marks start at 0).
  std::uint64_t resets = 1;

  Impl(std::shared_ptr<const RuleBase> r, EngineOptions o) : rules(std::move(r)), options(o) {
    if (!rules) throw std::invalid_argument("Engine: no rule base");
    compute_levels();
    build_network();
    rank_productions();
    finish_network();
    start();
  }

  ~Impl() override = default;

  // ---------------------------------------------------------------------------------------------
  // Compiling the network

  /// level(rule) = 1 + the highest level of the derived types it reads; level(type) = the
  /// highest level of the rules concluding it. Iterated to a fixpoint, capped for cycles (a
  /// cyclic rule set still runs, under the firing limit).
  void compute_levels() {
    const auto& rs = rules->rules;
    std::vector<std::vector<TypeId>> reads(rs.size());
    std::function<void(const std::vector<Element>&, std::vector<TypeId>&)> collect =
        [&](const std::vector<Element>& elements, std::vector<TypeId>& out) {
          for (const Element& e : elements) {
            if (e.kind == Element::Kind::pattern) out.push_back(e.pattern.type);
            else collect(e.body, out);
          }
        };
    for (std::size_t i = 0; i < rs.size(); ++i)
      for (const Production& p : rs[i].productions) collect(p.elements, reads[i]);
    std::vector<std::int32_t> type_level(rules->types.size(), 0);
    rule_level.assign(rs.size(), 1);
    for (std::size_t round = 0; round <= rs.size() + 1; ++round) {
      bool changed = false;
      for (std::size_t i = 0; i < rs.size(); ++i) {
        std::int32_t level = 1;
        for (TypeId t : reads[i]) level = std::max(level, type_level[t] + 1);
        if (level != rule_level[i]) rule_level[i] = level, changed = true;
        for (const Action& a : rs[i].actions)
          if (a.kind == Action::Kind::assert_fact && type_level[a.assertion.type] < level)
            type_level[a.assertion.type] = level, changed = true;
      }
      if (!changed) break;
    }
  }

  AlphaMemory* alpha_memory_for(const Pattern& pattern) {
    std::vector<SlotTest> constant_tests;
    for (const SlotTest& t : pattern.tests)
      if (is_constant_test(t)) constant_tests.push_back(t);
    for (const Test& t : pattern.where)
      if (auto slot_test = as_slot_test(pattern, t)) constant_tests.push_back(std::move(*slot_test));
    std::string key = alpha_key(pattern.type, constant_tests);
    auto found = alpha_by_key.find(key);
    if (found != alpha_by_key.end()) return found->second;
    auto memory = std::make_unique<AlphaMemory>();
    memory->index = static_cast<std::uint32_t>(alpha_memories.size());
    memory->type = pattern.type;
    memory->tests = std::move(constant_tests);
    memory->test_count = static_cast<std::uint32_t>(memory->tests.size());
    AlphaMemory* raw = memory.get();
    alpha_memories.push_back(std::move(memory));
    alpha_by_key.emplace(std::move(key), raw);
    alpha_by_type[pattern.type].push_back(raw);
    return raw;
  }

  Node* add_node(Node::Kind kind, Node* parent) {
    nodes.push_back(std::make_unique<Node>());
    Node* node = nodes.back().get();
    node->index = static_cast<std::uint32_t>(nodes.size() - 1);
    node->kind = kind;
    node->parent = parent;
    node->depth = parent ? static_cast<std::uint16_t>(parent->depth + 1) : 0;
    if (parent) parent->children.push_back(node);
    return node;
  }

  /// What needs every node and memory in place: Node::links, a has_facts flag per memory, and
  /// room in reset()'s lists for every memory and node.
  void finish_network() {
    for (auto& node : nodes) {
      node->links.clear();
      for (Node* child : node->children)
        node->links.push_back({child, child->kind == Node::Kind::join ? child->alpha->index : Node::kNoMemory});
    }
    for (auto& memory : alpha_memories) memory->place_successors();
    has_facts.assign(alpha_memories.size(), 0);
    patient_memories.make_room(alpha_memories.size());
    patient_nodes.make_room(nodes.size());
  }

  void subscribe(AlphaMemory* memory, Node* node) {
    auto& s = memory->successors;
    if (std::find(s.begin(), s.end(), node) != s.end()) return;
    // Deepest first: when one fact enters a memory shared by two joins of one chain, the
    // deeper join must see it before the shallower join's new tokens reach it.
    auto at = std::find_if(s.begin(), s.end(), [&](const Node* n) { return n->depth < node->depth; });
    memory->successor_parents.insert(memory->successor_parents.begin() + (at - s.begin()), node->parent->index);
    s.insert(at, node);
    if (node->kind != Node::Kind::negative) return;
    memory->negatives.clear();  // in the successors' order, which is the order they look again
    for (Node* n : s)
      if (n->kind == Node::Kind::negative) memory->negatives.push_back(n);
  }

  /// Every pattern inside a negation gets its alpha memory; the negative node listens to all.
  void subscribe_body(const std::vector<Element>& body, Node* node) {
    for (const Element& e : body) {
      if (e.kind == Element::Kind::pattern) {
        AlphaMemory* memory = alpha_memory_for(e.pattern);
        alpha_of_pattern[key_of(e.pattern)] = memory;
        subscribe(memory, node);
      } else {
        subscribe_body(e.body, node);
      }
    }
  }

  void build_network() {
    live_by_type.assign(rules->types.size(), 0);
    alpha_by_type.resize(rules->types.size());
    questions_by_type.resize(rules->types.size());
    for (std::size_t q = 0; q < rules->questions.size(); ++q)
      questions_by_type[rules->questions[q].type].push_back(q);
    for (TypeId t = 0; t < rules->types.size(); ++t) {
      const FactTypeInfo& info = rules->types[t];
      input_types.push_back({static_cast<std::uint32_t>(info.slots.size()),
                             info.kind == FactTypeInfo::Kind::input || info.kind == FactTypeInfo::Kind::kb,
                             !questions_by_type[t].empty()});
    }
    root = add_node(Node::Kind::root, nullptr);
    for (RuleId r = 0; r < rules->rules.size(); ++r) {
      const Rule& rule = rules->rules[r];
      const auto first_conclusion = static_cast<std::uint32_t>(conclusions.size());
      lay_out_conclusions(rule);
      for (std::size_t p = 0; p < rule.productions.size(); ++p)
        build_chain(rule, r, static_cast<std::uint16_t>(p), first_conclusion);
    }
    build_dispatch();
    has_tokens.assign(nodes.size(), 0);
  }

  /// Numbers the production nodes in agenda order (see Agenda): level, then higher salience,
  /// then rule, then production.
  void rank_productions() {
    std::vector<Node*> productions;
    for (const auto& node : nodes)
      if (node->kind == Node::Kind::production) productions.push_back(node.get());
    std::sort(productions.begin(), productions.end(), [](const Node* a, const Node* b) {
      if (a->level != b->level) return a->level < b->level;
      if (a->salience != b->salience) return a->salience > b->salience;
      if (a->rule != b->rule) return a->rule < b->rule;
      return a->production < b->production;
    });
    for (std::size_t rank = 0; rank < productions.size(); ++rank)
      productions[rank]->agenda_rank = static_cast<std::uint32_t>(rank);
    agenda = Agenda(productions.size());
  }

  /// The identity constants a memory requires of `slot` (one value, several for one_of, or
  /// none), and which of its tests requires them.
  struct Required {
    std::vector<Value> values;
    std::size_t test = 0;
  };
  static Required required_values(const AlphaMemory& memory, SlotIndex slot) {
    for (std::size_t i = 0; i < memory.tests.size(); ++i) {
      const SlotTest& t = memory.tests[i];
      if (t.slot != slot || t.op != Op::same) continue;
      std::vector<Value> values;
      if (t.choices.empty()) values.push_back(t.operand.constant);
      for (const Term& c : t.choices)
        if (std::none_of(values.begin(), values.end(), [&](const Value& v) { return v.same(c.constant); }))
          values.push_back(c.constant);
      if (std::none_of(values.begin(), values.end(), [](const Value& v) { return v.is_unknown(); }))
        return Required{std::move(values), i};
    }
    return {};
  }

  void build_dispatch() {
    dispatch.resize(rules->types.size());
    for (TypeId type = 0; type < rules->types.size(); ++type) {
      const auto& memories = alpha_by_type[type];
      // The slot that most memories of this type test for identity.
      std::size_t best_count = 0;
      for (SlotIndex slot = 0; slot < rules->types[type].slots.size(); ++slot) {
        std::size_t count = 0;
        for (const AlphaMemory* m : memories) count += required_values(*m, slot).values.empty() ? 0 : 1;
        if (count > best_count) best_count = count, dispatch[type].slot = slot;
      }
      Dispatch& d = dispatch[type];
      std::vector<AlphaMemory*> rest;
      HashTable<std::vector<std::pair<Value, std::vector<AlphaMemory*>>>> lists;  // by the value's hash
      for (AlphaMemory* m : memories) {
        const Required required = d.slot ? required_values(*m, *d.slot) : Required{};
        if (required.values.empty()) {
          rest.push_back(m);
          continue;
        }
        // That test first: a fact found through the dispatch has passed it (see enter_network).
        // The order of a memory's tests changes nothing else, since their truths are and-ed.
        std::rotate(m->tests.begin(), m->tests.begin() + static_cast<std::ptrdiff_t>(required.test),
                    m->tests.begin() + static_cast<std::ptrdiff_t>(required.test) + 1);
        for (const Value& v : required.values) {
          auto& chain = lists[v.hash()];
          auto at = std::find_if(chain.begin(), chain.end(), [&](const auto& e) { return e.first.same(v); });
          if (at == chain.end()) chain.emplace_back(v, std::vector<AlphaMemory*>{m});
          else at->second.push_back(m);
        }
      }
      // `passed`: the tests a fact found through this run has passed (see enter_network).
      auto add_run = [&](const std::vector<AlphaMemory*>& listed, std::size_t passed) {
        const MemoryRun run{static_cast<std::uint32_t>(dispatched.size()), static_cast<std::uint32_t>(listed.size())};
        for (AlphaMemory* m : listed) {
          DispatchedMemory entry;
          entry.memory = m;
          // Constant tests (alpha memories hold no others), up to the first with choices or an
          // unknown constant, which screen_compare() leaves to compare().
          for (std::size_t i = passed; i < m->tests.size() && entry.screen_count < entry.payloads.size(); ++i) {
            const SlotTest& test = m->tests[i];
            if (!test.choices.empty() || test.slot > std::numeric_limits<std::uint8_t>::max() ||
                test.operand.constant.is_unknown())
              break;
            const std::size_t s = entry.screen_count++;
            entry.payloads[s] = test.operand.constant.payload();
            entry.kinds[s] = test.operand.constant.kind();
            entry.ops[s] = test.op;
            entry.slots[s] = static_cast<std::uint8_t>(test.slot);
          }
          dispatched.push_back(entry);
        }
        return run;
      };
      d.rest = add_run(rest, 0);
      lists.for_each([&](std::size_t hash, const auto& chain) {
        for (const auto& [value, listed] : chain) {
          const MemoryRun run = add_run(listed, 1);
          d.by_value[hash].emplace_back(value, run);
          if (value.kind() != Value::Kind::symbol) continue;
          if (value.as_symbol() >= d.by_symbol.size()) d.by_symbol.resize(value.as_symbol() + 1);
          d.by_symbol[value.as_symbol()] = run;
        }
      });
    }
  }

  static bool same_operand(const Operand& a, const Operand& b) {
    return a.source == b.source && a.slot == b.slot && a.up == b.up &&
           a.constant.kind() == b.constant.kind() && identical(a.constant, b.constant);
  }

  static bool same_join(const Node& a, const Node& b) {
    if (a.alpha != b.alpha || a.hashed_test != b.hashed_test || a.bind_slots != b.bind_slots ||
        a.tests.size() != b.tests.size())
      return false;
    for (std::size_t i = 0; i < a.tests.size(); ++i) {
      const JoinTest& x = a.tests[i];
      const JoinTest& y = b.tests[i];
      if (x.op != y.op || !same_operand(x.lhs, y.lhs) || !same_operand(x.rhs, y.rhs) ||
          x.choices.size() != y.choices.size())
        return false;
      for (std::size_t c = 0; c < x.choices.size(); ++c)
        if (!same_operand(x.choices[c], y.choices[c])) return false;
    }
    return true;
  }

  /// Productions that begin with the same conditions share the join nodes of that prefix
  /// (Doorenbos's "build or share"): a fact entering their alpha memory makes one token, not
  /// one per rule.
  /// Agenda order is unchanged: a production's tokens still appear in the same order.
  Node* share_or_add(std::unique_ptr<Node> fresh) {
    Node* parent = fresh->parent;
    for (Node* child : parent->children)
      if (child->kind == Node::Kind::join && same_join(*child, *fresh)) return child;
    Node* join = fresh.get();
    join->index = static_cast<std::uint32_t>(nodes.size());
    nodes.push_back(std::move(fresh));
    parent->children.push_back(join);
    subscribe(join->alpha, join);
    return join;
  }

  void lay_out_conclusions(const Rule& rule) {
    for (const Action& action : rule.actions) {
      if (action.kind != Action::Kind::assert_fact) continue;
      const std::vector<Term>& slots = action.assertion.slots;
      conclusions.push_back({action.assertion.type, static_cast<std::uint16_t>(slots.size()),
                             static_cast<std::uint32_t>(conclusion_terms.size())});
      conclusion_terms.insert(conclusion_terms.end(), slots.begin(), slots.end());
    }
  }

  /// `first_conclusion`: where the rule's conclusions begin; lay_out_conclusions() has just
  /// added them.
  void build_chain(const Rule& rule, RuleId r, std::uint16_t p, std::uint32_t first_conclusion) {
    std::vector<VarLocation> bound;  // top-level variables bound so far
    auto location_of = [&](VarId var) -> const VarLocation* {
      for (const VarLocation& l : bound)
        if (l.var == var) return &l;
      return nullptr;
    };
    Node* node = root;
    std::uint16_t joins = 0;
    for (const Element& element : rule.productions[p].elements) {
      if (element.kind == Element::Kind::negation) {
        Node* negative = add_node(Node::Kind::negative, node);
        negative->body = &element.body;
        negative->env_layout = bound;
        negative->var_count = static_cast<std::uint16_t>(rule.variables.size());
        subscribe_body(element.body, negative);
        compile_negation(negative);
        node = negative;
        continue;
      }
      const Pattern& pattern = element.pattern;
      // Built apart first: an equal join under the same parent already does this work.
      auto fresh = std::make_unique<Node>();
      Node* join = fresh.get();
      join->kind = Node::Kind::join;
      join->parent = node;
      join->depth = static_cast<std::uint16_t>(node->depth + 1);
      join->alpha = alpha_memory_for(pattern);
      alpha_of_pattern[key_of(pattern)] = join->alpha;
      auto from_token = [&](VarId var) {
        Operand o;
        const VarLocation* l = location_of(var);
        if (!l) throw std::invalid_argument("rule '" + rule.name + "': variable ?" + rule.variables.at(var) +
                                            " is used before it is bound");
        o.source = Operand::Source::token;
        o.slot = l->slot;
        o.up = static_cast<std::uint16_t>(join->depth - 1 - l->depth);
        return o;
      };
      auto operand_of = [&](const Term& term) {
        if (term.kind == Term::Kind::constant) {
          Operand o;
          o.constant = term.constant;
          return o;
        }
        for (const auto& [slot, var] : pattern.binds)
          if (var == term.var && !location_of(var)) {
            Operand o;
            o.source = Operand::Source::fact;
            o.slot = slot;
            return o;
          }
        return from_token(term.var);
      };
      for (const SlotTest& test : pattern.tests) {
        if (is_constant_test(test)) continue;
        JoinTest jt;
        jt.op = test.op;
        jt.lhs.source = Operand::Source::fact;
        jt.lhs.slot = test.slot;
        if (test.choices.empty()) jt.rhs = from_token(test.operand.var);
        for (const Term& c : test.choices)
          jt.choices.push_back(c.kind == Term::Kind::constant ? operand_of(c) : from_token(c.var));
        join->tests.push_back(std::move(jt));
      }
      for (const Test& test : pattern.where) {
        if (as_slot_test(pattern, test)) continue;  // the alpha memory's
        JoinTest jt;
        jt.op = test.op;
        jt.lhs = operand_of(test.lhs);
        jt.rhs = operand_of(test.rhs);
        join->tests.push_back(std::move(jt));
      }
      for (JoinTest& t : join->tests)
        t.fact_same_token = t.op == Op::same && t.choices.empty() && t.lhs.source == Operand::Source::fact &&
                            t.rhs.source == Operand::Source::token;
      for (std::size_t i = 0; i < join->tests.size(); ++i) {
        const JoinTest& t = join->tests[i];
        // hashed_test is narrow to keep the node's first line small; a join whose first
        // identity test lies beyond its range (none the checker passes comes near) is tested
        // without the index: slower, not wrong.
        if (t.fact_same_token && i <= static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max())) {
          join->hashed_test = static_cast<std::int16_t>(i);
          join->hashed_fact_slot = t.lhs.slot;
          join->hashed_up = t.rhs.up;
          join->hashed_slot = t.rhs.slot;
          auto& indexes = join->alpha->indexes;
          const AlphaMemory::BaseIndex* index = join->alpha->index_on(t.lhs.slot);
          // A position, not a pointer: later joins on the same memory may grow `indexes`.
          join->hashed_index = static_cast<std::uint32_t>(index ? index - indexes.data() : indexes.size());
          if (!index) indexes.push_back(AlphaMemory::BaseIndex{t.lhs.slot, {}, {}});
          break;
        }
      }
      for (const auto& [slot, var] : pattern.binds) {
        join->bind_slots.push_back(slot);
        if (!location_of(var)) bound.push_back(VarLocation{var, join->depth, slot, joins});
      }
      join->only_hashed_test = join->tests.size() == 1 && join->hashed_test == 0;
      join->binds_in_mask = std::all_of(join->bind_slots.begin(), join->bind_slots.end(),
                                        [](SlotIndex slot) { return slot < 32; });
      if (join->binds_in_mask)
        for (SlotIndex slot : join->bind_slots) join->bind_mask |= std::uint32_t{1} << slot;
      node = share_or_add(std::move(fresh));
      ++joins;
    }
    Node* production = add_node(Node::Kind::production, node);
    production->rule = r;
    production->production = p;
    production->level = rule_level[r];
    production->salience = rule.salience;
    production->first_binding = static_cast<std::uint32_t>(production_bindings.size());
    production->binding_count = static_cast<std::uint16_t>(bound.size());
    production_bindings.insert(production_bindings.end(), bound.begin(), bound.end());
    production->joins_above = joins;
    production->var_count = static_cast<std::uint16_t>(rule.variables.size());
    production->first_conclusion = first_conclusion;
    production->conclusion_count = static_cast<std::uint16_t>(conclusions.size() - first_conclusion);
  }

  // ---------------------------------------------------------------------------------------------
  // Start and reset

  void start() {
    root_token = pool.make();
    root_token->node = root;
    root->tokens.push_back(root_token);
    root->base_count = 1;
    has_tokens[root->index] = 1;
    load_base();
  }

  /// The state of a new engine on an empty network: top-level owners, the rule base's facts,
  /// the placeholders of every question.
  void load_base() {
    pass_on(root_token);  // negations at the top and rules without conditions start here
    for (const InitialFact& f : rules->facts) {
      Origin origin;
      origin.kind = Origin::Kind::kb;
      origin.range = f.range;
      if (!find_identical(f.type, f.slots)) add_fact(f.type, f.slots, origin, Truth::yes);  // facts are a set
    }
    mark_base();
    questions.assign(rules->questions.size(), QuestionState{});
    for (std::size_t q = 0; q < questions.size(); ++q) update_placeholder(q);
    settle();
  }

  /// Back to the rule base's own facts. Rather than retracting the patient's facts one by one
  /// (each retraction re-matching what it uncovers), everything after the base facts is cut
  /// away at once: the patient's tokens, by cutting back the lists that hold them; the facts'
  /// places at the end of the alpha memories; their conclusions. Then each base owner whose
  /// negation a patient's fact flipped is derived again, against the base facts alone. No other
  /// negation needs a look: while a patient is in, every change of a base owner's truth goes
  /// through recompute_all(), which notes the owner as flipped, so an owner not noted holds
  /// the truth it had before the patient came.
  void reset() {
    // Nodes are listed once per reset, in patient_nodes and flipped_nodes.
    ++resets;
    if (base_changed || !agenda.empty()) {
      // Rules that match the rule base's facts alone have fired: start over, so that the next
      // patient sees exactly what a new engine would. So too when a run was cut short or never
      // made: the agenda holds the patient's tokens, which cutting the lists back would not
      // take off it.
      rebuild();
      return;
    }
    drop_patient_tokens();
    for (AlphaMemory* memory : patient_memories) {
      memory->listed = false;
      if (memory->facts.size() == memory->base_size) continue;  // its patient facts left already
      memory->facts.truncate(memory->base_size);
      has_facts[memory->index] = memory->base_size != 0;
    }
    patient_memories.clear();
    identity.restore();  // the base facts' entries, as mark_base() left them
    facts.truncate(base_fact_count);
    patient_slots.clear();
    live_by_type = base_live;
    clear_firings();
    pending_support.clear();
    // The base tokens that flipped owners make again are base tokens once more.
    patient_phase = false;
    for (Node* node : flipped_nodes) rederive_flipped(node);
    flipped_nodes.clear();
    patient_phase = true;
    for (QuestionState& q : questions) q = QuestionState{};
    for (std::size_t q = 0; q < questions.size(); ++q) update_placeholder(q);
    settle();
    definite_firings = 0;
  }

  /// The first part of reset(): every patient token out of every list and back to the arena.
  /// Patient tokens come first in each list (make_token), so the lists are cut back to the
  /// base tokens rather than each patient token unlinked: a node's memory to its base_count,
  /// a base token's children and a base fact's tokens to the first base one.
  void drop_patient_tokens() {
    for (Node* node : patient_nodes) {
      node->tokens.erase(node->tokens.begin() + node->base_count, node->tokens.end());
      has_tokens[node->index] = node->base_count != 0;
    }
    patient_nodes.clear();
    for (Token* parent : patient_parents) {
      parent->first_child = base_tokens_of<&Token::next_sibling>(parent->first_child);
      parent->listed = false;
    }
    patient_parents.clear();
    for (FactId id : patient_base_facts) {
      FactRecord& f = facts[id];
      f.tokens = base_tokens_of<&Token::next_of_fact>(f.tokens);
      f.listed = false;
    }
    patient_base_facts.clear();
    arena.clear();
  }

  /// A list of tokens linked through Next, cut to its base part: the patient's tokens lead, so
  /// the first base token (if any) becomes the head.
  template <Token* Token::*Next>
  static Token* base_tokens_of(Token* head) {
    while (head && head->patient) head = head->*Next;
    return head;
  }

  /// A base owner whose negation flipped during the patient lost its base descendants then,
  /// and what it made afterwards were patient tokens, gone now; so it is derived again, from
  /// the base facts alone, whatever its negation's truth was last.
  void rederive_flipped(Node* node) {
    for (std::size_t i = 0; i < node->tokens.size(); ++i) {
      Token* owner = node->tokens[i];
      if (!owner->flipped) continue;
      owner->flipped = false;
      rederive(owner, negation_truth(node, owner));
    }
  }

  void clear_firings() {
    firings.clear();
    fired_facts.clear();
    fired_values.clear();
  }

  /// Marks where each alpha memory's base facts end; reset() cuts back to there.
  void mark_base() {
    base_fact_count = facts.size();
    base_live = live_by_type;
    identity.save();
    for (auto& m : alpha_memories) {
      m->base_size = static_cast<std::uint32_t>(m->facts.size());
      for (AlphaMemory::BaseIndex& index : m->indexes) {
        index.by_hash.clear();
        index.unknown.clear();
        for (std::uint32_t at = 0; at < m->base_size; ++at) {
          const Value& v = facts[m->facts.id(at)].slots[index.slot];
          if (v.is_unknown()) index.unknown.push_back(at);
          else index.by_hash[v.hash()].push_back(at);
        }
      }
    }
    patient_phase = true;  // what matches from here on, reset() drops
  }

  void rebuild() {
    // Every fact goes below, so no token is searched for in its fact's list (a base fact may
    // have many).
    remove_descendants(root_token, FactLists::going);
    // Every token is gone and every memory is emptied below, so the lists of what holds
    // patient facts and tokens are stale. The root token stays, and may be among the listed
    // parents: it must be listed again when the next patient's tokens join its children.
    for (AlphaMemory* memory : patient_memories) memory->listed = false;
    patient_memories.clear();
    patient_nodes.clear();
    root_token->listed = false;
    patient_parents.clear();
    patient_base_facts.clear();
    flipped_nodes.clear();
    arena.clear();
    patient_phase = false;
    base_changed = false;
    for (auto& m : alpha_memories) {
      m->facts.clear();
      m->base_size = 0;  // the indexes point into `facts`: empty them until mark_base()
      has_facts[m->index] = 0;
      for (auto& index : m->indexes) index.by_hash.clear(), index.unknown.clear();
    }
    facts.clear();
    base_slots.clear();
    patient_slots.clear();
    live_by_type.assign(rules->types.size(), 0);
    identity.clear();
    clear_firings();
    definite_firings = 0;
    pending_support.clear();
    agenda.clear();
    load_base();
  }

  // ---------------------------------------------------------------------------------------------
  // Working memory

  /// Whether fact `id` is the fact (type, slots): facts are a set.
  bool is_identical(FactId id, TypeId type, std::span<const Value> slots) const {
    const FactRecord& f = facts[id];
    if (f.type != type) return false;
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (!identical(f.slots[i], slots[i])) return false;
    return true;
  }

  std::optional<FactId> find_identical(TypeId type, std::span<const Value> slots) const {
    std::optional<FactId> found;
    identity.find(identity_hash(type, slots), [&](FactId id) {
      if (!is_identical(id, type, slots)) return true;
      found = id;
      return false;
    });
    return found;
  }

  /// The place in `identity` of the fact (type, slots), or of the empty place where it would go.
  std::size_t probe_identity(TypeId type, std::span<const Value> slots, std::size_t hash) {
    return identity.probe(hash, [&](FactId id) { return is_identical(id, type, slots); });
  }

  /// `support`: the firing concluding a derived fact. It is recorded before matching, because
  /// matching may already take the firing back (a rule whose conclusion defeats its own `not`).
  FactId add_fact(TypeId type, std::span<const Value> slots, const Origin& origin, Truth truth,
                  FiringId support = kNoFiring) {
    return add_fact(type, slots, identity_hash(type, slots), origin, truth, support);
  }

  FactId add_fact(TypeId type, std::span<const Value> slots, std::size_t hash, const Origin& origin,
                  Truth truth, FiringId support = kNoFiring) {
    identity.insert(hash, static_cast<FactId>(facts.size()));
    return add_indexed_fact(type, slots, hash, origin, truth, support);
  }

  /// Where a new fact's slots are kept: reset() takes back the patient's all at once.
  RunArena<Value>& slot_arena() { return patient_phase ? patient_slots : base_slots; }

  /// add_fact() for a fact whose id (the next one) the caller has already put in `identity`.
  FactId add_indexed_fact(TypeId type, std::span<const Value> slots, std::size_t hash, const Origin& origin,
                          Truth truth, FiringId support = kNoFiring) {
    Value* copy = slot_arena().take(slots.size());
    std::copy(slots.begin(), slots.end(), copy);
    return add_placed_fact(type, std::span<const Value>(copy, slots.size()), hash, origin, truth, support);
  }

  /// add_indexed_fact() for slots already in slot_arena(), where the fact keeps them.
  FactId add_placed_fact(TypeId type, std::span<const Value> slots, std::size_t hash, const Origin& origin,
                         Truth truth, FiringId support) {
    auto id = static_cast<FactId>(facts.size());
    FactRecord& record = facts.next();
    record.identity = static_cast<std::uint32_t>(hash);
    record.type = type;
    record.slots = slots;
    record.origin = origin;
    record.truth = truth;
    record.alive = true;
    record.listed = false;
    ++live_by_type[type];
    record.clear_lists();
    record.tokens = nullptr;
    if (support != kNoFiring) {
      record.add_support(support);
      firings[support].concluded.push_back(id);
    }
    enter_network(id);
    return id;
  }

  void retract(FactId id) {
    FactRecord& f = facts[id];
    leave_network(id);
    f.alive = false;
    --live_by_type[f.type];
    identity.erase(f.identity, id);
  }

  static bool answers(const Question& q, TypeId type, std::span<const Value> slots) {
    return type == q.type && (!q.key || slots[q.key->first].same(q.key->second));
  }

  /// A question's placeholder stands exactly while nothing answers the question.
  void update_placeholder(std::size_t q) {
    QuestionState& state = questions[q];
    bool wanted = state.answers == 0 && !state.none;
    if (wanted && state.placeholder == kNoFact) {
      const Question& question = rules->questions[q];
      std::vector<Value> slots(rules->types[question.type].slots.size(), Value::unknown(UnknownReason::not_asked));
      if (question.key) slots[question.key->first] = question.key->second;
      Origin origin;
      origin.kind = Origin::Kind::placeholder;
      origin.question = static_cast<std::uint32_t>(q);
      // Whether such a fact exists is itself unknown: every match on it is undetermined.
      state.placeholder = add_fact(question.type, std::move(slots), origin, Truth::undetermined);
    } else if (!wanted && state.placeholder != kNoFact) {
      retract(state.placeholder);
      state.placeholder = kNoFact;
    }
  }

  /// `slots` must not live in `facts`: opening a question adds a placeholder, which may move it.
  void count_answers(TypeId type, std::span<const Value> slots, int delta) {
    for (std::size_t q : questions_by_type[type]) {
      if (!answers(rules->questions[q], type, slots)) continue;
      questions[q].answers += delta;
      update_placeholder(q);
    }
  }

  /// `slots` is the caller's: not in `facts`, so adding facts does not move it.
  FactId assert_input(TypeId type, std::span<const Value> slots, const Origin& origin) {
    if (type >= input_types.size()) throw std::invalid_argument("assert_fact: no such fact type");
    const InputType& input = input_types[type];
    if (!input.assertable || slots.size() != input.slot_count) [[unlikely]]
      reject_input(type, slots.size());
    const std::size_t hash = identity_hash(type, slots);
    const std::size_t place = probe_identity(type, slots, hash);
    const FactId existing = identity.at(place);
    if (existing != kNoFact && facts[existing].origin.kind != Origin::Kind::placeholder) return existing;
    FactId id;
    if (existing == kNoFact && !input.counted) {
      // No question counts this type, so nothing changes `identity` before the place is filled.
      identity.fill(place, hash, static_cast<FactId>(facts.size()));
      id = add_indexed_fact(type, slots, hash, origin, Truth::yes);
    } else {
      count_answers(type, slots, +1);  // first, so that an identical placeholder is gone
      id = add_fact(type, slots, hash, origin, Truth::yes);
    }
    settle();
    return id;
  }

  [[noreturn]] void reject_input(TypeId type, std::size_t slot_count) const {
    const FactTypeInfo& info = rules->types[type];
    if (!input_types[type].assertable)
      throw std::invalid_argument("assert_fact: '" + info.name + "' facts are concluded by rules, not asserted");
    throw std::invalid_argument("assert_fact: '" + info.name + "' has " + std::to_string(info.slots.size()) +
                                " slots, " + std::to_string(slot_count) + " given");
  }

  void remove_input(FactId id) {
    retract(id);
    const std::span<const Value> slots = facts[id].slots;  // not a reference: see count_answers
    count_answers(facts[id].type, slots, -1);
  }

  // ---------------------------------------------------------------------------------------------
  // Alpha network

  void enter_network(FactId id) {
    FactRecord& f = facts[id];
    const Dispatch& d = dispatch[f.type];
    if (!d.slot || f.slots[*d.slot].is_unknown()) {
      // An unknown value might be any of them: every memory has a say.
      for (AlphaMemory* memory : alpha_by_type[f.type]) try_memory(memory, id);
      return;
    }
    // The memories found by the value have its test first (build_dispatch), and it holds.
    const MemoryRun found = d.bucket(f.slots[*d.slot]);
    prefetch_memories(found);
    prefetch_memories(d.rest);
    try_memories(found, id, 1);
    try_memories(d.rest, id, 0);
  }

  /// Asks for the first line of each memory of a run before the screens start: a memory a fact
  /// enters is seldom in the first-level cache (a patient touches few of them, and different
  /// ones), and its load would otherwise wait until the screen has passed. About half the
  /// prefetched lines go unused, and it pays all the same (paired runs: -2% at R = 200 and 1000).
  void prefetch_memories(MemoryRun run) const {
    for (std::uint32_t i = run.first; i < run.first + run.count; ++i) __builtin_prefetch(dispatched[i].memory);
  }

  /// try_memory() for a run of `dispatched` whose tests the fact passes up to `passed`.
  /// Inlined by force: left to itself GCC makes it a function of its own, called twice a fact,
  /// and the calls cost more than the screens save (cachegrind, R = 200 and 1000).
  [[gnu::always_inline]] void try_memories(MemoryRun run, FactId id, std::size_t passed) {
    // The slots stay where they are as memories fill (see Token::slots).
    const Value* slots = facts[id].slots.data();
    const DispatchedMemory* const end = dispatched.data() + run.first + run.count;
    for (const DispatchedMemory* entry = dispatched.data() + run.first; entry != end; ++entry)
      if (const std::size_t certain = screen(*entry, slots); certain != kFailed)
        try_memory(entry->memory, id, passed + certain);
  }

  /// The entry's copied tests against a fact's slots: kFailed when one fails; otherwise how
  /// many of them hold for certain, counted up to the first undetermined one, which try_memory
  /// evaluates again so that the truth it and-s includes it.
  static constexpr std::size_t kFailed = std::numeric_limits<std::size_t>::max();
  static std::size_t screen(const DispatchedMemory& entry, const Value* slots) {
    std::size_t certain = 0;
    bool counting = true;
    for (std::size_t s = 0; s < entry.screen_count; ++s) {
      const Truth truth = screen_compare(entry, s, slots[entry.slots[s]]);
      if (truth == Truth::no) return kFailed;
      counting = counting && truth == Truth::yes;
      certain += counting;
    }
    return certain;
  }

  /// compare() for the entry's screen `s`, read from the constant's parts. Identity, and
  /// ordering two integers or two numbers, are most of what screens ask (`status eq active`,
  /// `age >= 18`, `value < 1.5`): done here without compare_values()'s dispatch on the operator
  /// and the kinds, with the same result. A screen's constant is never unknown (build_dispatch).
  static Truth screen_compare(const DispatchedMemory& entry, std::size_t s, const Value& value) {
    const Op op = entry.ops[s];
    const Value::Kind kind = entry.kinds[s];
    const std::uint64_t payload = entry.payloads[s];
    if (value.kind() == kind) {
      if (op == Op::same) return value.payload() == payload ? Truth::yes : Truth::no;
      if (op <= Op::ge && kind == Value::Kind::integer)
        return truth_of_order(op, order_of(value.as_integer(), std::bit_cast<std::int64_t>(payload)));
      if (op <= Op::ge && kind == Value::Kind::number)
        return truth_of_order(op, support::compare_numbers(std::bit_cast<double>(value.payload()),
                                                           std::bit_cast<double>(payload)));
    }
    return screen_compare_general(entry, s, value);
  }

  /// The rest, out of line.
  [[gnu::noinline]] static Truth screen_compare_general(const DispatchedMemory& entry, std::size_t s,
                                                        const Value& value) {
    return compare(entry.ops[s], value, entry.constant(s));
  }

  /// `passed`: how many of the memory's first tests the fact is known to pass.
  void try_memory(AlphaMemory* memory, FactId id, std::size_t passed = 0) {
    FactRecord& f = facts[id];
    Truth truth = f.truth;
    // By the count in the memory's first line: a fact that passed every test reads no further.
    for (std::size_t i = passed; i < memory->test_count; ++i) {
      const SlotTest& test = memory->tests[i];
      // Constant operands only (is_constant_test), so no environment is needed.
      const Value& value = f.slots[test.slot];
      Truth t = Truth::no;
      if (test.choices.empty()) t = compare(test.op, value, test.operand.constant);
      for (const Term& choice : test.choices)
        if ((t = std::max(t, compare(test.op, value, choice.constant))) == Truth::yes) break;
      truth = truth_and(truth, t);
      if (truth == Truth::no) return;
    }
    if (patient_phase && !memory->listed) {
      memory->listed = true;
      patient_memories.add(memory);
    }
    memory->facts.push_back(id, truth);
    has_facts[memory->index] = 1;
    f.add_memory(memory);
    // A successor whose parent holds no token has nothing to join with; a negative node has an
    // owner token per parent token, so with none it has nothing to look at again either.
    // has_tokens is fixed in size once the network is built; read into a local, it is not
    // loaded again after each call below.
    const std::uint8_t* parent_has_tokens = has_tokens.data();
    memory->for_each_successor([&](std::uint32_t parent, Node* successor) {
      if (parent_has_tokens[parent]) right_activate(successor, id, truth);
    });
  }

  void leave_network(FactId id) {
    FactRecord& f = facts[id];
    remove_tokens_of(f);
    // Out of every memory before any negation looks again, so no new token can pick it up.
    std::vector<AlphaMemory*> memories;
    f.for_each_memory([&](AlphaMemory* memory) {
      memory->facts.erase(id);
      has_facts[memory->index] = !memory->facts.empty();
      memories.push_back(memory);
    });
    f.clear_memories();
    for (AlphaMemory* memory : memories)
      for (Node* node : memory->negatives) recompute_all(node);
  }

  // ---------------------------------------------------------------------------------------------
  // Beta network

  /// `fact_slots`: the slots of the fact being joined (null when there is none).
  const Value& operand_value(const Operand& o, const Token* parent, const Value* fact_slots) const {
    switch (o.source) {
      case Operand::Source::constant: return o.constant;
      case Operand::Source::fact: return fact_slots[o.slot];
      case Operand::Source::token: break;
    }
    return ancestor(parent, o.up)->slots[o.slot];
  }

  Truth join_truth(const Node* join, const Token* parent, FactId fact, Truth alpha_truth) const {
    const Value* slots = facts[fact].slots.data();  // once, not per operand
    Truth truth = truth_and(parent->truth, alpha_truth);
    // The tests first: most joins fail on one, and then nothing else matters. The usual join,
    // on one shared variable, is tested from the node's first line alone.
    if (join->only_hashed_test) {
      truth = truth_and(truth, same_as_bound(slots, join->hashed_fact_slot, parent, join->hashed_up,
                                             join->hashed_slot));
      if (truth == Truth::no) return truth;
      return truth_and(truth, bound_values_truth(join, slots));
    }
    for (const JoinTest& test : join->tests) {
      if (test.fact_same_token) {
        truth = truth_and(truth, same_as_bound(slots, test.lhs.slot, parent, test.rhs.up, test.rhs.slot));
        if (truth == Truth::no) return truth;
        continue;
      }
      const Value& lhs = operand_value(test.lhs, parent, slots);
      Truth t = Truth::no;
      if (test.choices.empty()) {
        t = compare(test.op, lhs, operand_value(test.rhs, parent, slots));
      } else {
        for (const Operand& c : test.choices)
          t = std::max(t, compare(test.op, lhs, operand_value(c, parent, slots)));
      }
      truth = truth_and(truth, t);
      if (truth == Truth::no) return truth;
    }
    return truth_and(truth, bound_values_truth(join, slots));
  }

  /// A `fact.slot same ?var` test: the fact's slot against the value bound in slot
  /// `bound_slot` of the token `up` above `parent`.
  static Truth same_as_bound(const Value* slots, SlotIndex fact_slot, const Token* parent, std::uint16_t up,
                             SlotIndex bound_slot) {
    return compare(Op::same, slots[fact_slot], ancestor(parent, up)->slots[bound_slot]);
  }

  /// A variable that takes an unknown value makes whatever uses it unknown too: undetermined
  /// when one of the slots `join` binds is unknown in the fact, else yes.
  static Truth bound_values_truth(const Node* join, const Value* slots) {
    if (join->binds_in_mask) {
      for (std::uint32_t mask = join->bind_mask; mask != 0; mask &= mask - 1)
        if (slots[std::countr_zero(mask)].is_unknown()) return Truth::undetermined;
      return Truth::yes;
    }
    for (SlotIndex slot : join->bind_slots)
      if (slots[slot].is_unknown()) return Truth::undetermined;
    return Truth::yes;
  }

  /// A token in its node's memory: every kind but production tokens, which only the agenda
  /// holds (no join or negation reads a production node's memory).
  Token* make_token(Node* node, Token* parent, FactId fact, Truth truth) {
    Token* t = new_token(node, parent, fact, truth);
    if (t->patient) {
      // The first patient token of this node since it was last listed (read from the line
      // holding `tokens`, before the mark on another line).
      if (node->tokens.size() == node->base_count && node->patient_mark != resets) {
        node->patient_mark = resets;
        patient_nodes.add(node);
      }
    } else {
      ++node->base_count;  // no patient token is in a node while base tokens are made
    }
    t->place = static_cast<std::uint32_t>(node->tokens.size());
    node->tokens.push_back(t);
    has_tokens[node->index] = 1;
    return t;
  }

  /// A token in its parent's children and its fact's tokens, not yet in its node's memory.
  Token* new_token(Node* node, Token* parent, FactId fact, Truth truth) {
    const bool patient = patient_phase;
    Token* t = patient ? arena.take() : pool.take();
    if (patient) note_patient_token(parent, fact);
    // Every field written once, here (TokenPool::make would clear them first).
    *t = Token{.parent = parent,
               .node = node,
               .slots = nullptr,
               .first_child = nullptr,
               .next_sibling = parent->first_child,
               .next_of_fact = nullptr,
               .fact = fact,
               .place = 0,
               .truth = truth,
               .local = Truth::yes,
               .patient = patient,
               .listed = false,
               .flipped = false,
               .fired = false};
    parent->first_child = t;
    if (fact != kNoFact) {
      FactRecord& f = facts[fact];
      t->slots = f.slots.data();
      t->next_of_fact = f.tokens;
      f.tokens = t;
    }
    return t;
  }

  /// Lists, each once, the base parent and the base fact of a patient token about to be made
  /// first in their lists, for reset().
  void note_patient_token(Token* parent, FactId fact) {
    if (!parent->patient && !parent->listed) {
      parent->listed = true;
      patient_parents.push_back(parent);
    }
    if (fact < base_fact_count && !facts[fact].listed) {  // kNoFact is never below it
      facts[fact].listed = true;
      patient_base_facts.push_back(fact);
    }
  }

  void left_activate(Node* node, Token* parent) {
    switch (node->kind) {
      case Node::Kind::root: return;
      case Node::Kind::join: {
        const AlphaMemory& memory = *node->alpha;
        auto try_at = [&](std::size_t at) {
          Truth truth = join_truth(node, parent, memory.facts.id(at), memory.facts.truth(at));
          if (truth != Truth::no) pass_on(make_token(node, parent, memory.facts.id(at), truth));
        };
        std::size_t first = 0;
        // Only base facts are indexed: a memory without any (most) is scanned below.
        if (node->hashed_test >= 0 && memory.base_size != 0) {
          // The hashed test is fact_same_token: its key is a slot of a token above.
          const Value& key = ancestor(parent, node->hashed_up)->slots[node->hashed_slot];
          if (!key.is_unknown()) {
            const AlphaMemory::BaseIndex& index = memory.indexes[node->hashed_index];
            if (const auto* bucket = index.by_hash.find(key.hash()))
              for (std::uint32_t at : *bucket) try_at(at);
            for (std::uint32_t at : index.unknown) try_at(at);
            first = memory.base_size;  // the rest are facts added since: scan them
          }
        }
        for (std::size_t at = first; at < memory.facts.size(); ++at) try_at(at);
        return;
      }
      case Node::Kind::negative: {
        Token* owner = make_token(node, parent, kNoFact, Truth::no);
        owner->local = negation_truth(node, owner);
        owner->truth = truth_and(parent->truth, owner->local);
        if (owner->truth != Truth::no) pass_on(owner);
        return;
      }
      case Node::Kind::production: {
        Token* t = new_token(node, parent, kNoFact, parent->truth);
        t->place = agenda.push(node->agenda_rank, t);
        return;
      }
    }
  }

  void pass_on(Token* token) {
    const Node* node = token->node;
    const std::uint8_t* memory_has_facts = has_facts.data();
    for (const Node::Child* child = node->links.data(), *end = child + node->links.size(); child != end; ++child)
      if (child->memory == Node::kNoMemory || memory_has_facts[child->memory]) left_activate(child->node, token);
  }

  void right_activate(Node* node, FactId fact, Truth alpha_truth) {
    if (node->kind == Node::Kind::negative) {
      recompute_all(node);
      return;
    }
    // Index loop: new tokens go into this node's memory, never the parent's.
    auto& parents = node->parent->tokens;
    for (std::size_t i = 0; i < parents.size(); ++i) {
      Token* parent = parents[i];
      if (parent->truth == Truth::no) continue;  // a negation that does not hold
      Truth truth = join_truth(node, parent, fact, alpha_truth);
      if (truth != Truth::no) pass_on(make_token(node, parent, fact, truth));
    }
  }

  /// The variables bound above a negative node, by VarId, in `negation_env`: one buffer for
  /// every evaluation, since an evaluation finishes before the next begins.
  Env& env_of(const Node* node, const Token* parent) const {
    negation_env.assign(node->var_count, Value{});
    // `parent` is at the depth above this node's, and each token one above the next.
    for (const VarLocation& l : node->env_layout)
      negation_env[l.var] = ancestor(parent, static_cast<std::uint16_t>(node->depth - 1 - l.depth))->slots[l.slot];
    return negation_env;
  }

  /// Sets the negated_* fields of a negative node whose body has the usual shape (see Node).
  /// The body's constant tests are its alpha memory's, whose truths already hold them with
  /// the facts' existence; only the tests of variables bound above are left to evaluate.
  void compile_negation(Node* node) {
    const std::vector<Element>& body = *node->body;
    if (body.size() != 1 || body[0].kind != Element::Kind::pattern) return;
    const Pattern& pattern = body[0].pattern;
    if (std::any_of(pattern.where.begin(), pattern.where.end(),
                    [&](const Test& t) { return !as_slot_test(pattern, t); }))
      return;
    std::vector<Node::NegatedTest> tests;
    for (const SlotTest& test : pattern.tests) {
      if (is_constant_test(test)) continue;
      if (!test.choices.empty() || test.operand.kind != Term::Kind::variable) return;
      auto bound = std::find_if(node->env_layout.begin(), node->env_layout.end(),
                                [&](const VarLocation& l) { return l.var == test.operand.var; });
      if (bound == node->env_layout.end()) return;  // bound in the body itself
      tests.push_back(Node::NegatedTest{test.op, test.slot, static_cast<std::uint16_t>(node->depth - 1 - bound->depth),
                                        bound->slot});
    }
    // subscribe_body() gave the pattern its memory; without one the interpreter's path stays.
    const auto* memory = alpha_of_pattern.find(key_of(pattern));
    if (tests.size() > kMaxNegatedTests || !memory) return;
    node->negated_alpha = *memory;
    node->negated_tests = std::move(tests);
    for (const auto& [slot, var] : pattern.binds) node->negated_binds.push_back(slot);
  }
  static constexpr std::size_t kMaxNegatedTests = 4;

  /// best_match of a compiled negation's pattern (compile_negation): the same three-valued
  /// result, over the same facts.
  Truth negated_pattern_match(const Node* node, const Token* parent) const {
    std::array<const Value*, kMaxNegatedTests> bound{};
    for (std::size_t i = 0; i < node->negated_tests.size(); ++i) {
      const Node::NegatedTest& test = node->negated_tests[i];
      bound[i] = &ancestor(parent, test.up)->slots[test.token_slot];
    }
    const AlphaMemory& memory = *node->negated_alpha;
    Truth best = Truth::no;
    for (std::size_t at = 0; at < memory.facts.size(); ++at) {
      Truth truth = memory.facts.truth(at);
      const Value* slots = facts[memory.facts.id(at)].slots.data();
      for (std::size_t i = 0; i < node->negated_tests.size() && truth != Truth::no; ++i) {
        const Node::NegatedTest& test = node->negated_tests[i];
        truth = truth_and(truth, compare(test.op, slots[test.slot], *bound[i]));
      }
      if (truth == Truth::no) continue;
      for (SlotIndex slot : node->negated_binds)
        if (slots[slot].is_unknown()) truth = truth_and(truth, Truth::undetermined);
      best = std::max(best, truth);
      if (best == Truth::yes) break;  // nothing beats a definite match
    }
    return best;
  }

  Truth negation_truth(const Node* node, const Token* owner) const {
    if (node->negated_alpha) return truth_not(negated_pattern_match(node, owner->parent));
    return truth_not(best_match(*node->body, *this, env_of(node, owner->parent)));
  }

  void recompute_all(Node* node) {
    if (node->tokens.empty()) return;
    for (std::size_t i = 0; i < node->tokens.size(); ++i) {
      Token* owner = node->tokens[i];
      Truth local = negation_truth(node, owner);
      if (local == owner->local) continue;
      if (patient_phase && !owner->patient) note_flipped(node, owner);
      rederive(owner, local);
    }
  }

  /// An owner's descendants made again for its negation's truth `local`.
  void rederive(Token* owner, Truth local) {
    remove_descendants(owner);
    owner->local = local;
    owner->truth = truth_and(owner->parent->truth, local);
    if (owner->truth != Truth::no) pass_on(owner);
  }

  /// A base owner's descendants are about to be patient tokens: reset() derives them again.
  void note_flipped(Node* node, Token* owner) {
    owner->flipped = true;
    if (node->flipped_mark != resets) {
      node->flipped_mark = resets;
      flipped_nodes.push_back(node);
    }
  }

  // The three lists a token is in: its fact's, its parent's children, its node's memory. The
  // first two are linked one way (Token), so a token is taken out of them by a search from the
  // head; a token is mostly removed as the head of one of them (its parent's first child, its
  // fact's first token), and patient tokens come first in both.

  /// Whether removed tokens are taken out of their facts' lists, or the facts go too.
  enum class FactLists { kept, going };

  /// Removes every descendant of `token`, each taken as its parent's first child.
  void remove_descendants(Token* token, FactLists lists = FactLists::kept) {
    while (Token* child = token->first_child) {
      token->first_child = child->next_sibling;
      if (child->fact != kNoFact && lists == FactLists::kept) unlink_from_fact(child);
      discard(child, lists);
    }
  }

  /// Removes every token that matched fact `f`, each taken as the fact's first token.
  void remove_tokens_of(FactRecord& f) {
    while (Token* token = f.tokens) {
      f.tokens = token->next_of_fact;
      unlink_from_parent(token);
      discard(token);
    }
  }

  static void unlink(Token*& head, Token* token, Token* Token::*next) {
    Token** link = &head;
    while (*link != token) link = &((*link)->*next);
    *link = token->*next;
  }
  void unlink_from_fact(Token* token) { unlink(facts[token->fact].tokens, token, &Token::next_of_fact); }
  void unlink_from_parent(Token* token) { unlink(token->parent->first_child, token, &Token::next_sibling); }

  /// A token out of its parent's and its fact's lists goes, with its descendants, its firing
  /// or its activation, its place in its node's memory; back to its pool.
  void discard(Token* token, FactLists lists = FactLists::kept) {
    remove_descendants(token, lists);
    if (token->node->kind != Node::Kind::production) leave_node(token);
    else if (token->fired) withdraw(token->place);
    else agenda.cancel(token->place);
    if (token->patient) arena.release(token);
    else pool.release(token);
  }

  void leave_node(Token* token) {
    Node* node = token->node;
    auto& memory = node->tokens;
    std::uint32_t at = token->place;
    const auto move = [&](std::uint32_t from, std::uint32_t to) {
      memory[to] = memory[from];
      memory[to]->place = to;
    };
    if (!token->patient) {
      // The base tokens stay first: the last of them takes this place, and the last token its.
      const std::uint32_t last_base = --node->base_count;
      move(last_base, at);
      at = last_base;
    }
    // Not onto itself: after the move above, the last place may still name the base token moved.
    if (const auto last = static_cast<std::uint32_t>(memory.size() - 1); last != at) move(last, at);
    memory.pop_back();
    if (memory.empty()) has_tokens[node->index] = 0;
  }

  // FactSource, for the interpreter inside negations.
  std::span<const FactId> candidates(const Pattern& pattern) const override {
    const auto* memory = alpha_of_pattern.find(key_of(pattern));
    if (!memory) throw std::out_of_range("candidates: a pattern outside the rule base");
    return (*memory)->facts.ids();
  }
  std::span<const Value> slots(FactId fact) const override { return facts[fact].slots; }
  Truth existence(FactId fact) const override { return facts[fact].truth; }

  // ---------------------------------------------------------------------------------------------
  // Firing and truth maintenance

  void fire(Token* token) {
    const Node* node = token->node;
    FiringId id = static_cast<FiringId>(firings.size());
    FiringRecord& record = firings.next();
    record.concluded.clear();
    Firing& f = record.firing;
    f.id = id;
    f.rule = node->rule;
    f.production = node->production;
    f.truth = token->truth;
    f.withdrawn = false;
    FactId* matched = fired_facts.take(node->joins_above);
    Value* values = fired_values.take(node->var_count);
    f.matched = std::span<const FactId>(matched, node->joins_above);
    f.bindings = std::span<const Value>(values, node->var_count);
    // A variable this production does not bind (one local to a negation) reads as not asked.
    // When it binds them all, every value is overwritten below.
    if (node->binding_count != node->var_count)
      std::fill(values, values + node->var_count, Value::unknown(UnknownReason::not_asked));
    // Pointers and bounds are held in locals in the loops below: a Value's one-byte kind may
    // alias anything, so after each Value written the compiler would load them again.
    // One walk up the token chain, from the last pattern to the first, fills both: `bindings`
    // lists the variables in the order their joins bound them, top down, so it is read backwards.
    const VarLocation* first_binding = production_bindings.data() + node->first_binding;
    const VarLocation* binding = first_binding + node->binding_count;  // one past the next
    std::size_t at = node->joins_above;
    for (const Token* t = token->parent; at > 0; t = t->parent) {
      if (t->fact == kNoFact) continue;  // a negative node's: joins alone match a fact
      matched[--at] = t->fact;
      const Value* slots = t->slots;
      for (; binding != first_binding && binding[-1].join == at; --binding)
        values[binding[-1].var] = slots[binding[-1].slot];
    }
    token->place = id;
    token->fired = true;
    if (!token->patient) base_changed = true;  // its conclusions go with the patient's facts
    if (f.truth == Truth::yes) ++definite_firings;
    const Conclusion* conclusion = conclusions.data() + node->first_conclusion;
    for (const Conclusion* end = conclusion + node->conclusion_count; conclusion != end; ++conclusion) {
      if (firings[id].firing.withdrawn) break;  // an earlier conclusion took the firing back
      // Built where a new fact keeps its slots, so that it is not copied again; given back
      // when the fact is there already.
      const Term* term = conclusion_terms.data() + conclusion->first_term;
      Value* const first = slot_arena().take(conclusion->slot_count);
      Value* out = first;
      IdentityHash hash(conclusion->type);
      for (const Term* last = term + conclusion->slot_count; term != last; ++term) {
        const Value& value = term->kind == Term::Kind::constant ? term->constant : values[term->var];
        hash.add(value);
        *out++ = value;
      }
      conclude(id, conclusion->type, std::span<const Value>(first, conclusion->slot_count), hash.value());
    }
    settle();
  }

  /// `values`: the last run taken from slot_arena(). `hash`: identity_hash(type, values).
  void conclude(FiringId firing, TypeId type, std::span<const Value> values, std::size_t hash) {
    const std::size_t place = probe_identity(type, values, hash);
    if (const FactId existing = identity.at(place); existing != kNoFact) {
      slot_arena().give_back(values);
      if (existing < base_fact_count) base_changed = true;  // a support reset() would not take back
      facts[existing].add_support(firing);
      firings[firing].concluded.push_back(existing);
      pending_support.push_back(existing);
      return;
    }
    identity.fill(place, hash, static_cast<FactId>(facts.size()));
    Origin origin;
    origin.kind = Origin::Kind::derived;
    add_placed_fact(type, values, hash, origin, firings[firing].firing.truth, firing);
  }

  void withdraw(FiringId id) {
    FiringRecord& record = firings[id];
    record.firing.withdrawn = true;
    for (FactId fact : record.concluded) {
      auto& s = facts[fact].supports;
      s.erase(std::find(s.begin(), s.end(), id));
      pending_support.push_back(fact);
    }
  }

  /// Applies truth maintenance after an operation: a derived fact without support goes, one
  /// whose support changed from definite to undetermined (or back) is matched again.
  void settle() {
    // Called after every assertion and firing, and most leave nothing to settle: the check
    // alone, inlined, spares them the entry and exit of the loop below.
    if (!pending_support.empty()) settle_pending();
  }

  void settle_pending() {
    while (!pending_support.empty()) {
      FactId id = pending_support.back();
      pending_support.pop_back();
      FactRecord& f = facts[id];
      if (!f.alive || f.origin.kind != Origin::Kind::derived) continue;
      if (f.supports.empty()) {
        retract(id);
        continue;
      }
      // One definite support is enough; a fact many rules conclude has many supports.
      const bool definite = std::any_of(f.supports.begin(), f.supports.end(),
                                        [&](FiringId s) { return firings[s].firing.truth == Truth::yes; });
      const Truth truth = definite ? Truth::yes : Truth::undetermined;
      if (truth != f.truth) {
        leave_network(id);
        facts[id].truth = truth;
        enter_network(id);
      }
    }
  }

  /// The token lists' invariants, which reset() relies on, checked by a walk from the root and
  /// along every fact's list; the first one broken, or empty. A walk longer than the tokens the
  /// engine can hold means a list that loops.
  std::string structure_error() const {
    std::size_t budget = firings.size() + agenda.added() + 1;
    for (const auto& node : nodes) budget += node->tokens.size();
    std::vector<const Token*> stack{root_token};
    std::size_t walked = 0;
    while (!stack.empty()) {
      const Token* parent = stack.back();
      stack.pop_back();
      bool base_seen = false;
      for (const Token* t = parent->first_child; t; t = t->next_sibling) {
        if (++walked > budget) return "the token tree loops";
        if (t->parent != parent) return "a token is among the children of another than its parent";
        if (t->patient && base_seen) return "a patient token follows a base token among children";
        base_seen = base_seen || !t->patient;
        if (t->node->kind == Node::Kind::production) {
          if (t->fired && t->place >= firings.size()) return "a token names no firing";
        } else if (t->place >= t->node->tokens.size() || t->node->tokens[t->place] != t) {
          return "a token is not in its node's memory where it says";
        }
        if (t->fact != kNoFact && (t->fact >= facts.size() || !facts[t->fact].alive))
          return "a token matched a fact that is gone";
        stack.push_back(t);
      }
    }
    for (const auto& node : nodes)
      for (std::size_t i = 0; i < node->tokens.size(); ++i)
        if (node->tokens[i]->patient != (i >= node->base_count))
          return "a node's memory does not hold its base tokens first";
    for (FactId id = 0; id < facts.size(); ++id) {
      if (!facts[id].alive) continue;
      bool base_seen = false;
      walked = 0;
      for (const Token* t = facts[id].tokens; t; t = t->next_of_fact) {
        if (++walked > budget) return "a fact's token list loops";
        if (t->fact != id) return "a token is in the list of another fact than its own";
        if (t->patient && base_seen) return "a patient token follows a base token in a fact's list";
        base_seen = base_seen || !t->patient;
      }
    }
    return {};
  }

  RunResult run() {
    RunResult result;
    for (std::uint32_t rank; (rank = agenda.first_rank()) != Agenda::kNone;) {
      const Agenda::Activation next = agenda.front(rank);
      Token* token = next.token;
      if (!token) {  // removed meanwhile
        agenda.pop(rank);
        continue;
      }
      if (result.fired == options.firing_limit) {  // it stays first on the agenda
        result.completed = false;
        result.cycle = rules_in_loop(std::min<std::uint64_t>(result.fired, 256));
        return result;
      }
      agenda.pop(rank);
      fire(token);
      ++result.fired;
    }
    return result;
  }

  /// The rules of the last `last` firings, most frequent first: a loop keeps firing the same
  /// few rules. The firing records are read rather than a list kept while firing: only a run
  /// that reaches the limit needs it.
  std::vector<RuleId> rules_in_loop(std::size_t last) const {
    std::map<RuleId, std::size_t> count;
    for (std::size_t i = firings.size() - last; i < firings.size(); ++i) ++count[firings[i].firing.rule];
    std::vector<std::pair<std::size_t, RuleId>> order;
    for (auto [r, n] : count) order.emplace_back(n, r);
    std::sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    std::vector<RuleId> out;
    for (auto& [n, r] : order) out.push_back(r);
    return out;
  }
};

// -----------------------------------------------------------------------------------------------
// The interface

Engine::Engine(std::shared_ptr<const RuleBase> rules, EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(rules), options)) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

const RuleBase& Engine::rules() const { return *impl_->rules; }

Symbol Engine::intern(std::string_view name) {
  if (auto s = impl_->rules->symbols.find(name)) return *s;
  return static_cast<Symbol>(impl_->rules->symbols.size() + impl_->local_symbols.intern(name));
}

std::string_view Engine::symbol_name(Symbol symbol) const {
  auto base = impl_->rules->symbols.size();
  return symbol < base ? impl_->rules->symbols.name(symbol) : impl_->local_symbols.name(symbol - static_cast<Symbol>(base));
}

FactId Engine::assert_fact(TypeId type, std::vector<Value> slots, Origin origin) {
  return assert_fact(type, std::span<const Value>(slots), std::move(origin));
}

FactId Engine::assert_fact(TypeId type, std::span<const Value> slots, Origin origin) {
  origin.kind = Origin::Kind::input;
  return impl_->assert_input(type, slots, origin);
}

bool Engine::retract_fact(FactId fact) {
  if (fact >= impl_->facts.size() || !impl_->facts[fact].alive || impl_->facts[fact].origin.kind != Origin::Kind::input)
    return false;
  impl_->remove_input(fact);
  impl_->settle();
  return true;
}

void Engine::answer_none(std::size_t question) {
  if (question >= impl_->questions.size()) throw std::out_of_range("answer_none: no such question");
  impl_->questions[question].none = true;
  impl_->update_placeholder(question);
  impl_->settle();
}

void Engine::reset() { impl_->reset(); }
RunResult Engine::run() { return impl_->run(); }

bool Engine::alive(FactId fact) const { return fact < impl_->facts.size() && impl_->facts[fact].alive; }
TypeId Engine::type_of(FactId fact) const { return impl_->facts.at(fact).type; }
std::span<const Value> Engine::slots_of(FactId fact) const { return impl_->facts.at(fact).slots; }
const Origin& Engine::origin_of(FactId fact) const { return impl_->facts.at(fact).origin; }
Truth Engine::truth_of(FactId fact) const { return impl_->facts.at(fact).truth; }

std::vector<FactId> Engine::facts() const {
  std::vector<FactId> out(impl_->facts.size());
  std::size_t live = 0;
  for (FactId id = 0; id < impl_->facts.size(); ++id)
    if (impl_->facts[id].alive) out[live++] = id;
  out.resize(live);
  return out;
}

std::size_t Engine::fact_count(TypeId type) const {
  return type < impl_->live_by_type.size() ? impl_->live_by_type[type] : 0;
}

std::vector<FiringId> Engine::supports(FactId fact) const { return impl_->facts.at(fact).supports; }
const Firing& Engine::firing(FiringId id) const { return impl_->firings.at(id).firing; }
std::size_t Engine::firing_count() const { return impl_->firings.size(); }
std::uint64_t Engine::fired() const { return impl_->definite_firings; }
std::string Engine::structure_error() const { return impl_->structure_error(); }

std::vector<AdviceItem> Engine::advice() const {
  std::vector<AdviceItem> out;
  for (const auto& record : impl_->firings) {
    const Firing& f = record.firing;
    if (f.withdrawn || f.truth != Truth::yes) continue;
    const auto& actions = impl_->rules->rules[f.rule].actions;
    for (std::size_t a = 0; a < actions.size(); ++a)
      if (actions[a].kind == Action::Kind::advice) out.push_back(AdviceItem{f.id, static_cast<std::uint16_t>(a)});
  }
  return out;
}

}  // namespace rapa::inference
