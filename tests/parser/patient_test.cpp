// Patient files: sections, shorthand forms, vocabularies, units and unknowns, and an error at
// the right line and column for every kind of mistake. Also loads the example of
// docs/patients.md, so the manual cannot drift from the loader.
#include <catch2/catch.hpp>

#include <string>

#include "consult/knowledge.hpp"
#include "parser/patient.hpp"
#include "tests/read_file.hpp"

namespace rapa::parser {
namespace {

const std::string kHome = RAPA_SOURCE_DIR;

struct Loaded {
  std::optional<Patient> patient;
  std::vector<std::string> errors;  // "line:column: message"
  const inference::RuleBase* rules = nullptr;
};

const consult::Knowledge& knowledge() {
  static consult::Knowledge k = [] {
    support::DiagnosticEngine diags;
    auto loaded = consult::load_knowledge({kHome + "/rules", kHome + "/kb"}, diags);
    REQUIRE(loaded);
    return std::move(*loaded);
  }();
  return k;
}

Loaded load(const std::string& text) {
  const consult::Knowledge& k = knowledge();
  support::SourceManager sources;
  auto file = sources.add_buffer("patient.yaml", text);
  support::DiagnosticEngine diags;
  inference::SymbolTable local;
  auto intern = [&](std::string_view name) {
    if (auto s = k.rules->symbols.find(name)) return *s;
    return static_cast<inference::Symbol>(k.rules->symbols.size() + local.intern(name));
  };
  Loaded out;
  out.rules = k.rules.get();
  out.patient = load_patient(sources, file, k.checked.kb, *k.rules, intern, diags);
  for (const auto& d : diags.diagnostics()) {
    auto at = sources.line_column(d.range.file, d.range.begin);
    out.errors.push_back(std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + d.message);
  }
  return out;
}

std::size_t count_of(const Loaded& l, std::string_view type) {
  auto id = *l.rules->find_type(type);
  return static_cast<std::size_t>(std::count_if(l.patient->facts.begin(), l.patient->facts.end(),
                                                [&](const PatientFact& f) { return f.type == id; }));
}

TEST_CASE("Section names are the fact types, singular or plural", "[patient]") {
  CHECK(section_name("medication") == "medications");
  CHECK(section_name("therapy") == "therapies");
  CHECK(section_name("diagnosis") == "diagnoses");
  CHECK(section_name("allergy") == "allergies");
  CHECK(section_name("day") == "days");
}

TEST_CASE("Every form of section gives its facts", "[patient]") {
  auto l = load(
      "patient: {age: 9 years, sex: male}\n"
      "diagnosis: [ITP]\n"
      "medications:\n"
      "  - {drug: Rapamune, status: active, dose: 1 mg/day}\n"
      "labs:\n"
      "  platelets: 14000 /uL\n"
      "  egfr: unknown\n"
      "conditions: [hsct, tma]\n");
  INFO(l.errors.size());
  REQUIRE(l.patient);
  CHECK(l.errors.empty());
  CHECK(count_of(l, "patient") == 1);
  CHECK(count_of(l, "diagnosis") == 1);
  CHECK(count_of(l, "medication") == 1);
  CHECK(count_of(l, "lab") == 2);
  CHECK(count_of(l, "condition") == 2);
  const auto& rules = *l.rules;
  for (const PatientFact& f : l.patient->facts) {
    const auto& type = rules.types[f.type];
    if (type.name == "medication") CHECK(rules.symbols.name(f.slots[0].as_symbol()) == "sirolimus");  // brand -> id
    if (type.name == "patient") CHECK(f.slots[2].is_unknown());  // weight not given: not asked
    if (type.name == "lab" && rules.symbols.name(f.slots[0].as_symbol()) == "platelets")
      CHECK(f.slots[1].as_double() == Approx(14e9 * 1000));  // 14 x10^9/L in base units (per m^3)
    if (type.name == "lab" && rules.symbols.name(f.slots[0].as_symbol()) == "egfr") {
      REQUIRE(f.slots[1].is_unknown());
      CHECK(f.slots[1].reason() == inference::UnknownReason::unknown);
    }
  }
}

TEST_CASE("'none' answers a question; leaving a section out does not", "[patient][unknown]") {
  auto with_none = load("patient: {age: 50 years}\nmedications: none\n");
  auto left_out = load("patient: {age: 50 years}\n");
  REQUIRE(with_none.patient);
  REQUIRE(left_out.patient);
  CHECK(!with_none.patient->answered_none.empty());
  CHECK(left_out.patient->answered_none.empty());
}

TEST_CASE("Mistakes are reported at their line and column, and give no facts", "[patient]") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"patient: {age: 34}\n", "1:16: '34' needs a unit: patient.age is time, such as 'years'"},
      {"patient: {weight: 62 cm}\n", "1:19: '62 cm' is length, but patient.weight is mass, such as 'kg'"},
      {"medications: [{drug: voriconazol, status: active}]\n", "1:22: unknown drug 'voriconazol'; did you mean 'voriconazole'?"},
      {"medications: [{drug: sirolimus, stauts: active}]\n",
       "1:33: a medication has no field 'stauts' (fields: drug, status, dose); did you mean 'status'?"},
      {"medications: [{drug: sirolimus, status: on}]\n",
       "1:41: 'on' is not a value of slot 'medication.status' (allowed: active, planned, stopped)"},
      {"medicatons: []\n", "1:1: unknown patient section 'medicatons' (expected one of: patient, diagnosis, therapy, "
                           "medication, lab, condition, allergy, infection, or their plurals); did you mean 'medications'?"},
      {"refractory: [ITP]\n", "1:1: 'refractory' facts are concluded; a patient file cannot state them"},
      {"labs: {platelets: 14 mg}\n", "1:19: '14 mg' is mass, but lab.value is cell count per volume, such as 'x10^9/L'"},
      {"medications: aspirin\n", "1:14: 'aspirin' is not a list of 'medications' (write a list, 'none', or 'unknown')"},
      {"", "1:1: patient file states no facts"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto l = load(c.text);
    CHECK_FALSE(l.patient);
    REQUIRE(!l.errors.empty());
    CHECK(l.errors[0] == c.error);
  }
}

TEST_CASE("The example in docs/patients.md loads without a problem", "[patient][docs]") {
  const std::string doc = rapa::test::read_file(kHome + "/docs/patients.md");
  auto begin = doc.find("```yaml\n");
  REQUIRE(begin != std::string::npos);
  begin += 8;
  auto end = doc.find("```", begin);
  auto l = load(doc.substr(begin, end - begin));
  CHECK(l.errors.empty());
  REQUIRE(l.patient);
  CHECK(count_of(l, "lab") == 6);
  // It is the bundled example patient, word for word.
  const std::string example = rapa::test::read_file(kHome + "/examples/patients/itp_adult.yaml");
  CHECK(example.find(doc.substr(begin, end - begin)) != std::string::npos);
}

}  // namespace
}  // namespace rapa::parser
