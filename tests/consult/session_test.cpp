// The REPL session driven directly, command by command: facts change and the advice follows,
// proofs reach file:line, why-not names the failing condition, and mistakes are explained without
// ending the session. Assertions are about structure and the interaction rules, not wording.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <string>

#include "consult/session.hpp"

namespace rapa::consult {
namespace {

const std::string kHome = RAPA_SOURCE_DIR;
const std::string kPatient = kHome + "/examples/patients/itp_adult.yaml";

Session open_session() {
  support::DiagnosticEngine diags;
  auto knowledge = load_knowledge({kHome + "/rules", kHome + "/kb"}, diags);
  REQUIRE(knowledge);
  return Session(std::move(*knowledge), kHome);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The number `facts` shows for the first line mentioning `part`.
std::string fact_number(Session& session, const std::string& part) {
  const std::string listing = session.execute("facts").text;
  const auto at = listing.find(part);
  REQUIRE(at != std::string::npos);
  const auto line_start = listing.rfind('\n', at) == std::string::npos ? 0 : listing.rfind('\n', at) + 1;
  const std::string line = listing.substr(line_start, at - line_start);
  return line.substr(line.find_first_not_of(' '),
                     line.find("  ", line.find_first_not_of(' ')) - line.find_first_not_of(' '));
}

/// The consultation without its last line, which counts the firings since the patient was loaded.
std::string without_foot(const std::string& advice) { return advice.substr(0, advice.rfind("Rule base ")); }

/// The number `advise` gives the first item whose line mentions `part`.
std::string advice_number(const std::string& advice, const std::string& part) {
  std::smatch m;
  const std::regex item("\\n *\\[([0-9]+)\\] +([^\\n]*)");
  for (auto it = std::sregex_iterator(advice.begin(), advice.end(), item); it != std::sregex_iterator(); ++it)
    if (contains((*it)[2].str(), part)) return (*it)[1].str();
  return {};
}

TEST_CASE("session: a fact set at the prompt changes the advice, and retracting it undoes that",
          "[session]") {
  Session session = open_session();
  const auto loaded = session.execute("load " + kPatient);
  REQUIRE(loaded.ok);
  CHECK(contains(loaded.text, "loaded"));

  const std::string before = session.execute("advise").text;
  CHECK(contains(before, "sirolimus"));
  CHECK(!contains(before, "oriconazole"));

  const auto set = session.execute("set medication(drug: Vfend, status: active)");
  INFO(set.text);
  REQUIRE(set.ok);
  CHECK(contains(set.text, "added 13  medication(drug: voriconazole, status: active)"));  // brand -> drug
  CHECK(contains(set.text, "\n  + warn critical  (ddi.voriconazole)\n"));  // what changed, at once
  CHECK(contains(set.text, "\n  - recommend sirolimus  (itp.adult.sirolimus)\n"));
  const std::string with = session.execute("advise").text;
  CHECK(contains(with, "oriconazole"));
  CHECK(contains(with, "critical"));

  const std::string number = fact_number(session, "voriconazole");
  const auto retracted = session.execute("retract " + number);
  REQUIRE(retracted.ok);
  // The same advice as before; only the count of firings at the foot grows.
  CHECK(without_foot(session.execute("advise").text) == without_foot(before));
  CHECK(!session.execute("retract " + number).ok);  // gone: its number means nothing now
}

TEST_CASE("session: facts are numbered with their origin, and change replaces one slot", "[session]") {
  Session session = open_session();
  REQUIRE(session.execute("load " + kPatient).ok);
  const std::string listing = session.execute("facts").text;
  CHECK(contains(listing, "examples/patients/itp_adult.yaml:"));
  CHECK(contains(listing, "=> "));  // conclusions are listed, marked

  const std::string platelets = fact_number(session, "platelets");
  const auto changed = session.execute("change " + platelets + " value: 80 x10^9/L");
  INFO(changed.text);
  REQUIRE(changed.ok);
  CHECK(contains(changed.text, "80"));
  const std::string after = session.execute("facts").text;
  CHECK(contains(after, "80 x10^9/L"));
  CHECK(contains(after, "(typed: change " + platelets + " value: 80 x10^9/L)"));
  CHECK(fact_number(session, "platelets") == platelets);  // the number stays with the fact

  // The same value again: nothing to change.
  CHECK(contains(session.execute("change " + platelets + " value: 80 x10^9/L").text, "unchanged 7"));
  // A change that does not parse changes nothing.
  const auto bad = session.execute("change " + platelets + " value: 80 kg");
  CHECK(!bad.ok);
  CHECK(contains(session.execute("facts").text, "80 x10^9/L"));
}

TEST_CASE("session: why shows rules with file:line, input facts with file:line, and citations", "[session]") {
  Session session = open_session();
  REQUIRE(session.execute("load " + kPatient).ok);
  const std::string advice = session.execute("advise").text;
  INFO(advice);
  const std::string recommendation = advice_number(advice, "sirolimus");
  REQUIRE(!recommendation.empty());
  const auto why = session.execute("why " + recommendation);
  INFO(why.text);
  REQUIRE(why.ok);
  CHECK(std::regex_search(
      why.text, std::regex("^advice [0-9]+: recommend sirolimus  \\(grade [A-D]\\)\n")));
  CHECK(std::regex_search(why.text, std::regex("\n  rule itp\\.adult\\.sirolimus  ")));
  CHECK(std::regex_search(why.text, std::regex("\n  rule [a-z_.]+  \".*\"  rules/[a-z_]+\\.rules:[0-9]+\n")));
  CHECK(std::regex_search(why.text, std::regex("cites [a-z0-9_]+ \\(level [1-5][abc]?.*\\)  doi:10\\.")));
  CHECK(std::regex_search(
      why.text, std::regex("fact diagnosis\\(code: ITP.*\\(examples/patients/itp_adult\\.yaml:[0-9]+\\)")));
  // A concluded fact is explained by the rule that concluded it, indented under it.
  CHECK(std::regex_search(why.text, std::regex("\n    fact [a-z_]+\\(.*\\(concluded\\)\n      rule ")));

  REQUIRE(session.execute("set medication(drug: voriconazole, status: active)").ok);
  const std::string with = session.execute("advise").text;
  const std::string critical = advice_number(with, "critical");
  REQUIRE(!critical.empty());
  const std::string proof = session.execute("why " + critical).text;
  INFO(proof);
  CHECK(std::regex_search(proof,
                          std::regex("\n  rule ddi\\.voriconazole .*rules/interactions\\.rules:[0-9]+")));
  CHECK(std::regex_search(proof, std::regex("fact medication\\(drug: voriconazole.*\\(typed: set "
                                            "medication\\(drug: voriconazole, status: active\\)\\)")));
  CHECK(std::regex_search(proof, std::regex("cites rapamune_label \\(level label\\)")));

  CHECK(!session.execute("why 999").ok);
  CHECK(!session.execute("why x").ok);
}

TEST_CASE("session: whynot names the first failing condition and the facts tried", "[session]") {
  Session session = open_session();
  REQUIRE(session.execute("load " + kPatient).ok);
  const auto whynot = session.execute("whynot ddi.voriconazole");
  INFO(whynot.text);
  REQUIRE(whynot.ok);
  CHECK(contains(whynot.text, "rules/interactions.rules:"));
  CHECK(contains(whynot.text, "no match for condition"));
  CHECK(contains(whynot.text, "medication(drug: voriconazole"));
  CHECK(contains(whynot.text, "tried medication(drug: eltrombopag"));

  REQUIRE(session.execute("set medication(drug: voriconazole, status: active)").ok);
  CHECK(contains(session.execute("whynot ddi.voriconazole").text, "it fired"));

  const auto misspelt = session.execute("whynot ddi.voriconazol");
  CHECK(!misspelt.ok);
  CHECK(contains(misspelt.text, "did you mean 'ddi.voriconazole'?"));
}

TEST_CASE("session: sources, rules and help", "[session]") {
  Session session = open_session();
  const auto source = session.execute("sources rapamune_label");
  REQUIRE(source.ok);
  CHECK(contains(source.text, "level:  label"));
  CHECK(contains(session.execute("sources rapamune_labl").text, "did you mean 'rapamune_label'?"));
  const auto rules = session.execute("rules ddi.vori");
  REQUIRE(rules.ok);
  CHECK(contains(rules.text, "ddi.voriconazole  Voriconazole with sirolimus"));
  CHECK(!contains(rules.text, "ddi.cyp3a4"));
  CHECK(contains(session.execute("help").text, "whynot RULE"));
  CHECK(contains(session.execute("help why").text, "why N"));
  CHECK(session.execute("quit").quit);
}

TEST_CASE("session: bad commands and bad facts are explained and the session goes on", "[session]") {
  Session session = open_session();
  REQUIRE(session.execute("load " + kPatient).ok);
  const auto unknown = session.execute("advice");
  CHECK(!unknown.ok);
  CHECK(!unknown.quit);
  CHECK(contains(unknown.text, "unknown command 'advice'; did you mean 'advise'?"));

  const auto drug = session.execute("set medication(drug: voriconazol, status: active)");
  INFO(drug.text);
  CHECK(!drug.ok);
  CHECK(contains(drug.text, "error: unknown drug 'voriconazol'"));
  // The caret sits under the word as typed at the prompt.
  CHECK(
      contains(drug.text,
               "  set medication(drug: voriconazol, status: active)\n                       ^~~~~~~~~~~\n"));

  CHECK(!session.execute("set medication(drug: sirolimus, dose: 2 kg)").ok);  // wrong dimension
  CHECK(!session.execute("set medicaton(drug: sirolimus)").ok);
  CHECK(!session.execute("set medication drug: sirolimus").ok);
  CHECK(!session.execute("retract 0").ok);
  CHECK(!session.execute("load /no/such/file.yaml").ok);
  CHECK(contains(session.execute("facts").text, "itp_adult.yaml"));  // the failed load changed nothing
  CHECK(session.execute("advise").ok);
  CHECK(session.execute("   ").text.empty());
  CHECK(session.execute("# a comment").text.empty());
}

TEST_CASE("session: completion by context", "[session]") {
  Session session = open_session();
  auto has = [](const std::vector<std::string>& words, const std::string& w) {
    return std::find(words.begin(), words.end(), w) != words.end();
  };
  CHECK(session.complete("wh") == std::vector<std::string>{"why", "whynot"});
  CHECK(has(session.complete("set med"), "medication("));
  CHECK(has(session.complete("set medication(dr"), "drug: "));
  CHECK(has(session.complete("set medication(drug: vori"), "voriconazole"));
  CHECK(has(session.complete("set medication(drug: voriconazole, st"), "status: "));
  CHECK(has(session.complete("set medication(drug: voriconazole, status: act"), "active"));
  CHECK(has(session.complete("set lab(test: plat"), "platelets"));
  CHECK(has(session.complete("whynot ddi.vori"), "ddi.voriconazole"));
  CHECK(has(session.complete("sources rapamune"), "rapamune_label"));
  CHECK(has(session.complete("help wh"), "whynot"));
  CHECK(session.complete("advise x").empty());
}

}  // namespace
}  // namespace rapa::consult
