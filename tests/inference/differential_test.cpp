// The Rete engine against the reference matcher on thousands of random rule bases: first a fresh
// evaluation (assert everything, run), then a random sequence of assertions, retractions,
// "none" answers and resets, each followed by run() and a comparison with a fresh reference
// evaluation of the same inputs. Everything is compared by content, never by ids.
//
// To replay one seed (any seed, large ones included): RAPA_DIFF_SEED=1234 rapa_inference_tests
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "inference/engine.hpp"
#include "tests/inference/random_rule_base.hpp"
#include "tests/inference/reference_matcher.hpp"

namespace {

using namespace rapa::inference;
using rapa::testing::InputFact;
using rapa::testing::Random;
using rapa::testing::RandomCase;
using rapa::testing::ReferenceResult;

/// The engine's state rendered exactly as the reference renders its own.
ReferenceResult observe(const Engine& engine) {
  const RuleBase& rules = engine.rules();
  rapa::testing::SymbolNamer names = [&](Symbol s) { return engine.symbol_name(s); };
  auto content = [&](FactId fact) {
    if (!engine.alive(fact)) return "<dead fact " + std::to_string(fact) + ">";
    return rapa::testing::render_fact(rules, engine.type_of(fact), engine.slots_of(fact), names);
  };
  auto matched = [&](const Firing& firing) {
    std::vector<std::string> out;
    for (FactId fact : firing.matched) out.push_back(content(fact));
    return out;
  };
  auto firing_text = [&](FiringId id) {
    const Firing& firing = engine.firing(id);
    std::string text =
        rapa::testing::render_firing(rules, firing.rule, firing.production, matched(firing), firing.truth);
    return firing.withdrawn ? text + " <withdrawn>" : text;
  };

  ReferenceResult out;
  for (FiringId id = 0; id < engine.firing_count(); ++id) {
    const Firing& firing = engine.firing(id);
    if (firing.withdrawn) continue;
    out.firings.push_back(firing_text(id));
    out.bindings.push_back(out.firings.back() + " " +
                           rapa::testing::render_bindings(rules, firing.rule, firing.bindings, names));
  }
  // A withdrawn firing must not be visible anywhere; one that is shows up as an extra line.
  auto referenced = [&](FiringId id, const char* where) {
    if (engine.firing(id).withdrawn)
      out.firings.push_back(std::string(where) + " refers to " + firing_text(id));
  };
  for (FactId fact : engine.facts()) {
    out.facts.push_back(content(fact) + ":" + std::string(rapa::testing::truth_name(engine.truth_of(fact))));
    for (FiringId id : engine.supports(fact)) referenced(id, "supports()");
  }
  for (const AdviceItem& item : engine.advice()) {
    referenced(item.firing, "advice()");
    const Firing& firing = engine.firing(item.firing);
    out.advice.push_back(rapa::testing::render_advice(rules, firing.rule, item.action, matched(firing)));
  }
  for (const NeedsData& needs : engine.needs_data()) {
    referenced(needs.firing, "needs_data()");
    out.needs_data.push_back(firing_text(needs.firing));
  }
  out.fired = engine.fired();
  for (auto* list : {&out.facts, &out.firings, &out.advice, &out.needs_data, &out.bindings})
    std::sort(list->begin(), list->end());
  return out;
}

/// Empty when they agree; otherwise each differing section with its differing lines.
std::string compare(const ReferenceResult& expected, const ReferenceResult& actual, bool with_fired) {
  std::string out;
  auto section = [&](const char* name, const std::vector<std::string>& e, const std::vector<std::string>& a) {
    std::string diff = rapa::testing::diff_lines(e, a);
    if (!diff.empty()) out += std::string("[") + name + "]\n" + diff;
  };
  section("facts", expected.facts, actual.facts);
  section("firings", expected.firings, actual.firings);
  section("advice", expected.advice, actual.advice);
  section("needs_data", expected.needs_data, actual.needs_data);
  // Only when the firings agree: otherwise it repeats their difference.
  if (out.empty()) section("bindings", expected.bindings, actual.bindings);
  if (with_fired && expected.fired != actual.fired)
    out += "[fired] reference " + std::to_string(expected.fired) + ", engine " +
           std::to_string(actual.fired) + "\n";
  return out;
}

struct LiveInput {
  InputFact fact;
  FactId id = 0;
};

/// Drives one engine and the reference through the same story, and says where they first part.
class Session {
 public:
  Session(std::uint64_t seed, const rapa::testing::GeneratorOptions& options)
      : seed_(seed), case_(rapa::testing::random_case(seed, options)), engine_(case_.rules) {}

  /// Empty on agreement; otherwise a report naming the seed, the step, the difference, the
  /// operations so far and the rule base.
  std::string play() {
    for (const auto& fact : case_.inputs) assert_input(fact);
    if (auto failure = run_and_compare("fresh evaluation", true); !failure.empty()) return failure;

    // Operations draw from their own stream so that they do not shift the generator's.
    Random random(seed_ * 0x9E3779B97F4A7C15ull + 1);
    int operations = random.between(5, 20);
    for (int step = 0; step < operations; ++step) {
      std::uint64_t roll = random.below(100);
      bool fresh = false;
      if (roll < 45 || (roll < 75 && live_.empty())) {
        assert_input(rapa::testing::random_input_fact(case_, random));
      } else if (roll < 75) {
        std::size_t index = random.below(live_.size());
        history_ += "retract " + text(live_[index].fact) + "\n";
        if (!engine_.retract_fact(live_[index].id)) return report("retract_fact refused a live input fact");
        live_.erase(live_.begin() + static_cast<std::ptrdiff_t>(index));
      } else if (roll < 85 && !case_.rules->questions.empty()) {
        std::size_t question = random.below(case_.rules->questions.size());
        history_ += "answer_none " + std::to_string(question) + "\n";
        engine_.answer_none(question);
        answered_none_.insert(question);
      } else if (roll < 93 && !live_.empty()) {
        // Asserting an identical input again must be a no-op returning the same id.
        assert_input(live_[random.below(live_.size())].fact);
      } else {
        // Now and then the patient's last fact is never run: its activations are still on the
        // agenda when reset() comes.
        if (random.below(3) == 0) {
          const InputFact fact = rapa::testing::random_input_fact(case_, random);
          history_ += "assert " + text(fact) + " (not run)\n";
          engine_.assert_fact(fact.type, fact.slots);
        }
        history_ += "reset\n";
        engine_.reset();
        live_.clear();
        answered_none_.clear();
        fresh = true;
      }
      if (auto failure = run_and_compare("after operation " + std::to_string(step + 1), fresh);
          !failure.empty())
        return failure;
    }

    // Finally the same inputs from scratch in the same engine: reset must forget everything.
    history_ += "reset, then assert the live inputs again and answer_none as before\n";
    engine_.reset();
    std::vector<LiveInput> inputs = std::move(live_);
    live_.clear();
    for (const auto& input : inputs) assert_input(input.fact);
    for (std::size_t question : answered_none_) engine_.answer_none(question);
    return run_and_compare("replay after reset", true);
  }

 private:
  std::string text(const InputFact& fact) const {
    return rapa::testing::render_fact(*case_.rules, fact.type, fact.slots,
                                      [&](Symbol s) { return case_.rules->symbols.name(s); });
  }

  void assert_input(const InputFact& fact) {
    FactId id = engine_.assert_fact(fact.type, fact.slots);
    history_ += "assert " + text(fact) + " -> #" + std::to_string(id) + "\n";
    auto same = std::find_if(live_.begin(), live_.end(), [&](const LiveInput& live) {
      return live.fact.type == fact.type && rapa::testing::identical_slots(live.fact.slots, fact.slots);
    });
    if (same != live_.end()) {
      if (same->id != id)
        duplicate_problem_ = "asserting an identical input again gave #" + std::to_string(id) + ", not #" +
                             std::to_string(same->id);
      return;
    }
    if (std::any_of(live_.begin(), live_.end(), [&](const LiveInput& live) { return live.id == id; }))
      duplicate_problem_ = "a new input fact got the id #" + std::to_string(id) + " of another live input";
    live_.push_back({fact, id});
  }

  std::string run_and_compare(const std::string& step, bool with_fired) {
    if (!duplicate_problem_.empty()) return report(step + ": " + duplicate_problem_);
    if (auto broken = engine_.structure_error(); !broken.empty()) return report(step + ", before run(): " + broken);
    RunResult run = engine_.run();
    if (auto broken = engine_.structure_error(); !broken.empty()) return report(step + ", after run(): " + broken);
    if (!run.completed) return report(step + ": run() hit the firing limit");
    std::vector<InputFact> inputs;
    for (const auto& live : live_) inputs.push_back(live.fact);
    ReferenceResult expected = rapa::testing::evaluate(*case_.rules, inputs, answered_none_);
    std::string diff = compare(expected, observe(engine_), with_fired);
    return diff.empty() ? std::string() : report(step + ":\n" + diff);
  }

  std::string report(const std::string& what) const {
    std::string answered;
    for (std::size_t q : answered_none_) answered.append(" ").append(std::to_string(q));  // not " " + ...: see `seeds`
    return "seed " + std::to_string(seed_) + " (replay: RAPA_DIFF_SEED=" + std::to_string(seed_) +
           " rapa_inference_tests)" + ": " + what + "\n--- operations\n" + history_ +
           "--- answered none:" + answered + "\n--- rule base\n" +
           rapa::testing::dump_rule_base(*case_.rules);
  }

  std::uint64_t seed_;
  RandomCase case_;
  Engine engine_;
  std::vector<LiveInput> live_;
  std::set<std::size_t> answered_none_;
  std::string history_;
  std::string duplicate_problem_;
};

/// Seeds from 1'000'000 up make larger rule bases, so that a seed alone names a case.
constexpr std::uint64_t first_large_seed = 1'000'000;

rapa::testing::GeneratorOptions options_for(std::uint64_t seed) {
  rapa::testing::GeneratorOptions options;
  if (seed >= first_large_seed) {
    options.max_rules = 10;
    options.max_input_facts = 20;
  }
  return options;
}

std::string play_seed(std::uint64_t seed) {
  try {
    return Session(seed, options_for(seed)).play();
  } catch (const std::exception& e) {
    return "seed " + std::to_string(seed) + " (replay: RAPA_DIFF_SEED=" + std::to_string(seed) +
           " rapa_inference_tests)" + ": exception: " + e.what() + "\n" +
           rapa::testing::dump_rule_base(*rapa::testing::random_case(seed, options_for(seed)).rules);
  }
}

/// Plays seeds [first, first + count), or only RAPA_DIFF_SEED when it is set; fails with the
/// first report and the list of every failing seed.
void play_seeds(std::uint64_t first, std::uint64_t count) {
  if (const char* only = std::getenv("RAPA_DIFF_SEED")) {
    first = std::strtoull(only, nullptr, 10);
    count = 1;
  }
  std::string first_failure;
  std::vector<std::uint64_t> failing;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    std::string failure = play_seed(seed);
    if (failure.empty()) continue;
    if (first_failure.empty()) first_failure = failure;
    failing.push_back(seed);
  }
  if (failing.empty()) {
    SUCCEED(count << " seeds agree");
    return;
  }
  std::string seeds;
  for (std::size_t i = 0; i < failing.size() && i < 50; ++i) seeds.append(" ").append(std::to_string(failing[i]));
  FAIL(failing.size() << " of " << count << " seeds differ:" << seeds << (failing.size() > 50 ? " ..." : "")
                      << "\n\n"
                      << first_failure);
}

TEST_CASE("differential: the engine agrees with the reference on random rule bases", "[differential]") {
  play_seeds(0, 2000);
}

TEST_CASE("differential: a longer run on larger random rule bases", "[differential][.slow]") {
  play_seeds(first_large_seed, 20000);
}

}  // namespace
