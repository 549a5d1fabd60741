#include "tools/bench/workload.hpp"

#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

namespace rapa::bench {

namespace {

using inference::Op;
using inference::RuleBase;
using inference::SlotIndex;
using inference::Term;
using inference::TypeId;
using inference::Value;
using inference::VarId;
// Slots and templates must keep the order the file gives them: slot order defines fact identity
// and the canonical lines, and the order of a pattern's slots decides which occurrence of a
// variable binds it. nlohmann's default json sorts keys.
using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& where, const std::string& message) {
  throw WorkloadError(where + ": " + message);
}

/// "file:line:col" of a byte offset (nlohmann counts bytes from 1 and points just past the error).
/// `lines_before`: lines of the file before `text` starts (a cohort read line by line).
std::string position(std::string_view text, const std::string& file, std::size_t byte, std::size_t lines_before) {
  const std::size_t at = std::min(byte > 0 ? byte - 1 : 0, text.size());
  std::size_t line = 1 + lines_before, column = 1;
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Json parse_json(std::string_view text, const std::string& where_prefix, std::string_view whole,
                std::size_t offset, std::size_t lines_before = 0) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.what() repeats the byte position; keep only the explanation after the last ": ".
    std::string why = e.what();
    if (const auto colon = why.rfind(": "); colon != std::string::npos) why = why.substr(colon + 2);
    fail(position(whole, where_prefix, offset + e.byte, lines_before), "invalid JSON: " + why);
  }
}

const Json& member(const Json& object, const char* key, const std::string& where) {
  if (!object.is_object()) fail(where, "expected an object");
  const auto found = object.find(key);
  if (found == object.end()) fail(where, std::string("missing \"") + key + "\"");
  return *found;
}

std::string string_member(const Json& object, const char* key, const std::string& where) {
  const Json& value = member(object, key, where);
  if (!value.is_string()) fail(where, std::string("\"") + key + "\" must be a string");
  return value.get<std::string>();
}

bool is_variable(const Json& term) { return term.is_string() && term.get_ref<const std::string&>().starts_with('?'); }

std::string describe(const Json& term) { return term.dump(); }

/// A constant term of a rule: integer, float or symbol.
Value constant(const Json& term, RuleBase& rules, const std::string& where) {
  if (term.is_number_integer()) {
    if (term.is_number_unsigned() && term.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      fail(where, "integer out of range: " + describe(term));
    return Value::integer(term.get<std::int64_t>());
  }
  if (term.is_number_float()) return Value::number(term.get<double>());
  if (term.is_string()) return Value::symbol(rules.symbols.intern(term.get_ref<const std::string&>()));
  fail(where, "a term is a number, a symbol or a ?variable, not " + describe(term));
}

std::optional<Op> op_of(std::string_view spelling) {
  static const std::pair<std::string_view, Op> ops[] = {
      {"<", Op::lt}, {"<=", Op::le}, {">", Op::gt}, {">=", Op::ge}, {"==", Op::eq},
      {"!=", Op::ne}, {"eq", Op::same}, {"neq", Op::differ}};
  for (const auto& [name, op] : ops)
    if (name == spelling) return op;
  return std::nullopt;
}

SlotIndex slot_index(const inference::FactTypeInfo& type, std::string_view slot, const std::string& where) {
  for (std::size_t i = 0; i < type.slots.size(); ++i)
    if (type.slots[i].name == slot) return static_cast<SlotIndex>(i);
  fail(where, "template " + type.name + " has no slot '" + std::string(slot) + "'");
}

TypeId type_named(const RuleBase& rules, const std::string& name, const std::string& where) {
  if (const auto type = rules.find_type(name)) return *type;
  fail(where, "unknown template '" + name + "'");
}

/// Translates one rule; `scope` maps variable names to the ids bound so far.
class RuleTranslator {
 public:
  RuleTranslator(RuleBase& rules, inference::Rule& rule) : rules_(rules), rule_(rule) {}

  void condition(const Json& cond, const std::string& where, inference::Production& production) {
    if (!cond.is_object()) fail(where, "a condition is an object");
    if (const auto negated = cond.find("not"); negated != cond.end()) {
      if (cond.size() != 1) fail(where, "a negated condition has only \"not\"");
      inference::Element negation;
      negation.kind = inference::Element::Kind::negation;
      // Variables first bound inside the `not` are local to it: bind them in a copy of the scope.
      auto local = scope_;
      inference::Element body;
      body.pattern = pattern(*negated, where + " (not)", local);
      negation.body.push_back(std::move(body));
      production.elements.push_back(std::move(negation));
      return;
    }
    inference::Element element;
    element.pattern = pattern(cond, where, scope_);
    production.elements.push_back(std::move(element));
  }

  void action(const Json& act, const std::string& where) {
    const TypeId type = type_named(rules_, string_member(act, "assert", where), where);
    const auto& info = rules_.types[type];
    const Json& slots = member(act, "slots", where);
    if (!slots.is_object()) fail(where, "\"slots\" must be an object");
    inference::AssertAction assertion;
    assertion.type = type;
    std::vector<std::optional<Term>> given(info.slots.size());
    for (const auto& [slot, term] : slots.items()) {
      const SlotIndex index = slot_index(info, slot, where);
      if (given[index]) fail(where, "slot '" + slot + "' given twice");
      given[index] = is_variable(term) ? Term::of_var(bound(term, where))
                                       : Term::of(constant(term, rules_, where));
    }
    for (std::size_t i = 0; i < given.size(); ++i) {
      if (!given[i]) fail(where, "assert of " + info.name + " must give every slot; '" + info.slots[i].name + "' is missing");
      assertion.slots.push_back(*given[i]);
    }
    inference::Action out;
    out.kind = inference::Action::Kind::assert_fact;
    out.assertion = std::move(assertion);
    rule_.actions.push_back(std::move(out));
  }

 private:
  using Scope = std::unordered_map<std::string, VarId>;

  inference::Pattern pattern(const Json& cond, const std::string& where, Scope& scope) {
    inference::Pattern out;
    out.type = type_named(rules_, string_member(cond, "pattern", where), where);
    const auto& info = rules_.types[out.type];
    const Json& slots = member(cond, "slots", where);
    if (!slots.is_object()) fail(where, "\"slots\" must be an object");
    for (const auto& [slot, term] : slots.items()) {
      const SlotIndex index = slot_index(info, slot, where);
      if (!is_variable(term)) {
        out.tests.push_back({index, Op::same, Term::of(constant(term, rules_, where)), {}});
        continue;
      }
      const std::string& name = term.get_ref<const std::string&>();
      if (const auto found = scope.find(name); found != scope.end()) {
        out.tests.push_back({index, Op::same, Term::of_var(found->second), {}});
      } else {
        const VarId id = new_variable(name);
        scope.emplace(name, id);
        out.binds.emplace_back(index, id);
      }
    }
    if (const auto tests = cond.find("tests"); tests != cond.end()) {
      if (!tests->is_array()) fail(where, "\"tests\" must be an array");
      for (const Json& test : *tests) {
        if (!test.is_array() || test.size() != 3 || !test[0].is_string())
          fail(where, "a test is [op, term, term], not " + describe(test));
        const auto op = op_of(test[0].get_ref<const std::string&>());
        if (!op) fail(where, "unknown test operator " + describe(test[0]));
        out.where.push_back({*op, term_in(test[1], scope, where), term_in(test[2], scope, where)});
      }
    }
    for (const auto& [key, value] : cond.items())
      if (key != "pattern" && key != "slots" && key != "tests") fail(where, "unexpected key \"" + key + "\"");
    return out;
  }

  Term term_in(const Json& term, const Scope& scope, const std::string& where) {
    if (!is_variable(term)) return Term::of(constant(term, rules_, where));
    const auto found = scope.find(term.get_ref<const std::string&>());
    if (found == scope.end()) fail(where, "test uses " + describe(term) + " before it is bound");
    return Term::of_var(found->second);
  }

  VarId bound(const Json& term, const std::string& where) { return term_in(term, scope_, where).var; }

  VarId new_variable(const std::string& name) {
    // A variable local to one `not` and a later one of the same name are different variables
    // (each bound once), so ids are given per binding; names may repeat in Rule::variables.
    rule_.variables.push_back(name.substr(1));
    return static_cast<VarId>(rule_.variables.size() - 1);
  }

  RuleBase& rules_;
  inference::Rule& rule_;
  Scope scope_;
};

inference::FactTypeInfo::Kind kind_of(const std::string& kind, const std::string& where) {
  using Kind = inference::FactTypeInfo::Kind;
  if (kind == "input") return Kind::input;
  if (kind == "kb") return Kind::kb;
  if (kind == "derived") return Kind::derived;
  if (kind == "output") return Kind::output;
  fail(where, "unknown template kind '" + kind + "'");
}

/// A fact's slot value, checked against the slot's declared type.
RawValue raw_value(const Json& value, const std::string& declared, const std::string& where) {
  RawValue out;
  if (declared == "symbol" && value.is_string() && !is_variable(value)) {
    out.kind = RawValue::Kind::symbol;
    out.symbol = value.get<std::string>();
  } else if (declared == "integer" && value.is_number_integer() &&
             !(value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
    out.kind = RawValue::Kind::integer;
    out.integer = value.get<std::int64_t>();
  } else if (declared == "float" && value.is_number_float()) {
    out.kind = RawValue::Kind::number;
    out.number = value.get<double>();
  } else {
    fail(where, std::string(declared == "integer" ? "expected an " : "expected a ") + declared + ", got " + describe(value));
  }
  return out;
}

/// A fact {"template": T, "slots": {...}} with every slot given, in declared order.
RawFact raw_fact(const Json& fact, const Workload& workload, const std::string& where) {
  RawFact out;
  out.type = type_named(*workload.rules, string_member(fact, "template", where), where);
  const auto& info = workload.rules->types[out.type];
  const Json& slots = member(fact, "slots", where);
  if (!slots.is_object()) fail(where, "\"slots\" must be an object");
  if (slots.size() != info.slots.size())
    fail(where, info.name + " has " + std::to_string(info.slots.size()) + " slots; the fact gives " +
                    std::to_string(slots.size()));
  out.slots.resize(info.slots.size());
  for (std::size_t i = 0; i < info.slots.size(); ++i) {
    const auto found = slots.find(info.slots[i].name);
    if (found == slots.end()) fail(where, info.name + " fact without slot '" + info.slots[i].name + "'");
    out.slots[i] = raw_value(*found, workload.slot_types[out.type][i], where + ", slot " + info.slots[i].name);
  }
  return out;
}

}  // namespace

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw WorkloadError(file.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw WorkloadError(file.string() + ": read error");
  return std::move(text).str();
}

Workload parse_workload(std::string_view json_text, const std::string& file) {
  const Json doc = parse_json(json_text, file, json_text, 0);
  if (!doc.is_object()) fail(file, "the workload is a JSON object");
  if (const auto format = string_member(doc, "format", file); format != "rapa-bench-workload/1")
    fail(file, "unknown format '" + format + "' (expected rapa-bench-workload/1)");

  Workload out;
  out.rules = std::make_shared<RuleBase>();
  RuleBase& rules = *out.rules;

  const Json& templates = member(doc, "templates", file);
  if (!templates.is_object()) fail(file, "\"templates\" must be an object");
  for (const auto& [name, spec] : templates.items()) {
    const std::string where = file + ": template " + name;
    if (rules.find_type(name)) fail(where, "declared twice");
    inference::FactTypeInfo type;
    type.name = name;
    type.kind = kind_of(string_member(spec, "kind", where), where);
    const Json& slots = member(spec, "slots", where);
    if (!slots.is_object() || slots.empty()) fail(where, "\"slots\" must be a non-empty object");
    std::vector<std::string> types;
    for (const auto& [slot, slot_type] : slots.items()) {
      if (!slot_type.is_string() || (slot_type != "symbol" && slot_type != "integer" && slot_type != "float"))
        fail(where, "slot " + slot + ": type is symbol, integer or float, not " + describe(slot_type));
      type.slots.push_back({slot, {}, 1.0});
      types.push_back(slot_type.get<std::string>());
    }
    const auto stratum = spec.find("stratum");
    out.type_strata.push_back(stratum != spec.end() && stratum->is_number_integer() ? stratum->get<int>() : 0);
    rules.types.push_back(std::move(type));
    out.slot_types.push_back(std::move(types));
  }
  const auto advice = rules.find_type("advice");
  if (!advice) fail(file, "no template \"advice\"");
  out.advice_type = *advice;

  const Json& kb = member(doc, "kb", file);
  if (!kb.is_array()) fail(file, "\"kb\" must be an array");
  for (std::size_t i = 0; i < kb.size(); ++i) {
    const std::string where = file + ": kb fact " + std::to_string(i + 1);
    const RawFact raw = raw_fact(kb[i], out, where);
    if (rules.types[raw.type].kind != inference::FactTypeInfo::Kind::kb)
      fail(where, "template " + rules.types[raw.type].name + " is not of kind kb");
    inference::InitialFact fact;
    fact.type = raw.type;
    for (const RawValue& value : raw.slots)
      fact.slots.push_back(to_value(value, [&](std::string_view s) { return rules.symbols.intern(s); }));
    rules.facts.push_back(std::move(fact));
  }

  if (const auto max = doc.find("max_stratum"); max != doc.end() && max->is_number_integer())
    out.max_stratum = max->get<int>();
  const Json& rule_list = member(doc, "rules", file);
  if (!rule_list.is_array()) fail(file, "\"rules\" must be an array");
  for (std::size_t r = 0; r < rule_list.size(); ++r) {
    const Json& spec = rule_list[r];
    const std::string id = string_member(spec, "id", file + ": rule " + std::to_string(r + 1));
    const std::string where = file + ": rule " + id;
    if (rules.find_rule(id)) fail(where, "declared twice");
    const Json& stratum = member(spec, "stratum", where);
    if (!stratum.is_number_integer()) fail(where, "\"stratum\" must be an integer");
    inference::Rule rule;
    rule.name = id;
    const auto family = spec.find("family");
    rule.title = (family != spec.end() && family->is_string() ? family->get<std::string>() + ", " : std::string()) +
                 "stratum " + std::to_string(stratum.get<int>());
    // As the CLIPS translation declares it; informational, the engine orders by its own levels.
    rule.salience = 10 * (5 - stratum.get<int>());
    RuleTranslator translate(rules, rule);
    inference::Production production;
    const Json& when = member(spec, "when", where);
    if (!when.is_array() || when.empty()) fail(where, "\"when\" must be a non-empty array");
    for (std::size_t c = 0; c < when.size(); ++c)
      translate.condition(when[c], where + ", condition " + std::to_string(c + 1), production);
    rule.productions.push_back(std::move(production));
    const Json& then = member(spec, "then", where);
    if (!then.is_array() || then.empty()) fail(where, "\"then\" must be a non-empty array");
    for (std::size_t a = 0; a < then.size(); ++a) translate.action(then[a], where + ", action " + std::to_string(a + 1));
    rules.rules.push_back(std::move(rule));
    out.rule_strata.push_back(stratum.get<int>());
  }
  return out;
}

Workload load_workload(const std::filesystem::path& file) { return parse_workload(read_file(file), file.string()); }

namespace {

/// One line of cohort.jsonl; `offset` is where the line starts in `whole` (for the column of a
/// JSON error), `where` is "file:line".
RawPatient parse_patient(std::string_view line, std::string_view whole, std::size_t offset, std::size_t lines_before,
                         const std::string& file, const std::string& where, const Workload& workload) {
  const Json doc = parse_json(line, file, whole, offset, lines_before);
  RawPatient patient;
  patient.id = string_member(doc, "id", where);
  const Json& facts = member(doc, "facts", where);
  if (!facts.is_array()) fail(where, "\"facts\" must be an array");
  for (std::size_t i = 0; i < facts.size(); ++i) {
    const std::string at = where + ": fact " + std::to_string(i + 1);
    RawFact fact = raw_fact(facts[i], workload, at);
    const auto kind = workload.rules->types[fact.type].kind;
    if (kind != inference::FactTypeInfo::Kind::input && kind != inference::FactTypeInfo::Kind::kb)
      fail(at, "a patient's facts are input (or kb) facts, not " + workload.rules->types[fact.type].name);
    patient.facts.push_back(std::move(fact));
  }
  return patient;
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

void check_read(const Workload& workload, const std::string& file) {
  if (workload.slot_types.size() != workload.rules->types.size()) fail(file, "the workload was not read by parse_workload");
}

}  // namespace

std::vector<RawPatient> parse_cohort(std::string_view text, const std::string& file, const Workload& workload,
                                     std::size_t limit) {
  check_read(workload, file);
  std::vector<RawPatient> patients;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size() && (limit == 0 || patients.size() < limit);) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    const std::string where = file + ":" + std::to_string(++line_number);
    if (!blank(line)) patients.push_back(parse_patient(line, text, start, 0, file, where, workload));
    start = end + 1;
  }
  return patients;
}

std::vector<RawPatient> load_cohort(const std::filesystem::path& file, const Workload& workload, std::size_t limit) {
  // Line by line rather than the whole file at once: the cohort's text would otherwise add its
  // size (tens of MB) to every peak-memory figure.
  const std::string name = file.string();
  check_read(workload, name);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw WorkloadError(name + ": cannot open");
  std::vector<RawPatient> patients;
  std::string line;
  for (std::size_t line_number = 1; (limit == 0 || patients.size() < limit) && std::getline(in, line); ++line_number) {
    if (!blank(line))
      patients.push_back(
          parse_patient(line, line, 0, line_number - 1, name, name + ":" + std::to_string(line_number), workload));
  }
  if (in.bad()) throw WorkloadError(name + ": read error");
  return patients;
}

Value to_value(const RawValue& raw, const Interner& intern) {
  switch (raw.kind) {
    case RawValue::Kind::symbol: return Value::symbol(intern(raw.symbol));
    case RawValue::Kind::integer: return Value::integer(raw.integer);
    case RawValue::Kind::number: return Value::number(raw.number);
  }
  return Value();
}

Cohort::Cohort(const std::vector<RawPatient>& raw, const Interner& intern) {
  std::size_t value_count = 0, fact_count = 0;
  for (const RawPatient& patient : raw) {
    fact_count += patient.facts.size();
    for (const RawFact& fact : patient.facts) value_count += fact.slots.size();
  }
  // Sized first, so that the spans taken below stay valid.
  values_.reserve(value_count);
  facts_.reserve(fact_count);
  ids_.reserve(raw.size());
  first_fact_.reserve(raw.size() + 1);
  for (const RawPatient& patient : raw) {
    ids_.push_back(patient.id);
    first_fact_.push_back(facts_.size());
    for (const RawFact& fact : patient.facts) {
      const std::size_t first = values_.size();
      for (const RawValue& value : fact.slots) values_.push_back(to_value(value, intern));
      facts_.push_back(Fact{fact.type, std::span<const Value>(values_).subspan(first, fact.slots.size())});
    }
  }
  first_fact_.push_back(facts_.size());
}

}  // namespace rapa::bench
