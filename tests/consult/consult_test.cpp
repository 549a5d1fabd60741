// The consultation layer end to end on the bundled knowledge: rules and kb loaded and
// versioned, a patient file read into an engine, the answer gathered.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "consult/consultation.hpp"

namespace rapa::consult {
namespace {

const std::string kHome = RAPA_SOURCE_DIR;

Knowledge bundled() {
  support::DiagnosticEngine diags;
  auto knowledge = load_knowledge({kHome + "/rules", kHome + "/kb"}, diags);
  REQUIRE(knowledge);
  return std::move(*knowledge);
}

std::string rendered(const Knowledge& k, const support::DiagnosticEngine& diags) {
  std::string out;
  for (const auto& d : diags.diagnostics()) out += location(*k.sources, d.range) + ": " + d.message + "\n";
  return out;
}

TEST_CASE("The bundled knowledge loads, with a stable version hash", "[consult]") {
  Knowledge a = bundled();
  Knowledge b = bundled();
  CHECK(a.version.size() == 64);
  CHECK(a.version == b.version);
  CHECK(!a.rules->rules.empty());
}

TEST_CASE("The version is of the contents, wherever the rule base is installed", "[consult]") {
  namespace fs = std::filesystem;
  const fs::path copy = fs::temp_directory_path() / ("rapa-version-" + std::to_string(::getpid()));
  fs::remove_all(copy);
  fs::create_directories(copy);
  fs::copy(kHome + "/rules", copy / "rules", fs::copy_options::recursive);
  fs::copy(kHome + "/kb", copy / "kb", fs::copy_options::recursive);
  const auto load = [](const fs::path& home) {
    support::DiagnosticEngine diags;
    auto k = load_knowledge({(home / "rules").string(), (home / "kb").string()}, diags);
    REQUIRE(k);
    return k->version;
  };
  const std::string bundled_version = bundled().version;
  CHECK(load(copy) == bundled_version);
  // One byte more in one rule file is another version.
  { std::ofstream(copy / "rules" / "itp.rules", std::ios::app) << "\n"; }
  CHECK(load(copy) != bundled_version);
  fs::remove_all(copy);
}

TEST_CASE("A consultation on the bundled example patient", "[consult]") {
  Knowledge k = bundled();
  inference::Engine engine(k.rules);
  support::DiagnosticEngine diags;
  REQUIRE(load_patient_file(k, kHome + "/examples/patients/itp_adult.yaml", engine, diags));
  CHECK(diags.diagnostics().empty());
  engine.run();
  Consultation c = consult(k, engine);
  CHECK(c.rules_version == k.version);
  for (const AdviceView& a : c.advice) {
    INFO(a.rule);
    CHECK(a.number >= 1);
    CHECK(!a.defined_at.empty());
    CHECK(a.defined_at.find(".rules:") != std::string::npos);
    // Every advice printed cites at least one source with its level.
    REQUIRE(!a.citations.empty());
    for (const auto& citation : a.citations) CHECK(!citation.level.empty());
  }
  // Reading order: recommendations first, information last.
  CHECK(std::is_sorted(c.advice.begin(), c.advice.end(), [](const AdviceView& x, const AdviceView& y) {
    auto rank = [](inference::AdviceKind kind) { return kind == inference::AdviceKind::recommend ? 0 : kind == inference::AdviceKind::info ? 2 : 1; };
    return rank(x.kind) < rank(y.kind);
  }));
  // Every input fact knows the line it came from.
  for (inference::FactId f : engine.facts())
    if (engine.origin_of(f).kind == inference::Origin::Kind::input) CHECK(engine.origin_of(f).range.valid());
}

TEST_CASE("Leaving out the medicines turns interaction advice into a question", "[consult][unknown]") {
  Knowledge k = bundled();
  std::string with_voriconazole =
      "patient: {age: 40 years, sex: male, pregnant: no, breastfeeding: no}\n"
      "diagnoses: [{code: ITP, status: active}]\n"
      "medications: [{drug: Vfend, status: active}, {drug: sirolimus, status: active}]\n";
  std::string without_medicines =
      "patient: {age: 40 years, sex: male, pregnant: no, breastfeeding: no}\n"
      "diagnoses: [{code: ITP, status: active}]\n";
  auto run = [&](const std::string& text) {
    inference::Engine engine(k.rules);
    support::DiagnosticEngine diags;
    REQUIRE(load_patient_text(k, "patient.yaml", text, engine, diags));
    engine.run();
    return consult(k, engine);
  };
  Consultation known = run(with_voriconazole);
  Consultation unknown = run(without_medicines);
  auto warns_about_interaction = [](const Consultation& c) {
    return std::any_of(c.advice.begin(), c.advice.end(), [](const AdviceView& a) { return a.rule.rfind("ddi.", 0) == 0; });
  };
  auto asks_for_medicines = [](const Consultation& c) {
    return std::any_of(c.needs_data.begin(), c.needs_data.end(), [](const NeedsDataView& n) {
      return std::any_of(n.missing.begin(), n.missing.end(), [](const MissingView& m) { return m.label == "current medicines"; });
    });
  };
  CHECK(warns_about_interaction(known));
  CHECK_FALSE(asks_for_medicines(known));
  CHECK_FALSE(warns_about_interaction(unknown));
  CHECK(asks_for_medicines(unknown));
}

TEST_CASE("A bad patient file gives errors at file:line and asserts nothing", "[consult]") {
  Knowledge k = bundled();
  inference::Engine engine(k.rules);
  auto before = engine.facts();
  support::DiagnosticEngine diags;
  CHECK_FALSE(load_patient_text(k, "bad.yaml",
                                "patient: {age: 40 years}\n"
                                "medications: [{drug: voriconazol, status: active}]\n",
                                engine, diags));
  std::string text = rendered(k, diags);
  CHECK(text.find("bad.yaml:2: unknown drug 'voriconazol'") != std::string::npos);
  CHECK(engine.facts() == before);
}

}  // namespace
}  // namespace rapa::consult
