// The provenance graph of advice and its two views. Everything here reads the consultation JSON
// (docs/advice.schema.json), never the engine: a record stored by an older rapa lacks the proof
// fields added for tracing (firing ids, concluded_by, bindings, full sources), so each of them is
// optional here and the graph is as complete as the record allows.
#include "consult/provenance.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

namespace rapa::consult {

namespace {

// Ordered throughout: bindings and origins keep the order the consultation gave them.
using json = nlohmann::ordered_json;
using nlohmann::ordered_json;

std::string text_of(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ordered_json string_or_null(const std::string& text) { return text.empty() ? ordered_json(nullptr) : ordered_json(text); }

const json& member(const json& object, const char* key, json::value_t type, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || it->type() != type)
    throw TraceError(fmt::format("{}: no '{}' {} (not a consultation as `rapa advise --format json` writes it)", where,
                                 key, type == json::value_t::array ? "list" : "object"));
  return *it;
}

class GraphBuilder {
 public:
  explicit GraphBuilder(const json& consultation) {
    // Full descriptions of sources, from every advice's citations and every proof's sources:
    // a source node shows what the record knows of it, whichever advice is traced.
    for (const json& advice : consultation.at("advice")) {
      collect_sources(advice.value("citations", json::array()));
      if (advice.contains("proof") && advice["proof"].is_object())
        collect_sources(advice["proof"].value("sources", json::array()));
    }
  }

  void add_advice(const json& advice) {
    const std::size_t number = advice.value("number", std::size_t{0});
    const std::string where = fmt::format("advice {}", number);
    const std::string id = fmt::format("advice:{}", number);
    const json& proof = member(advice, "proof", json::value_t::object, where);
    const json& steps = member(proof, "steps", json::value_t::array, where + " proof");
    if (steps.empty()) throw TraceError(where + ": its proof has no step");

    ordered_json node = start_node(id, "advice");
    node["number"] = number;
    node["kind"] = text_of(advice, "kind");
    node["subject"] = advice.value("subject", json(nullptr));
    node["severity"] = advice.value("severity", json(nullptr));
    node["text"] = text_of(advice, "text");
    const json grade = advice.value("grade", json(nullptr));
    node["grade"] = grade.is_object() ? ordered_json(text_of(grade, "letter")) : ordered_json(nullptr);
    node["critical"] = node["kind"] == "contraindicate" || node["severity"] == "critical";
    add_node(id, std::move(node));

    // Step ids first: a derived fact may be concluded by a step listed after it.
    std::vector<std::string> step_ids;
    std::set<std::string> in_proof;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const json& step = steps[i];
      step_ids.push_back(step.contains("firing") && step["firing"].is_number_unsigned()
                             ? fmt::format("firing:{}", step["firing"].get<std::uint64_t>())
                             : fmt::format("firing:{}.{}", number, i + 1));  // a record without firing ids
      in_proof.insert(step_ids.back());
    }
    add_edge(id, step_ids.front(), "given_by");
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (!steps[i].is_object()) throw TraceError(fmt::format("{} proof step {}: not an object", where, i + 1));
      add_step(steps[i], step_ids[i], in_proof, i == 0 ? &advice : nullptr);
    }
  }

  ordered_json take(const json& consultation, const std::vector<std::size_t>& numbers) {
    ordered_json graph;
    graph["patient"] = text_of(consultation, "patient");
    graph["rules_version"] = text_of(consultation, "rules_version");
    graph["advice"] = numbers;
    graph["nodes"] = std::move(nodes_);
    graph["edges"] = std::move(edges_);
    return graph;
  }

 private:
  void collect_sources(const json& citations) {
    if (!citations.is_array()) return;
    for (const json& c : citations)
      if (c.is_object() && c.contains("key") && c["key"].is_string()) sources_.emplace(c["key"].get<std::string>(), c);
  }

  static ordered_json start_node(const std::string& id, const char* kind) {
    ordered_json node;
    node["id"] = id;
    node["node"] = kind;
    return node;
  }

  /// False when the node was already there (the first description stands).
  bool add_node(const std::string& id, ordered_json node) {
    if (!node_ids_.insert(id).second) return false;
    nodes_.push_back(std::move(node));
    return true;
  }

  void add_edge(const std::string& from, const std::string& to, const char* relation) {
    if (!edge_keys_.emplace(from, to, relation).second) return;
    edges_.push_back({{"from", from}, {"to", to}, {"relation", relation}});
  }

  void add_step(const json& step, const std::string& id, const std::set<std::string>& in_proof, const json* advice) {
    const json rule = step.value("rule", json::object());
    ordered_json node = start_node(id, "firing");
    node["firing"] = step.value("firing", json(nullptr));
    node["rule"] = text_of(rule, "name");
    node["title"] = text_of(rule, "title");
    node["defined_at"] = text_of(rule, "defined_at");
    const json bindings = step.value("bindings", json::object());
    node["bindings"] = bindings.is_object() ? bindings : json::object();
    if (!add_node(id, std::move(node))) return;  // traced already, from another advice

    add_facts(id, step.value("facts", json::array()), "matched", in_proof);
    add_facts(id, step.value("witnesses", json::array()), "exists", in_proof);
    // A record without per-step citations still has the advice's own: its first step's.
    json cites = step.value("cites", json(nullptr));
    if (!cites.is_array() && advice) {
      cites = json::array();
      for (const json& c : advice->value("citations", json::array()))
        if (c.is_object() && c.contains("key")) cites.push_back(c["key"]);
    }
    if (!cites.is_array()) return;
    for (const json& key : cites) {
      if (!key.is_string()) continue;
      add_source(key.get<std::string>());
      add_edge(id, "source:" + key.get<std::string>(), "cites");
    }
  }

  void add_facts(const std::string& firing, const json& facts, const char* relation,
                 const std::set<std::string>& in_proof) {
    if (!facts.is_array()) return;
    for (const json& fact : facts) {
      if (!fact.is_object() || !fact.contains("id")) continue;
      const std::string fact_id = fmt::format("fact:{}", fact["id"].dump());
      json origin = fact.value("origin", json::object());
      if (!origin.is_object()) origin = json::object();
      ordered_json f = start_node(fact_id, "fact");
      f["fact_id"] = fact["id"];
      f["fact"] = text_of(fact, "fact");
      f["origin"] = origin;
      add_node(fact_id, std::move(f));
      add_edge(firing, fact_id, relation);
      const json by_firings = origin.value("concluded_by", json::array());
      if (!by_firings.is_array()) continue;
      for (const json& by : by_firings) {
        const std::string support = fmt::format("firing:{}", by.dump());
        if (in_proof.count(support)) add_edge(fact_id, support, "concluded_by");
      }
    }
  }

  void add_source(const std::string& key) {
    const std::string id = "source:" + key;
    if (node_ids_.count(id)) return;
    const auto known = sources_.find(key);
    const json info = known != sources_.end() ? known->second : json::object();
    ordered_json node = start_node(id, "source");
    node["key"] = key;
    for (const char* field : {"citation", "doi", "url", "level"}) node[field] = string_or_null(text_of(info, field));
    node["level_derived"] = info.value("level_derived", false);
    add_node(id, std::move(node));
  }

  std::map<std::string, json> sources_;
  ordered_json nodes_ = ordered_json::array(), edges_ = ordered_json::array();
  std::set<std::string> node_ids_;
  std::set<std::tuple<std::string, std::string, std::string>> edge_keys_;
};

// --- Views -------------------------------------------------------------------------------------

/// A node's graph as views read it: nodes by id, and each node's outgoing edges in order.
struct GraphIndex {
  std::map<std::string, const ordered_json*> nodes;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;  // to, relation

  explicit GraphIndex(const ordered_json& graph) {
    for (const ordered_json& node : graph.at("nodes")) nodes[node.at("id").get<std::string>()] = &node;
    for (const ordered_json& edge : graph.at("edges"))
      out[edge.at("from").get<std::string>()].emplace_back(edge.at("to").get<std::string>(),
                                                           edge.at("relation").get<std::string>());
  }

  std::vector<std::string> targets(const std::string& from, std::string_view relation) const {
    std::vector<std::string> result;
    const auto it = out.find(from);
    if (it == out.end()) return result;
    for (const auto& [to, r] : it->second)
      if (r == relation && nodes.count(to)) result.push_back(to);
    return result;
  }
};

}  // namespace

std::string provenance_origin_phrase(const ordered_json& fact) {
  const ordered_json origin = fact.value("origin", ordered_json::object());
  const std::string kind = text_of(origin, "kind");
  std::string where = text_of(origin, "file");
  if (!where.empty() && origin.contains("line")) where += ":" + origin["line"].dump();
  if (kind == "derived") return "concluded";
  if (kind == "placeholder") return "not asked: " + text_of(origin, "question");
  if (kind == "kb") return where.empty() ? "kb" : "kb " + where;
  return where.empty() ? "input" : where;
}

namespace {

std::string level_phrase(const ordered_json& source) {
  const std::string level = text_of(source, "level");
  if (level.empty()) return "level not recorded";
  return "level " + level + (source.value("level_derived", false) ? ", derived" : "");
}

std::string link(const ordered_json& source) {
  if (const std::string doi = text_of(source, "doi"); !doi.empty()) return "doi:" + doi;
  return text_of(source, "url");
}

std::string advice_heading(const ordered_json& advice) {
  std::string heading = fmt::format("advice {}: {}", advice.value("number", 0), text_of(advice, "kind"));
  if (const std::string severity = text_of(advice, "severity"); !severity.empty()) heading += " " + severity;
  if (const std::string subject = text_of(advice, "subject"); !subject.empty()) heading += " " + subject;
  const std::string grade = text_of(advice, "grade");
  return heading + (grade.empty() ? "  (not graded)" : "  (grade " + grade + ")");
}

std::string bindings_phrase(const ordered_json& firing) {
  std::string out;
  const ordered_json bindings = firing.value("bindings", ordered_json::object());
  for (const auto& [name, value] : bindings.items())
    out += (out.empty() ? "" : ", ") + name + " = " + (value.is_string() ? value.get<std::string>() : value.dump());
  return out;
}

/// Words of `text` in lines of at most `width` bytes (a longer word gets a line of its own).
std::vector<std::string> wrap(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    if (!word.empty()) line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

/// A DOT double-quoted string: quotes and backslashes escaped, lines joined by \n (centred).
std::string dot_quoted(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\\n";
    for (char c : lines[i]) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n' || c == '\r') {
        out += ' ';
        continue;
      }
      out += c;
    }
  }
  return out + "\"";
}

std::string dot_quoted(const std::string& text) { return dot_quoted(std::vector<std::string>{text}); }

void append(std::vector<std::string>& lines, const std::vector<std::string>& more) {
  lines.insert(lines.end(), more.begin(), more.end());
}

constexpr std::size_t kDotWidth = 48;

std::string dot_node(const ordered_json& node) {
  const std::string kind = text_of(node, "node");
  std::vector<std::string> label;
  std::string attributes;
  if (kind == "advice") {
    label.push_back(advice_heading(node));
    append(label, wrap(text_of(node, "text"), kDotWidth));
    attributes = node.value("critical", false) ? "shape=box, style=\"rounded,bold\", color=red, fontcolor=red"
                                               : "shape=box, style=\"rounded,bold\"";
  } else if (kind == "firing") {
    label.push_back("rule " + text_of(node, "rule"));
    label.push_back(text_of(node, "defined_at"));
    if (const std::string b = bindings_phrase(node); !b.empty()) append(label, wrap(b, kDotWidth));
    attributes = "shape=box, style=filled, fillcolor=\"#eef3fb\"";
  } else if (kind == "fact") {
    append(label, wrap(text_of(node, "fact"), kDotWidth));
    label.push_back(provenance_origin_phrase(node));
    const std::string origin = text_of(node.value("origin", ordered_json::object()), "kind");
    attributes = origin == "placeholder" ? "shape=ellipse, style=dashed"
                 : origin == "derived"   ? "shape=ellipse"
                                         : "shape=ellipse, style=filled, fillcolor=\"#f4f4f4\"";
  } else {
    label.push_back(text_of(node, "key"));
    label.push_back(level_phrase(node));
    if (const std::string l = link(node); !l.empty()) label.push_back(l);
    attributes = "shape=note";
    const std::string doi = text_of(node, "doi"), url = text_of(node, "url");
    if (!doi.empty() || !url.empty())
      attributes += ", URL=" + dot_quoted(!doi.empty() ? "https://doi.org/" + doi : url);
  }
  return fmt::format("  {} [{}, label={}];\n", dot_quoted(text_of(node, "id")), attributes, dot_quoted(label));
}

ordered_json build_graph(const json& consultation, const std::vector<std::size_t>& numbers);

}  // namespace

ordered_json provenance_graph(const json& consultation, const std::vector<std::size_t>& numbers) {
  try {
    return build_graph(consultation, numbers);
  } catch (const nlohmann::json::exception& e) {
    // A field of an unexpected type somewhere in a stored record: say so rather than guess.
    throw TraceError(std::string("not a consultation as `rapa advise --format json` writes it: ") + e.what());
  }
}

namespace {

ordered_json build_graph(const json& consultation, const std::vector<std::size_t>& numbers) {
  if (!consultation.is_object()) throw TraceError("not a consultation: expected a JSON object");
  const json& advice = member(consultation, "advice", json::value_t::array, "the consultation");
  std::vector<std::size_t> chosen = numbers;
  if (chosen.empty())
    for (const json& a : advice) chosen.push_back(a.value("number", std::size_t{0}));
  GraphBuilder builder(consultation);
  for (std::size_t number : chosen) {
    const auto it = std::find_if(advice.begin(), advice.end(), [&](const json& a) {
      return a.is_object() && a.value("number", std::size_t{0}) == number;
    });
    if (it == advice.end())
      throw TraceError(advice.empty() ? fmt::format("no advice numbered {}: the consultation gave none", number)
                                      : fmt::format("no advice numbered {}: the consultation numbers them 1 to {}",
                                                    number, advice.size()));
    builder.add_advice(*it);
  }
  return builder.take(consultation, chosen);
}

}  // namespace

std::string render_provenance_dot(const ordered_json& graph) {
  std::string out =
      "// The provenance of rapa advice: advice, the rules that fired, the facts they matched, the sources.\n"
      "// Render with Graphviz: dot -Tsvg proof.dot -o proof.svg\n"
      "digraph provenance {\n"
      "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=10, label=" +
      dot_quoted(std::vector<std::string>{"patient " + text_of(graph, "patient"),
                                          "rule base " + text_of(graph, "rules_version").substr(0, 12)}) +
      ", labelloc=t];\n"
      "  node [fontname=\"Helvetica\", fontsize=10];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n";
  for (const ordered_json& node : graph.at("nodes")) out += dot_node(node);
  for (const ordered_json& edge : graph.at("edges")) {
    std::string relation = text_of(edge, "relation");
    std::replace(relation.begin(), relation.end(), '_', ' ');
    out += fmt::format("  {} -> {} [label={}];\n", dot_quoted(text_of(edge, "from")), dot_quoted(text_of(edge, "to")),
                       dot_quoted(relation));
  }
  return out + "}\n";
}

std::string render_provenance_text(const ordered_json& graph, const OriginPhrase& origin_phrase) {
  const OriginPhrase& phrase = origin_phrase ? origin_phrase : OriginPhrase(provenance_origin_phrase);
  const GraphIndex index(graph);
  std::string out;
  for (const ordered_json& number : graph.at("advice")) {
    const auto advice = index.nodes.find(fmt::format("advice:{}", number.dump()));
    if (advice == index.nodes.end()) continue;
    const ordered_json& a = *advice->second;
    out += (out.empty() ? "" : "\n") + advice_heading(a) + "\n";
    for (const std::string& line : wrap(text_of(a, "text"), 76)) out += "  " + line + "\n";
    std::set<std::string> shown;
    // Depth first, each firing once per advice: a conclusion used twice is explained where it
    // first appears.
    auto explain = [&](auto&& self, const std::string& id, std::size_t depth) -> void {
      const std::string indent(depth * 2, ' ');
      const ordered_json& firing = *index.nodes.at(id);
      if (!shown.insert(id).second) {
        out += fmt::format("{}rule {} (shown above)\n", indent, text_of(firing, "rule"));
        return;
      }
      out += fmt::format("{}rule {}  \"{}\"  {}\n", indent, text_of(firing, "rule"), text_of(firing, "title"),
                         text_of(firing, "defined_at"));
      if (const std::string b = bindings_phrase(firing); !b.empty()) out += fmt::format("{}  with {}\n", indent, b);
      for (const std::string& source_id : index.targets(id, "cites")) {
        const ordered_json& source = *index.nodes.at(source_id);
        const std::string l = link(source);
        out += fmt::format("{}  cites {} ({}){}\n", indent, text_of(source, "key"), level_phrase(source),
                           l.empty() ? "" : "  " + l);
      }
      for (const char* relation : {"matched", "exists"}) {
        for (const std::string& fact_id : index.targets(id, relation)) {
          const ordered_json& fact = *index.nodes.at(fact_id);
          out += fmt::format("{}  {} {}  ({})\n", indent, relation == std::string_view("exists") ? "exists" : "fact",
                             text_of(fact, "fact"), phrase(fact));
          for (const std::string& support : index.targets(fact_id, "concluded_by")) self(self, support, depth + 2);
        }
      }
    };
    for (const std::string& firing : index.targets(advice->first, "given_by")) explain(explain, firing, 1);
  }
  return out;
}

bool is_provenance_format(std::string_view format) { return format == "text" || format == "json" || format == "dot"; }

std::string render_provenance(const ordered_json& graph, std::string_view format) {
  if (format == "text") return render_provenance_text(graph);
  if (format == "dot") return render_provenance_dot(graph);
  // Texts were valid UTF-8 when advised; replace rather than throw should a stored byte not be.
  return graph.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace rapa::consult
