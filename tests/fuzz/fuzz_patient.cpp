// Fuzz target for patient files and the engine behind them: the bytes as one patient file of
// the bundled knowledge, through the loader; when it is accepted, its facts into an engine, the
// rules run, and every explanation asked for (why of each advice, the missing data, why not of
// each rule), so that whatever a patient file can say, matching and explaining it cannot crash.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "inference/engine.hpp"
#include "parser/check.hpp"
#include "parser/lower.hpp"
#include "parser/patient.hpp"
#include "support/diagnostic_render.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace {

struct Bundled {
  rapa::support::SourceManager sources;
  rapa::parser::CheckedRuleBase checked;
  std::shared_ptr<const rapa::inference::RuleBase> rules;
};

const Bundled& bundled() {
  static const Bundled* knowledge = [] {
    auto* k = new Bundled;
    rapa::support::DiagnosticEngine diags;
    k->checked = rapa::parser::check_paths({RAPA_FUZZ_HOME "/rules", RAPA_FUZZ_HOME "/kb"}, k->sources, diags);
    if (diags.has_errors()) __builtin_trap();  // the bundled knowledge must check clean
    k->rules = rapa::parser::lower(k->checked, k->sources);
    return k;
  }();
  return *knowledge;
}

/// Working memory as text, by content and not by id: type, slots and truth of every fact.
std::multiset<std::string> contents(const rapa::inference::Engine& engine) {
  std::multiset<std::string> out;
  for (rapa::inference::FactId f : engine.facts()) {
    std::string line = std::to_string(engine.type_of(f)) + "(";
    for (const auto& value : engine.slots_of(f)) line += engine.format(value) + ",";
    line += ")" + std::to_string(static_cast<int>(engine.truth_of(f)));
    out.insert(std::move(line));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)bundled();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rapa;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (support::SourceManager::validate_text(bytes)) return 0;  // the loader never sees such text

  const Bundled& k = bundled();
  support::SourceManager sources;
  support::DiagnosticEngine diags;
  const support::FileId file = sources.add_buffer("patient.yaml", std::string(bytes));
  inference::Engine engine(k.rules);
  auto intern = [&](std::string_view name) { return engine.intern(name); };
  auto patient = parser::load_patient(sources, file, k.checked.kb, *k.rules, intern, diags);
  (void)support::render_text(sources, diags.sorted());
  if (!patient) return 0;
  for (auto& fact : patient->facts) engine.assert_fact(fact.type, std::move(fact.slots));
  for (std::size_t q : patient->answered_none) engine.answer_none(q);
  engine.run();
  for (const auto& item : engine.advice()) (void)engine.why(item.firing);
  (void)engine.needs_data();
  for (inference::RuleId r = 0; r < k.rules->rules.size(); ++r) (void)engine.why_not(r);
  // Taking every fact back must leave what a new engine given no facts concludes (conclusions
  // from the kb and from unanswered questions stay; nothing resting on the patient does).
  for (inference::FactId f : engine.facts())
    if (engine.origin_of(f).kind == inference::Origin::Kind::input) engine.retract_fact(f);
  engine.run();
  inference::Engine fresh(k.rules);
  for (std::size_t q : patient->answered_none) fresh.answer_none(q);
  fresh.run();
  if (contents(engine) != contents(fresh)) __builtin_trap();
  return 0;
}
