// The provenance of advice as a graph, for auditors: advice, the rule firings that gave it, the
// facts those firings matched (down to the patient file and kb tables) and the sources the rules
// cite. Built from a consultation's JSON (render_json's output) so that a consultation advised
// now and one stored in the audit store months ago are traced the same way. The graph is itself
// JSON (docs/trace.schema.json); Graphviz DOT and an indented text tree are views of it.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rapa::consult {

/// The consultation is not one render_json could have written, or an advice number is not in it.
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The graph of the advice numbered `numbers` (every advice when empty), each node and edge
/// once however many of them share it, in the order a walk from the first advice meets them.
/// Nodes: advice, firing (a rule that fired), fact, source; edges: given_by (advice -> firing),
/// matched (firing -> fact), exists (firing -> a fact making an `exists` condition hold),
/// concluded_by (derived fact -> firing), cites (firing -> source).
/// Throws TraceError.
nlohmann::ordered_json provenance_graph(const nlohmann::ordered_json& consultation, const std::vector<std::size_t>& numbers);

/// The graph for Graphviz (`dot -Tsvg`): rules with file:line, facts with their origin,
/// sources with DOI and evidence level, a critical advice in red.
std::string render_provenance_dot(const nlohmann::ordered_json& graph);

/// A fact node's origin in words: "examples/p.yaml:12", "kb kb/drugs.yaml:61", "concluded" or
/// "not asked: current medicines".
std::string provenance_origin_phrase(const nlohmann::ordered_json& fact);

/// The graph as indented trees, one per advice, for a terminal: each firing with its rule,
/// bindings and citations, under it the facts it matched, under a concluded fact the firing that
/// concluded it; a firing met a second time is referred to, not repeated. `origin_phrase` tells
/// a fact's origin (the REPL names the command that typed it); empty: provenance_origin_phrase.
using OriginPhrase = std::function<std::string(const nlohmann::ordered_json& fact)>;
std::string render_provenance_text(const nlohmann::ordered_json& graph, const OriginPhrase& origin_phrase = {});

/// The formats render_provenance() knows: "text", "json" and "dot".
bool is_provenance_format(std::string_view format);
/// For messages: "text, json or dot".
inline constexpr std::string_view kProvenanceFormats = "text, json or dot";

/// The graph in `format` (is_provenance_format): "json" is the graph itself, indented.
std::string render_provenance(const nlohmann::ordered_json& graph, std::string_view format);

}  // namespace rapa::consult
