// The kb YAML loader: the bundled knowledge base, positions of diagnostics, each kind of
// mistake, and robustness against hostile input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "parser/kb/kb_loader.hpp"
#include "parser/kb/knowledge_base.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace {

using namespace rapa;
using support::DiagId;

struct Loaded {
  support::SourceManager sources;
  support::DiagnosticEngine diags;
  kb::KnowledgeBase kb;
  std::vector<support::FileId> files;

  /// "name:line:col: message" of every diagnostic, in report order.
  std::vector<std::string> messages() const {
    std::vector<std::string> result;
    for (const auto& d : diags.diagnostics()) result.push_back(where(d.range) + ": " + d.message);
    return result;
  }
  std::string where(const support::SourceRange& range) const {
    if (!range.valid()) return "<none>";
    const auto lc = sources.line_column(range.file, range.begin);
    return std::string(sources.name(range.file)) + ":" + std::to_string(lc.line) + ":" +
           std::to_string(lc.column);
  }
  std::string spelled(const support::SourceRange& range) const {
    return std::string(sources.text(range.file).substr(range.begin, range.end - range.begin));
  }
};

/// Loads buffers in order as kb files, then finishes the knowledge base.
std::unique_ptr<Loaded> load(const std::vector<std::pair<std::string, std::string>>& files) {
  auto result = std::make_unique<Loaded>();
  for (const auto& [name, text] : files) {
    const auto id = result->sources.add_buffer(name, text);
    result->files.push_back(id);
    kb::load_kb_file(result->sources, id, result->kb, result->diags);
  }
  kb::finish_kb(result->kb, result->diags);
  return result;
}

std::unique_ptr<Loaded> load(const std::string& text) { return load({{"t.yaml", text}}); }

std::unique_ptr<Loaded> load_directory(const std::filesystem::path& dir) {
  auto result = std::make_unique<Loaded>();
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".yaml") paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    const auto loaded = result->sources.load_file(path.string());
    REQUIRE_FALSE(loaded.failure);
    result->files.push_back(loaded.id);
    kb::load_kb_file(result->sources, loaded.id, result->kb, result->diags);
  }
  kb::finish_kb(result->kb, result->diags);
  return result;
}

const std::string kSource = R"(sources:
  - key: smith2020
    citation: "Smith A. A made-up case series. J Test 2020;1:1-2"
    doi: 10.1000/test.1
    design: retrospective case series
    level: "4"
    level_derived: true
)";

/// Messages must read as rapa's: lower case first (acronyms aside), no trailing period.
bool in_voice(const std::string& message) {
  if (message.empty() || message.back() == '.') return false;
  const char first = message[0];
  if (first >= 'A' && first <= 'Z') return message.size() > 1 && message[1] >= 'A' && message[1] <= 'Z';
  return true;
}

}  // namespace

TEST_CASE("evidence levels parse, spell and cap the grade", "[kb]") {
  using kb::EvidenceLevel;
  const std::vector<std::pair<std::string, char>> valid = {
      {"1a", 'A'}, {"1b", 'A'}, {"1c", 'A'}, {"2a", 'B'}, {"2b", 'B'},
      {"2c", 'B'}, {"3a", 'B'}, {"3b", 'B'}, {"4", 'C'},  {"5", 'D'}};
  for (const auto& [text, grade] : valid) {
    const auto level = EvidenceLevel::parse(text);
    REQUIRE(level);
    CHECK(level->kind == EvidenceLevel::Kind::graded);
    CHECK(level->spelling() == text);
    CHECK(level->strongest_grade() == grade);
  }
  for (const std::string text : {"label", "secondary"}) {
    const auto level = EvidenceLevel::parse(text);
    REQUIRE(level);
    CHECK(level->spelling() == text);
    CHECK(level->strongest_grade() == '\0');
  }
  for (const std::string text : {"", "6", "0", "3c", "4a", "1A", "1", "Label", "1b ", " 4", "11"})
    CHECK_FALSE(EvidenceLevel::parse(text));
}

TEST_CASE("enumerations have their kb spellings", "[kb]") {
  CHECK(kb::role_name(kb::Modulation::Role::inducer) == "inducer");
  CHECK(kb::strength_name(kb::Modulation::Strength::unclassified) == "unclassified");
  CHECK(kb::slot_type_name(kb::Slot::Type::quantity) == "quantity");
  CHECK(kb::fact_kind_name(kb::FactType::Kind::derived) == "derived");
}

TEST_CASE("the bundled knowledge base loads without a diagnostic", "[kb]") {
  const auto loaded = load_directory(std::filesystem::path(RAPA_SOURCE_DIR) / "kb");
  INFO(Catch::Detail::stringify(loaded->messages()));
  REQUIRE(loaded->diags.diagnostics().empty());
  const auto& kb = loaded->kb;

  SECTION("sources carry what KNOWLEDGE.md gives") {
    for (const auto* key : {"csh2025", "mbc2024_itp", "feng2020_itp", "rapamune_label", "uptodate_cyp3a",
                            "zhang2023_trough", "cutler2005_tma", "pidala2020_ctn1501", "gvhd_ma2015",
                            "tortorici2013_rif", "okuracar2024_peds", "li2020_cytopenia", "zhang2023_aiha",
                            "vfend_label", "sirolimus_cn_label"}) {
      INFO(key);
      const auto* source = kb.find_source(key);
      REQUIRE(source);
      CHECK_FALSE(source->citation.empty());
      CHECK_FALSE((source->doi.empty() && source->url.empty()));
      CHECK(source->level_derived == (source->level.kind == kb::EvidenceLevel::Kind::graded));
    }
    const auto* mbc = kb.find_source("mbc2024_itp");
    CHECK(mbc->doi == "10.1097/MBC.0000000000001303");
    CHECK(mbc->n == 20);
    CHECK(mbc->level.spelling() == "4");
    CHECK(kb.find_source("pidala2020_ctn1501")->level.spelling() == "1b");
    CHECK(kb.find_source("gvhd_ma2015")->level.spelling() == "1a");
    CHECK(kb.find_source("cutler2005_tma")->level.spelling() == "2b");
    CHECK(kb.find_source("rapamune_label")->level.kind == kb::EvidenceLevel::Kind::label);
    CHECK_FALSE(kb.find_source("zhang2023_trough")->n);  // "n.r." in KNOWLEDGE: left out
  }

  SECTION("drugs are found by every name, ASCII case-insensitively") {
    const auto* vori = kb.find_drug("voriconazole");
    REQUIRE(vori);
    CHECK(kb.find_drug("Vfend") == vori);
    CHECK(kb.find_drug("VFEND") == vori);
    CHECK(kb.find_drug("伏立康唑") == vori);
    CHECK(kb.find_drug("rapamycin") == kb.find_drug("sirolimus"));
    CHECK(kb.find_drug("雷帕霉素") == kb.find_drug("sirolimus"));
    CHECK(kb.find_drug("rifampin") == kb.find_drug("rifampicin"));
    CHECK_FALSE(kb.find_drug("vfend2"));
    REQUIRE(vori->cyp3a4);
    CHECK(vori->cyp3a4->role == kb::Modulation::Role::inhibitor);
    CHECK(vori->cyp3a4->strength == kb::Modulation::Strength::strong);
    CHECK(vori->cyp3a4->source == "uptodate_cyp3a");
    CHECK(kb.find_drug("fluconazole")->cyp3a4->strength == kb::Modulation::Strength::moderate);
    CHECK(kb.find_drug("rifampicin")->cyp3a4->role == kb::Modulation::Role::inducer);
    CHECK_FALSE(kb.find_drug("eltrombopag")->cyp3a4);
    for (const auto& drug : kb.drugs)
      for (const auto* m : {&drug.cyp3a4, &drug.pgp})
        if (*m) CHECK(kb.find_source((*m)->source));
    const auto names = kb.drug_names();
    CHECK(std::find(names.begin(), names.end(), "Rapamune") != names.end());
  }

  SECTION("labs have canonical units and the schema ties lab values to them") {
    const auto* platelets = kb.find_lab("platelets");
    REQUIRE(platelets);
    CHECK(platelets->unit.spelling == "x10^9/L");
    const auto* trough = kb.find_lab("sirolimus_trough");
    REQUIRE(trough);
    CHECK(support::describe(trough->unit.dimension) == "mass concentration");
    CHECK(kb.find_lab("creatinine")->unit.spelling == "umol/L");
    const auto* lab = kb.find_fact_type("lab");
    REQUIRE(lab);
    const auto* value = lab->find_slot("value");
    REQUIRE(value);
    CHECK(value->type == kb::Slot::Type::quantity);
    CHECK(value->unit_from == "test");
    CHECK(lab->find_slot("test")->vocabulary == "labs");
    const auto* patient = kb.find_fact_type("patient");
    REQUIRE(patient);
    // YAML 1.1 would read yes/no as booleans; values stay the strings written.
    CHECK(patient->find_slot("pregnant")->values == std::vector<std::string>{"yes", "no"});
    CHECK(kb.find_fact_type("cyp3a4")->kind == kb::FactType::Kind::kb);
    CHECK(kb.find_fact_type("refractory")->kind == kb::FactType::Kind::derived);
    CHECK(kb.find_diagnosis("ITP"));
  }
}

TEST_CASE("the diagnostics fixture loads without a diagnostic", "[kb]") {
  const auto loaded = load_directory(std::filesystem::path(RAPA_TEST_DIR) / "diagnostics" / "kb");
  INFO(Catch::Detail::stringify(loaded->messages()));
  CHECK(loaded->diags.diagnostics().empty());
  CHECK(loaded->kb.find_source("csh2025"));
}

TEST_CASE("columns count bytes, also after Chinese text", "[kb]") {
  // yaml-cpp's columns are byte columns of the UTF-8 input; each Chinese character is 3 bytes.
  const std::string text =
      "drugs:\n"
      "  - id: testazole\n"
      "    chinese: [测试唑, {x: 1}]\n";
  const auto loaded = load(text);
  REQUIRE(loaded->diags.diagnostics().size() == 1);
  const auto& d = loaded->diags.diagnostics()[0];
  CHECK(d.message == "field 'chinese' must be a list of strings");
  CHECK(loaded->where(d.range) == "t.yaml:3:26");  // 4 + "chinese: [" + 9 bytes + ", "
  CHECK(loaded->spelled(d.range) == "{x: 1}");
}

TEST_CASE("a byte-order mark and CRLF line ends keep positions right", "[kb]") {
  const auto bom = load("\xEF\xBB\xBF" "sorces: []\n");
  REQUIRE(bom->diags.diagnostics().size() == 1);
  CHECK(bom->spelled(bom->diags.diagnostics()[0].range) == "sorces");

  const auto crlf = load("drugs:\r\n  - id: a\r\n    brands: Testa\r\n");
  REQUIRE(crlf->diags.diagnostics().size() == 1);
  CHECK(crlf->where(crlf->diags.diagnostics()[0].range) == "t.yaml:3:13");
  CHECK(crlf->spelled(crlf->diags.diagnostics()[0].range) == "Testa");
}

TEST_CASE("a YAML syntax error is one diagnostic at its place, in rapa's voice", "[kb]") {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"sources:\n  - key: a\n\t  doi: b\n", "t.yaml:3:1: tab character in indentation; indent with spaces"},
      {"drugs:\n  - id: a\n    brands: [A, B\n  - id: b\n", "t.yaml:4:7: expected ']' to close the list"},
      {"sources:\n  - key: \"a\\q\"\n", "t.yaml:2:12: unknown escape sequence '\\q' in string"},
      {"drugs:\n  - id: *nope\n", "t.yaml:2:9: alias refers to an anchor that is not defined"},
      {"a: [1, 2]]\n", "t.yaml:1:10: unmatched closing bracket"},
      {"sources:\n  - key: a\n    citation: \"unclosed\n    doi: x\n",
       "t.yaml:3:15: missing closing double quote of string"},
      {"sources:\n  - key: 'it''s\n", "t.yaml:2:10: missing closing single quote of string"},
      {"-\n,\n", "t.yaml:2:1: unexpected ',' outside a list or mapping in brackets"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto loaded = load(c.text);
    const auto messages = loaded->messages();
    REQUIRE(messages.size() == 1);
    CHECK(messages[0] == c.expected);
    CHECK(loaded->diags.diagnostics()[0].id != DiagId::yaml_empty_document);
    CHECK(in_voice(loaded->diags.diagnostics()[0].message));
  }
}

TEST_CASE("loading goes on after an error and keeps the good entries", "[kb]") {
  const auto loaded = load(kSource + R"(  - key: Bad
    citation: x
  - key: jones2021
    citaton: "Jones B. Another. J Test 2021;2:3"
    doi: 10.1000/test.2
    design: cohort
    level: "2b"
    level_derived: false
drugs:
  - testazole
  - id: testazole
    cyp3a4: {role: blocker, strength: strong, source: smith2020}
  - id: otherazole
    cyp3a4: {role: inhibitor, strength: moderate, source: smith2020}
)");
  const auto messages = loaded->messages();
  CHECK(messages == std::vector<std::string>{
                        "t.yaml:8:10: 'Bad' is not a valid source key (expected lower-case letters, digits and '_')",
                        "t.yaml:11:5: unknown field 'citaton' in source 'jones2021'; did you mean 'citation'?",
                        "t.yaml:17:5: each entry of 'drugs' must be a mapping of fields",
                        "t.yaml:19:20: 'blocker' is not a valid role (expected inhibitor, inducer or substrate)",
                    });
  // smith2020 is whole; jones2021 lacks its citation and is dropped; both drugs are kept, the
  // first without its malformed modulation.
  CHECK(loaded->kb.find_source("smith2020"));
  CHECK_FALSE(loaded->kb.find_source("jones2021"));
  REQUIRE(loaded->kb.find_drug("testazole"));
  CHECK_FALSE(loaded->kb.find_drug("testazole")->cyp3a4);
  REQUIRE(loaded->kb.find_drug("otherazole"));
  CHECK(loaded->kb.find_drug("otherazole")->cyp3a4);
}

TEST_CASE("a definition repeated in another file points back at the first", "[kb]") {
  const auto loaded = load({{"a.yaml", kSource}, {"b.yaml", kSource}});
  REQUIRE(loaded->diags.diagnostics().size() == 1);
  const auto& d = loaded->diags.diagnostics()[0];
  CHECK(loaded->where(d.range) + ": " + d.message == "b.yaml:2:10: source 'smith2020' is defined more than once");
  REQUIRE(d.notes.size() == 1);
  CHECK(loaded->where(d.notes[0].range) == "a.yaml:2:10");
  CHECK(d.notes[0].message == "previous definition is here");
  CHECK(loaded->kb.sources.size() == 1);
}

TEST_CASE("drug modulations must cite a known source, in any file", "[kb]") {
  const std::string drugs =
      "drugs:\n"
      "  - id: testazole\n"
      "    cyp3a4: {role: inhibitor, strength: strong, source: smith2021}\n"
      "  - id: otherazole\n"
      "    pgp: {role: inhibitor, strength: weak, source: smith2020}\n";
  // The sources file comes after the drugs file: references are checked by finish_kb.
  const auto loaded = load({{"drugs.yaml", drugs}, {"sources.yaml", kSource}});
  REQUIRE(loaded->diags.diagnostics().size() == 1);
  const auto& d = loaded->diags.diagnostics()[0];
  CHECK(d.id == DiagId::unknown_source);
  CHECK(d.message == "unknown source 'smith2021'; did you mean 'smith2020'?");
  CHECK(loaded->where(d.range) == "drugs.yaml:3:57");
  REQUIRE(d.fixit);
  CHECK(d.fixit->replacement == "smith2020");
  CHECK(loaded->spelled(d.fixit->range) == "smith2021");
  CHECK_FALSE(loaded->kb.find_drug("testazole")->cyp3a4);  // dropped: it cites nothing real
  CHECK(loaded->kb.find_drug("otherazole")->pgp);
}

TEST_CASE("two drugs cannot share a name", "[kb]") {
  const auto loaded = load(
      "drugs:\n"
      "  - id: testazole\n"
      "    brands: [Testa]\n"
      "  - id: otherazole\n"
      "    aliases: [TESTA, testazole]\n");
  const auto messages = loaded->messages();
  CHECK(messages == std::vector<std::string>{
                        "t.yaml:5:15: name 'TESTA' of drug 'otherazole' is already a name of drug 'testazole'",
                        "t.yaml:5:22: name 'testazole' of drug 'otherazole' is already a name of drug 'testazole'",
                    });
  CHECK(loaded->kb.find_drug("testa")->id == "testazole");  // the first definition wins
}

TEST_CASE("a file without content is a warning", "[kb]") {
  for (const std::string text : {"", "# only a comment\n", "---\n...\n", "{}\n"}) {
    INFO(text);
    const auto loaded = load(text);
    REQUIRE(loaded->diags.diagnostics().size() == 1);
    CHECK(loaded->diags.diagnostics()[0].id == DiagId::yaml_empty_document);
    CHECK(loaded->diags.diagnostics()[0].severity == support::Severity::warning);
  }
  CHECK(load("sources: []\n")->diags.diagnostics().empty());
  CHECK(load("sources:\n")->diags.diagnostics().empty());
}

TEST_CASE("fact types: slots, vocabularies and units", "[kb]") {
  const auto loaded = load(R"(facts:
  - name: result
    kind: input
    slots:
      - {name: test, type: symbol, vocabulary: labs}
      - {name: value, type: quantity, unit_from: test}
      - {name: flag, type: symbol, values: [high, low, high]}
      - {name: dose, type: quantity, unit: "mg/dya"}
      - {name: other, type: quantity, unit_from: flag}
      - {name: test, type: text}
      - {name: note, type: text, values: [a]}
)");
  const auto messages = loaded->messages();
  CHECK(messages == std::vector<std::string>{
                        "t.yaml:7:56: value 'high' is defined more than once",
                        "t.yaml:8:48: unknown unit 'dya'",
                        "t.yaml:10:16: slot 'test' is defined more than once",
                        "t.yaml:11:34: field 'values' does not apply to a slot of type 'text'",
                        "t.yaml:9:50: 'unit_from' must name a symbol slot with 'vocabulary: labs', and slot 'flag' is not one",
                    });
  const auto* result = loaded->kb.find_fact_type("result");
  REQUIRE(result);
  std::vector<std::string> names;
  for (const auto& s : result->slots) names.push_back(s.name);
  CHECK(names == std::vector<std::string>{"test", "value", "flag", "note"});
  CHECK(result->find_slot("flag")->values == std::vector<std::string>{"high", "low"});
}

TEST_CASE("fact types: absent, key and question say what a missing fact means", "[kb]") {
  const auto loaded = load(R"(facts:
  - name: medication
    kind: input
    absent: unknown
    question: current medicines
    slots: [{name: drug, type: symbol}]
  - name: lab
    kind: input
    absent: unknown
    key: tset
    slots: [{name: test, type: symbol}]
  - name: refractory
    kind: derived
    absent: unknown
    slots: [{name: disease, type: symbol}]
  - name: infection
    kind: input
    absent: maybe
    slots: [{name: kind, type: symbol}]
)");
  CHECK(loaded->messages() == std::vector<std::string>{
                                  "t.yaml:10:10: fact type 'lab' has no slot 'tset'; did you mean 'test'?",
                                  "t.yaml:14:13: 'unknown' is not a valid absence for a derived fact type (expected none)",
                                  "t.yaml:18:13: 'maybe' is not a valid absence (expected none or unknown)",
                              });
  const auto* medication = loaded->kb.find_fact_type("medication");
  REQUIRE(medication);
  CHECK(medication->absent == kb::FactType::Absent::unknown);
  CHECK(medication->question == "current medicines");
  CHECK(medication->key.empty());
  const auto* lab = loaded->kb.find_fact_type("lab");
  REQUIRE(lab);  // kept, asked about as a whole
  CHECK(lab->absent == kb::FactType::Absent::unknown);
  CHECK(lab->key.empty());
  for (const auto* name : {"refractory", "infection"}) {
    const auto* type = loaded->kb.find_fact_type(name);
    REQUIRE(type);
    CHECK(type->absent == kb::FactType::Absent::none);
  }
}

TEST_CASE("hostile input: aliases, nesting, cycles and junk stay bounded", "[kb]") {
  SECTION("an alias explosion stops at the node budget") {
    std::string text = "x: &L\n  - &D {id: d0, brands: [";
    for (int i = 0; i < 1000; ++i) text += (i ? ", b" : "b") + std::to_string(i);
    text += "]}\n";
    for (int i = 0; i < 2000; ++i) text += "  - *D\n";
    for (int i = 0; i < 600; ++i) text += "drugs: *L\n";
    const auto loaded = load(text);
    const auto& all = loaded->diags.diagnostics();
    CHECK(std::any_of(all.begin(), all.end(),
                      [](const auto& d) { return d.id == DiagId::yaml_too_many_nodes; }));
  }
  SECTION("deep nesting is an error, not a stack overflow") {
    for (const std::string open : {"[", "{a: ", "- "}) {
      std::string text = open == "- " ? "drugs:\n" : "drugs: ";
      for (int i = 0; i < 20000; ++i) text += open;
      const auto loaded = load(text);
      REQUIRE_FALSE(loaded->diags.diagnostics().empty());
      CHECK(loaded->diags.diagnostics()[0].message == "file is nested too deeply (more than 500 levels)");
    }
  }
  SECTION("an alias inside its own anchor is not followed") {
    const auto loaded = load("drugs: &c\n  - *c\n  - {id: a, brands: &b [*b]}\nfacts: &f [{name: f, kind: input, slots: *f}]\n");
    CHECK(loaded->kb.find_drug("a"));
  }
  SECTION("random bytes never escape as an exception") {
    std::mt19937 random(20240501);
    const std::string alphabet = "-:[]{},#&*!|>'\"\\?% \n\t\rabc019_\xE4\xBC\x8F";
    for (int round = 0; round < 300; ++round) {
      std::string text;
      const auto length = random() % 200;
      for (std::size_t i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
      INFO(text);
      std::unique_ptr<Loaded> loaded;
      REQUIRE_NOTHROW(loaded = load(text));
      for (const auto& d : loaded->diags.diagnostics()) {
        CHECK(in_voice(d.message));
        CHECK(d.range.begin <= d.range.end);
        CHECK(d.range.end <= loaded->sources.text(loaded->files[0]).size());
      }
    }
  }
}
