// `rapa trace`: the provenance of advice, for auditors: of a patient file advised now, or of a
// consultation kept in the audit store. The graph and its views are in consult/provenance; a
// patient file is advised by `rapa advise --proof`, so both commands trace alike.
#include <cstdint>
#include <iostream>
#include <optional>
#include <string_view>

#include "consult/audit.hpp"
#include "consult/provenance.hpp"
#include "tools/arguments.hpp"
#include "tools/commands.hpp"

namespace rapa::tools {
namespace {

constexpr std::string_view trace_help =
    "usage: rapa trace [options] PATIENT.yaml [N...]\n"
    "       rapa trace [options] --record ID [N...]\n\n"
    "Traces advice to its evidence (docs/trace.md): for advice N (default: every advice) the\n"
    "rules that fired, with their file:line and bindings; the facts they matched, with their\n"
    "origin (a line of the patient file or of a kb table, or the rule that concluded them); and\n"
    "the sources the rules cite, with DOI or URL and evidence level.\n\n"
    "options:\n"
    "  --format text|json|dot\n"
    "                      text (default): a tree per advice; json: the graph, following\n"
    "                      docs/trace.schema.json; dot: the graph for Graphviz, e.g.\n"
    "                      rapa trace p.yaml 1 --format dot | dot -Tsvg -o proof.svg\n"
    "  --record ID         trace a consultation saved in the audit store (`rapa advise\n"
    "                      --audit`), as it was advised then, instead of a patient file\n"
    "  --db PATH           with --record: the audit database (default: $RAPA_AUDIT_DB, else\n"
    "                      rapa-audit.sqlite in the current directory)\n"
    "  --rules PATH        with a patient file: a rule or kb file or directory to advise with,\n"
    "                      instead of the bundled rules/ and kb/ (repeatable)\n"
    "  --help              show this help\n\n"
    "exit status:\n"
    "  0  traced\n"
    "  1  errors: the patient file, the rule base, the record, or no advice numbered N\n"
    "  2  usage error\n";

struct Options {
  std::string format = "text";
  std::optional<std::int64_t> record;
  std::string db;
  std::vector<std::string> rules;
  std::string patient;
  std::vector<std::string> numbers;  // as given, checked
};

std::optional<int> usage(std::string_view message) {
  std::cerr << "rapa trace: " << message << "\n" << trace_help;
  return exit_usage;
}

std::optional<int> parse_options(const std::vector<std::string>& args, Options& options) {
  std::vector<std::string> positional;
  bool db_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << trace_help;
      return exit_ok;
    } else if (is_option(a, "--format") || is_option(a, "--proof")) {
      auto value = option_value(args, i, is_option(a, "--format") ? "--format" : "--proof", "rapa trace");
      if (!value) return exit_usage;
      if (!consult::is_provenance_format(*value))
        return usage("unknown format '" + *value + "' (expected " + std::string(consult::kProvenanceFormats) + ")");
      options.format = *value;
    } else if (is_option(a, "--record")) {
      auto value = option_value(args, i, "--record", "rapa trace");
      if (!value) return exit_usage;
      const auto id = whole_number(*value, 1, static_cast<std::size_t>(INT64_MAX));
      if (!id) return usage("'" + *value + "' is not a record id (a whole number from 1)");
      options.record = static_cast<std::int64_t>(*id);
    } else if (is_option(a, "--db")) {
      auto value = option_value(args, i, "--db", "rapa trace");
      if (!value) return exit_usage;
      options.db = *value;
      db_given = true;
    } else if (is_option(a, "--rules")) {
      auto value = option_value(args, i, "--rules", "rapa trace");
      if (!value) return exit_usage;
      options.rules.push_back(*value);
    } else if (a == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (!options.record) {
    if (positional.empty()) return usage("no patient file given (or '--record ID')");
    if (db_given) return usage("'--db' applies to '--record' only");
    options.patient = positional.front();
    positional.erase(positional.begin());
  } else if (!options.rules.empty()) {
    return usage("'--rules' applies to a patient file; a record is traced as it was advised");
  }
  for (const std::string& n : positional) {
    if (!whole_number(n, 1, 1000000))
      return usage("'" + n + "' is not an advice number (1, 2, ...)" +
                   (options.record ? "" : "; one patient file at a time"));
    options.numbers.push_back(n);
  }
  if (options.db.empty()) options.db = default_audit_database();
  return std::nullopt;
}

/// A patient file: `rapa advise --proof`, whose exit status for a critical advice means nothing here.
int trace_patient(const Options& options) {
  std::vector<std::string> args{"--proof", options.format};
  for (const std::string& rules : options.rules) args.insert(args.end(), {"--rules", rules});
  for (const std::string& n : options.numbers) args.insert(args.end(), {"--advice", n});
  args.insert(args.end(), {"--", options.patient});
  const int status = advise_command(args);
  return status == exit_critical ? exit_ok : status;
}

int trace_record(const Options& options) {
  try {
    consult::AuditStore store(options.db, /*create=*/false);
    const auto record = store.get(*options.record);
    if (!record) {
      std::cerr << "rapa trace: " << store.path() << ": no record " << *options.record << "\n";
      return exit_errors;
    }
    const auto consultation = nlohmann::ordered_json::parse(record->advice_json, nullptr, /*allow_exceptions=*/false);
    if (consultation.is_discarded()) {
      std::cerr << "rapa trace: " << store.path() << ": record " << *options.record
                << ": its advice is not JSON; `rapa audit verify` tells whether it was altered\n";
      return exit_errors;
    }
    std::vector<std::size_t> numbers;
    for (const std::string& n : options.numbers) numbers.push_back(*whole_number(n, 1, 1000000));
    const auto graph = consult::provenance_graph(consultation, numbers);
    // Text is read by a person, who should see which consultation it is; the graph names the
    // patient and rule-base version itself.
    if (options.format == "text")
      std::cout << "record " << record->id << " (" << record->patient_name << ", " << record->time << ")\n\n";
    std::cout << consult::render_provenance(graph, options.format);
    return exit_ok;
  } catch (const consult::AuditError& e) {
    std::cerr << "rapa trace: " << e.what() << "\n";
  } catch (const consult::TraceError& e) {
    std::cerr << "rapa trace: " << options.db << ": record " << *options.record << ": " << e.what() << "\n";
  }
  return exit_errors;
}

}  // namespace

int trace_command(const std::vector<std::string>& args) {
  Options options;
  if (auto done = parse_options(args, options)) return *done;
  return options.record ? trace_record(options) : trace_patient(options);
}

}  // namespace rapa::tools
