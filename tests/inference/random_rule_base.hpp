// A seeded generator of small, well-formed, stratified rule bases and of input facts for them,
// for the differential test of the engine against the reference matcher. The domains are tiny
// (five symbols, integers 0..5, a few numbers) so that patterns match, joins succeed and negations
// flip. The same seed gives the same rule base on every platform: only the raw mt19937_64 output
// is used, never the standard distributions, whose sequences are implementation-defined.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "inference/rule_base.hpp"
#include "tests/inference/reference_matcher.hpp"

namespace rapa::testing {

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  /// Uniform enough in [0, n), n > 0 (the modulo bias is irrelevant here and keeps it portable).
  std::uint64_t below(std::uint64_t n) { return engine_() % n; }
  /// In [low, high].
  int between(int low, int high) {
    return low + static_cast<int>(below(static_cast<std::uint64_t>(high - low + 1)));
  }
  /// True `percent` times in a hundred.
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

/// What values a slot takes: the generator's own notion, invisible to the engine.
enum class Domain : std::uint8_t { symbol, integer, number, numeric /* integers and numbers mixed */ };

struct GeneratorOptions {
  int max_rules = 7;
  int max_input_facts = 12;
};

/// A rule base, the domains of its slots (by type, then slot) and a first set of input facts.
struct RandomCase {
  std::shared_ptr<inference::RuleBase> rules;
  std::vector<std::vector<Domain>> domains;
  std::vector<inference::TypeId> input_types;
  std::vector<InputFact> inputs;
};

RandomCase random_case(std::uint64_t seed, const GeneratorOptions& options = {});

/// A random input fact of a random input type of the case; some slots unknown.
InputFact random_input_fact(const RandomCase& c, Random& random);

/// A readable listing of the rule base: types, kb facts, questions, rules with their productions
/// and actions, for the message of a failing seed.
std::string dump_rule_base(const inference::RuleBase& rules);
std::string dump_inputs(const inference::RuleBase& rules, const std::vector<InputFact>& inputs);

}  // namespace rapa::testing
