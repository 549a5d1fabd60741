// The consultation renderers: the text fits 80 columns and keeps the reading order, needs-data
// shows what is missing, JSON and Markdown carry the same items. Assertions are about structure,
// never about a rule's wording, so that the bundled rules can grow.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "consult/render.hpp"

namespace rapa::consult {
namespace {

const std::string kHome = RAPA_SOURCE_DIR;

Knowledge bundled() {
  support::DiagnosticEngine diags;
  auto knowledge = load_knowledge({kHome + "/rules", kHome + "/kb"}, diags);
  REQUIRE(knowledge);
  return std::move(*knowledge);
}

/// A knowledge, an engine run on one patient, and its consultation.
struct Consulted {
  Knowledge knowledge = bundled();
  inference::Engine engine{knowledge.rules};
  Consultation consultation;

  explicit Consulted(const std::string& patient_text, const std::string& name = "patient.yaml") {
    support::DiagnosticEngine diags;
    REQUIRE(load_patient_text(knowledge, name, patient_text, engine, diags));
    engine.run();
    consultation = consult(knowledge, engine);
  }
};

std::string example_text() {
  support::SourceManager sources;
  auto loaded = sources.load_file(kHome + "/examples/patients/itp_adult.yaml");
  REQUIRE(!loaded.failure);
  return std::string(sources.text(loaded.id));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      if (start < text.size()) lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void check_width(const std::string& text, std::size_t width = 80) {
  for (const std::string& line : lines_of(text)) {
    INFO(line);
    CHECK(display_width(line) <= width);
  }
}

/// Index of the first line equal to `wanted`, or npos.
std::size_t line_index(const std::vector<std::string>& lines, const std::string& wanted) {
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i] == wanted) return i;
  return std::string::npos;
}

const char* const kNoMedicines =
    "patient: {age: 40 years, sex: male, pregnant: no, breastfeeding: no}\n"
    "diagnoses: [{code: ITP, status: active}]\n"
    "therapies: [{agent: prednisone, response: relapse}]\n";

TEST_CASE("Text of the example patient: 80 columns, every item numbered", "[consult][render]") {
  Consulted c(example_text(), "examples/patients/itp_adult.yaml");
  REQUIRE(!c.consultation.advice.empty());
  RenderOptions options;
  options.patient = "examples/patients/itp_adult.yaml";
  for (bool doi : {false, true}) {
    options.doi = doi;
    const std::string text = render_text(c.consultation, options);
    check_width(text);
    CHECK(text.find('\033') == std::string::npos);
    const auto lines = lines_of(text);
    CHECK(lines.front() == "Consultation for examples/patients/itp_adult.yaml");
    // Every item shows its number, in order.
    std::size_t last = 0;
    for (const AdviceView& advice : c.consultation.advice) {
      const std::string number = "  [" + std::to_string(advice.number) + "]";
      std::size_t found = std::string::npos;
      for (std::size_t i = last; i < lines.size(); ++i)
        if (lines[i].rfind(number, 0) == 0) {
          found = i;
          break;
        }
      INFO(number);
      REQUIRE(found != std::string::npos);
      last = found;
    }
    CHECK(text.find("Evidence:") != std::string::npos);
    CHECK(text.find("Rule: ") != std::string::npos);
    CHECK((text.find("https://doi.org/") != std::string::npos) == doi);
    // The foot: version abbreviated to 12 hex digits, and the counts.
    const std::string& foot = lines.back();
    CHECK(foot.rfind("Rule base " + c.consultation.rules_version.substr(0, 12) + ": ", 0) == 0);
  }
}

TEST_CASE("Section headings come in the model's reading order", "[consult][render]") {
  Consulted c(example_text());
  const auto lines = lines_of(render_text(c.consultation, {}));
  const std::vector<std::pair<inference::AdviceKind, std::string>> sections = {
      {inference::AdviceKind::recommend, "Recommendations"}, {inference::AdviceKind::contraindicate, "Contraindications"},
      {inference::AdviceKind::warn, "Warnings"},             {inference::AdviceKind::monitor, "Monitoring"},
      {inference::AdviceKind::ask, "Questions"},             {inference::AdviceKind::info, "Information"}};
  std::size_t previous = 0;
  for (const auto& [kind, title] : sections) {
    const bool present = std::any_of(c.consultation.advice.begin(), c.consultation.advice.end(),
                                     [&](const AdviceView& a) { return a.kind == kind; });
    const std::size_t at = line_index(lines, title);
    INFO(title);
    CHECK((at != std::string::npos) == present);
    if (!present) continue;
    CHECK(at >= previous);
    previous = at;
  }
  if (!c.consultation.needs_data.empty()) CHECK(line_index(lines, "Needs data") > previous);
}

TEST_CASE("Leaving out the medicines lists what is needed and what is at stake", "[consult][render][unknown]") {
  Consulted c(kNoMedicines);
  REQUIRE(!c.consultation.needs_data.empty());
  RenderOptions options;
  options.patient = "patient.yaml";
  const std::string text = render_text(c.consultation, options);
  check_width(text);
  const auto lines = lines_of(text);
  const std::size_t needs = line_index(lines, "Needs data");
  REQUIRE(needs != std::string::npos);
  // Every missing datum and every advice at stake appears after the heading (read with the
  // wrapping undone: a long label may break across lines).
  std::string after;
  for (char ch : text.substr(text.find("\nNeeds data\n")))
    if (ch != '\n' && ch != ' ') after += ch;
    else if (!after.empty() && after.back() != ' ') after += ' ';
  for (const NeedsDataView& n : c.consultation.needs_data) {
    for (const MissingView& m : n.missing) CHECK(after.find(m.label + " (" + m.reason + ")") != std::string::npos);
    for (const std::string& s : n.at_stake) CHECK(after.find(s + ":") != std::string::npos);
    CHECK(after.find(n.rule) != std::string::npos);
  }
  CHECK(after.find("current medicines (not asked)") != std::string::npos);
  // The same held-back advice is listed once in JSON, however many firings held it back.
  const auto json = nlohmann::json::parse(render_json(c.consultation, c.knowledge, c.engine, options));
  std::set<std::string> seen;
  for (const auto& entry : json["needs_data"]) CHECK(seen.insert(entry.dump()).second);
  CHECK(!json["needs_data"].empty());
}

TEST_CASE("Long texts, long words and wide characters wrap within 80 columns", "[consult][render]") {
  Consultation c;
  c.rules_version = std::string(64, 'a');
  AdviceView advice;
  advice.number = 1;
  advice.kind = inference::AdviceKind::recommend;
  advice.subject = "sirolimus";
  advice.details = {{"start", "2..4 mg/day", 0, 0}, {"trough", "4..15 ng/mL", 0, 0}, {"reassess", "3 months", 0, 0}};
  advice.text = std::string(40, 'x') + " " + std::string(200, 'y') + " 西罗莫司西罗莫司西罗莫司西罗莫司西罗莫司西罗莫司西罗莫司西罗莫司西罗莫司" +
                " plain words after it, and more of them, so that the paragraph wraps several times over.";
  advice.rule = "a.rule";
  advice.defined_at = "/home/rapa/rules/a.rules:3";
  advice.grade = 'B';
  advice.grade_because = "a long reason " + std::string(100, 'r');
  advice.citations = {{"key2020", "Someone. A study.", "10.1000/" + std::string(120, 'd'), "", "1b", true}};
  c.advice.push_back(advice);
  RenderOptions options;
  options.patient = std::string(150, 'p') + ".yaml";
  options.home = "/home/rapa";
  for (bool colour : {false, true})
    for (bool doi : {false, true}) {
      options.colour = colour;
      options.doi = doi;
      const std::string text = render_text(c, options);
      check_width(text);
      CHECK((text.find('\033') != std::string::npos) == colour);
      CHECK(text.find("start 2..4 mg/day, trough 4..15 ng/mL, reassess at 3 months") != std::string::npos);
      CHECK(text.find("grade B, derived, because a long reason") != std::string::npos);
      CHECK(text.find("(rules/a.rules:3)") != std::string::npos);
      CHECK(text.find("key2020 (level 1b, derived)") != std::string::npos);
    }
  CHECK(display_width("西罗莫司") == 8);
  CHECK(display_width("µg/L") == 4);
  CHECK(display_width("\033[1mab\033[0m") == 2);
}

TEST_CASE("A consultation without advice says so", "[consult][render]") {
  Consultation empty;
  empty.rules_version = std::string(64, '0');
  const std::string text = render_text(empty, {});
  CHECK(text.find("No advice") != std::string::npos);
  CHECK(render_markdown(empty, {}).find("No advice") != std::string::npos);
}

TEST_CASE("JSON carries every item with its proof down to the patient's lines", "[consult][render][json]") {
  Consulted c(example_text(), "itp_adult.yaml");
  RenderOptions options;
  options.patient = "itp_adult.yaml";
  const auto json = nlohmann::json::parse(render_json(c.consultation, c.knowledge, c.engine, options));
  CHECK(json["patient"] == "itp_adult.yaml");
  CHECK(json["rules_version"] == c.consultation.rules_version);
  CHECK(json["critical"] == c.consultation.critical);
  CHECK(!json.contains("line"));
  REQUIRE(json["advice"].size() == c.consultation.advice.size());
  bool input_seen = false;
  for (std::size_t i = 0; i < c.consultation.advice.size(); ++i) {
    const auto& a = json["advice"][i];
    CHECK(a["number"] == i + 1);
    CHECK(a["rule"]["name"] == c.consultation.advice[i].rule);
    CHECK(a["proof"]["steps"][0]["rule"]["name"] == c.consultation.advice[i].rule);
    for (const auto& step : a["proof"]["steps"])
      for (const auto& fact : step["facts"]) {
        const std::string shown = fact["fact"];
        CHECK(shown.find('(') != std::string::npos);
        CHECK(shown.back() == ')');
        if (fact["origin"]["kind"] == "input") {
          input_seen = true;
          CHECK(fact["origin"]["file"] == "itp_adult.yaml");
          CHECK(fact["origin"]["line"] >= 1);
        }
      }
  }
  CHECK(input_seen);
  // One line for batch records, with the lines of input facts moved to the cohort's.
  options.indent = -1;
  options.cohort_line = 100;
  const std::string one_line = render_json(c.consultation, c.knowledge, c.engine, options);
  CHECK(one_line.find('\n') == one_line.size() - 1);
  const auto record = nlohmann::json::parse(one_line);
  CHECK(record["line"] == 100);
  for (const auto& a : record["advice"])
    for (const auto& step : a["proof"]["steps"])
      for (const auto& fact : step["facts"])
        if (fact["origin"]["kind"] == "input") CHECK(fact["origin"]["line"] >= 100);
}

TEST_CASE("A lab value is shown in its test's unit", "[consult][render]") {
  Consulted c(example_text());
  bool found = false;
  for (inference::FactId f : c.engine.facts()) {
    const std::string shown = describe_fact(c.knowledge, c.engine, f);
    if (shown.rfind("lab(test: platelets,", 0) == 0) {
      CHECK(shown == "lab(test: platelets, value: 14 x10^9/L)");
      found = true;
    }
  }
  CHECK(found);
}

TEST_CASE("Markdown: a heading per section and item, sources in full", "[consult][render][markdown]") {
  Consulted c(example_text());
  RenderOptions options;
  options.patient = "itp_adult.yaml";
  options.doi = true;
  const std::string md = render_markdown(c.consultation, options);
  CHECK(md.rfind("# Consultation: `itp_adult.yaml`\n", 0) == 0);
  std::size_t last = 0;
  for (const AdviceView& advice : c.consultation.advice) {
    const std::size_t at = md.find("### [" + std::to_string(advice.number) + "] ");
    INFO(advice.number);
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
    for (const CitationView& citation : advice.citations) CHECK(md.find("| `" + citation.key + "` |") != std::string::npos);
  }
  CHECK(md.find("## Sources") != std::string::npos);
  CHECK(md.find("<https://doi.org/") != std::string::npos);
  Consulted unknown(kNoMedicines);
  const std::string needs = render_markdown(unknown.consultation, options);
  CHECK(needs.find("## Needs data") != std::string::npos);
  CHECK(needs.find("| current medicines (not asked) |") != std::string::npos);
}

}  // namespace
}  // namespace rapa::consult
