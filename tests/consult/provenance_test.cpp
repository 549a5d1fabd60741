// The provenance graph drawn from a consultation's JSON: nodes and edges each once, the edges a
// proof implies, tolerance of records stored before tracing and refusal of what is not a
// consultation, DOT that Graphviz can read whatever the texts hold. End to end through the
// command (schema, Graphviz, audit records): tests/tools/trace_cli.py.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "consult/provenance.hpp"

namespace rapa::consult {
namespace {

using nlohmann::ordered_json;

/// Two advice of one consultation. Advice 1 (firing 4) matched fact 10, concluded by firing 2,
/// which matched input fact 7; advice 2 (firing 5) matched fact 7 too and cites what advice 1
/// cites.
ordered_json consultation() {
  return ordered_json::parse(R"json({
    "patient": "p.yaml", "rules_version": "abc", "critical": false, "fired": 3, "needs_data": [],
    "advice": [
      {"number": 1, "kind": "recommend", "subject": "sirolimus", "severity": null, "details": [],
       "text": "Start at 2 mg/day.", "rule": {"name": "r.recommend", "title": "T", "defined_at": "rules/a.rules:3"},
       "grade": {"letter": "C", "derived": true, "because": null},
       "citations": [{"key": "study", "citation": "A study.", "doi": "10.1/x", "url": null, "level": "4", "level_derived": true}],
       "proof": {
         "steps": [
           {"firing": 4, "rule": {"name": "r.recommend", "title": "T", "defined_at": "rules/a.rules:3"},
            "cites": ["study"], "bindings": {"d": "sirolimus"},
            "facts": [{"id": 10, "fact": "candidate(drug: sirolimus)", "origin": {"kind": "derived", "concluded_by": [2]}}],
            "witnesses": []},
           {"firing": 2, "rule": {"name": "r.candidate", "title": "C", "defined_at": "rules/a.rules:9"},
            "cites": ["label"], "bindings": {},
            "facts": [{"id": 7, "fact": "diagnosis(code: ITP)", "origin": {"kind": "input", "file": "p.yaml", "line": 4}}],
            "witnesses": []}
         ],
         "citations": ["study", "label"],
         "sources": [{"key": "label", "citation": "The label.", "doi": null, "url": "https://example.org/label", "level": "label", "level_derived": false}]
       }},
      {"number": 2, "kind": "warn", "subject": null, "severity": "critical", "details": [],
       "text": "Say \"no\" \\ twice\nplease.", "rule": {"name": "r.warn", "title": "W", "defined_at": "rules/b.rules:1"},
       "grade": null,
       "citations": [{"key": "study", "citation": "A study.", "doi": "10.1/x", "url": null, "level": "4", "level_derived": true}],
       "proof": {
         "steps": [
           {"firing": 5, "rule": {"name": "r.warn", "title": "W", "defined_at": "rules/b.rules:1"},
            "cites": ["study"], "bindings": {},
            "facts": [{"id": 7, "fact": "diagnosis(code: ITP)", "origin": {"kind": "input", "file": "p.yaml", "line": 4}}],
            "witnesses": []}
         ],
         "citations": ["study"], "sources": []
       }}
    ]})json");
}

bool has_edge(const ordered_json& graph, const std::string& from, const std::string& to, const std::string& relation) {
  const auto& edges = graph.at("edges");
  return std::any_of(edges.begin(), edges.end(), [&](const ordered_json& e) {
    return e["from"] == from && e["to"] == to && e["relation"] == relation;
  });
}

const ordered_json* node(const ordered_json& graph, const std::string& id) {
  for (const ordered_json& n : graph.at("nodes"))
    if (n["id"] == id) return &n;
  return nullptr;
}

TEST_CASE("The graph has each node once and the edges the proofs imply", "[provenance]") {
  const ordered_json graph = provenance_graph(consultation(), {});
  CHECK(graph["advice"] == ordered_json::array({1, 2}));
  CHECK(graph["nodes"].size() == 9);  // 2 advice, 3 firings, 2 facts, 2 sources
  CHECK(has_edge(graph, "advice:1", "firing:4", "given_by"));
  CHECK(has_edge(graph, "firing:4", "fact:10", "matched"));
  CHECK(has_edge(graph, "fact:10", "firing:2", "concluded_by"));
  CHECK(has_edge(graph, "firing:2", "fact:7", "matched"));
  CHECK(has_edge(graph, "firing:5", "fact:7", "matched"));  // shared by both advice, one node
  CHECK(has_edge(graph, "firing:2", "source:label", "cites"));
  // A source known only from a proof's sources, and one known from an advice's citations.
  REQUIRE(node(graph, "source:label"));
  CHECK((*node(graph, "source:label"))["url"] == "https://example.org/label");
  CHECK((*node(graph, "source:study"))["level"] == "4");
  CHECK((*node(graph, "advice:2"))["critical"] == true);
  CHECK((*node(graph, "firing:4"))["bindings"]["d"] == "sirolimus");
}

TEST_CASE("Tracing one advice keeps only what it rests on", "[provenance]") {
  const ordered_json graph = provenance_graph(consultation(), {2});
  CHECK(graph["nodes"].size() == 4);  // advice 2, firing 5, fact 7, source study
  CHECK(node(graph, "firing:4") == nullptr);
}

TEST_CASE("A record stored before tracing is traced as far as it goes", "[provenance]") {
  ordered_json old = consultation();
  for (ordered_json& advice : old["advice"]) {
    advice["proof"].erase("sources");
    for (ordered_json& step : advice["proof"]["steps"]) {
      for (const char* key : {"firing", "cites", "bindings", "witnesses"}) step.erase(key);
      for (ordered_json& fact : step["facts"]) fact["origin"].erase("concluded_by");
    }
  }
  const ordered_json graph = provenance_graph(old, {1});
  CHECK(has_edge(graph, "advice:1", "firing:1.1", "given_by"));
  CHECK(has_edge(graph, "firing:1.2", "fact:7", "matched"));
  // Without per-step citations the advice's own stand for its first step.
  CHECK(has_edge(graph, "firing:1.1", "source:study", "cites"));
  CHECK_FALSE(has_edge(graph, "fact:10", "firing:1.2", "concluded_by"));
}

TEST_CASE("What is not a consultation is refused with a reason, never a crash", "[provenance]") {
  CHECK_THROWS_AS(provenance_graph(ordered_json::array(), {}), TraceError);
  CHECK_THROWS_AS(provenance_graph(ordered_json::parse(R"({"advice": 7})"), {}), TraceError);
  CHECK_THROWS_WITH(provenance_graph(consultation(), {3}),
                    Catch::Contains("no advice numbered 3") && Catch::Contains("1 to 2"));
  CHECK_THROWS_WITH(provenance_graph(ordered_json::parse(R"({"advice": []})"), {1}), Catch::Contains("gave none"));
  ordered_json broken = consultation();
  broken["advice"][0].erase("proof");
  CHECK_THROWS_WITH(provenance_graph(broken, {1}), Catch::Contains("advice 1") && Catch::Contains("proof"));
  broken = consultation();
  broken["advice"][0]["proof"]["steps"] = ordered_json::array();
  CHECK_THROWS_AS(provenance_graph(broken, {1}), TraceError);
  broken = consultation();
  broken["advice"][0]["proof"]["steps"][1] = 42;
  CHECK_THROWS_AS(provenance_graph(broken, {1}), TraceError);
  // Wrong types where strings or objects belong are read as absent.
  broken = consultation();
  broken["advice"][0]["proof"]["steps"][0]["rule"] = "not an object";
  broken["advice"][0]["proof"]["steps"][0]["facts"] = ordered_json::array({1, "x", ordered_json::object()});
  CHECK_NOTHROW(render_provenance_dot(provenance_graph(broken, {})));
  // Fields of the wrong type anywhere: a TraceError, or a graph every view can render.
  broken = consultation();
  broken["advice"][0]["proof"]["steps"][0]["facts"][0]["origin"] = "derived";
  broken["advice"][0]["proof"]["steps"][0]["bindings"] = ordered_json::array({1, 2});
  broken["advice"][1]["proof"]["steps"][0]["facts"][0]["origin"]["concluded_by"] = "x";
  for (const char* format : {"text", "json", "dot"}) CHECK_NOTHROW(render_provenance(provenance_graph(broken, {}), format));
  broken = consultation();
  broken["advice"][1] = "not an advice";
  CHECK_THROWS_AS(provenance_graph(broken, {}), TraceError);
  broken = consultation();
  broken["advice"][0]["number"] = "one";
  CHECK_THROWS_AS(provenance_graph(broken, {}), TraceError);
}

TEST_CASE("DOT escapes quotes, backslashes and line breaks of any text", "[provenance]") {
  const std::string dot = render_provenance_dot(provenance_graph(consultation(), {2}));
  CHECK(dot.find(R"(Say \"no\" \\ twice please.)") != std::string::npos);
  // Every line is a statement, a brace or a comment: no label spills over a line.
  std::size_t start = 0;
  while (start < dot.size()) {
    const std::size_t end = dot.find('\n', start);
    const std::string line = dot.substr(start, end - start);
    const bool ok = line.rfind("//", 0) == 0 || line == "digraph provenance {" || line == "}" ||
                    (line.size() > 2 && line.back() == ';');
    INFO("line: " << line);
    CHECK(ok);
    start = end + 1;
  }
  CHECK(dot.find("color=red") != std::string::npos);  // advice 2 is critical
}

TEST_CASE("The text tree refers to a firing met twice instead of repeating it", "[provenance]") {
  ordered_json twice = consultation();
  // Firing 2 concludes the fact advice 1 matched, and advice 1's firing also matched firing 2's
  // conclusion a second time through another fact.
  twice["advice"][0]["proof"]["steps"][0]["facts"].push_back(
      ordered_json::parse(R"json({"id": 11, "fact": "other(x: 1)", "origin": {"kind": "derived", "concluded_by": [2]}})json"));
  const std::string text = render_provenance_text(provenance_graph(twice, {1}));
  CHECK(text.find("rule r.candidate  \"C\"  rules/a.rules:9") != std::string::npos);
  CHECK(text.find("rule r.candidate (shown above)") != std::string::npos);
  CHECK(text.find("with d = sirolimus") != std::string::npos);
  CHECK(text.find("cites study (level 4, derived)  doi:10.1/x") != std::string::npos);
  CHECK(text.find("fact diagnosis(code: ITP)  (p.yaml:4)") != std::string::npos);
}

}  // namespace
}  // namespace rapa::consult
