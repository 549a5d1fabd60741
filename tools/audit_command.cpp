// `rapa audit`: the auditors' view of the audit store (consult/audit.hpp): list the stored
// consultations, show one, verify the hash chain, replay one under today's rules.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "consult/audit.hpp"
#include "tools/arguments.hpp"
#include "tools/commands.hpp"

namespace rapa::tools {
namespace {

constexpr std::string_view audit_help =
    "usage: rapa audit [--db PATH] list\n"
    "       rapa audit [--db PATH] show ID [--format text|json]\n"
    "       rapa audit [--db PATH] verify\n"
    "       rapa audit [--db PATH] replay ID [--rules PATH...]\n\n"
    "The audit store keeps every consultation saved by `rapa advise --audit`: its time, the\n"
    "patient input, the rule-base version and the advice with its proofs, each record chained\n"
    "to the one before by a SHA-256 hash (docs/audit.md).\n\n"
    "subcommands:\n"
    "  list                the records: id, time, rule-base version, patient\n"
    "  show ID             one record: its fields, the patient input and the advice\n"
    "  verify              recompute every hash and check the chain; names the first bad record\n"
    "  replay ID           run the stored patient again under today's rules and show what changed\n\n"
    "options:\n"
    "  --db PATH           the audit database (default: $RAPA_AUDIT_DB, else rapa-audit.sqlite\n"
    "                      in the current directory)\n"
    "  --format text|json  show: how to print the record (default text)\n"
    "  --rules PATH        replay: a rule or kb file or directory to replay with, instead of the\n"
    "                      bundled rules/ and kb/ (repeatable: give the kb too)\n"
    "  --help              show this help\n\n"
    "exit status:\n"
    "  0  done (replay: whether or not the advice changed); verify: the chain is intact\n"
    "  1  verify: a record is wrong; or an error (no such record, not an audit database,\n"
    "     rules that do not load)\n"
    "  2  usage error\n";

struct Options {
  std::string db;
  std::string subcommand;
  std::optional<std::int64_t> id;
  bool json = false;
  bool format_given = false;
  std::vector<std::string> rules;
};

std::optional<int> usage(std::string_view message) {
  std::cerr << "rapa audit: " << message << "\n" << audit_help;
  return exit_usage;
}

/// Parses the arguments; an exit status when the command is already done (help, usage error).
std::optional<int> parse_options(const std::vector<std::string>& args, Options& options) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << audit_help;
      return exit_ok;
    } else if (is_option(a, "--db")) {
      auto value = option_value(args, i, "--db", "rapa audit");
      if (!value) return exit_usage;
      options.db = *value;
    } else if (is_option(a, "--format")) {
      auto value = option_value(args, i, "--format", "rapa audit");
      if (!value) return exit_usage;
      if (*value != "text" && *value != "json")
        return usage("unknown format '" + *value + "' (expected text or json)");
      options.json = *value == "json";
      options.format_given = true;
    } else if (is_option(a, "--rules")) {
      auto value = option_value(args, i, "--rules", "rapa audit");
      if (!value) return exit_usage;
      options.rules.push_back(*value);
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty()) return usage("no subcommand given: list, show, verify or replay");
  options.subcommand = positional.front();
  const bool takes_id = options.subcommand == "show" || options.subcommand == "replay";
  if (!takes_id && options.subcommand != "list" && options.subcommand != "verify")
    return usage("unknown subcommand '" + options.subcommand + "'");
  if (takes_id) {
    if (positional.size() != 2) return usage("'" + options.subcommand + "' needs one record id");
    const std::string& id = positional[1];
    const auto number = whole_number(id, 1, static_cast<std::size_t>(INT64_MAX));
    if (number) options.id = static_cast<std::int64_t>(*number);
    if (!options.id) return usage("'" + id + "' is not a record id (a whole number from 1)");
  } else if (positional.size() != 1) {
    return usage("'" + options.subcommand + "' takes no arguments");
  }
  if (options.format_given && options.subcommand != "show") return usage("'--format' applies to 'show' only");
  if (!options.rules.empty() && options.subcommand != "replay")
    return usage("'--rules' applies to 'replay' only");
  if (options.db.empty()) options.db = default_audit_database();
  return std::nullopt;
}

int list(consult::AuditStore& store) {
  const auto records = store.list();
  if (records.empty()) {
    std::cout << "no records in " << store.path() << "\n";
    return exit_ok;
  }
  std::cout << "  id  time (UTC)                rules         patient\n";
  for (const auto& r : records) {
    std::string id = std::to_string(r.id);
    std::cout << std::string(id.size() < 4 ? 4 - id.size() : 0, ' ') << id << "  " << r.time << "  "
              << r.rules_version.substr(0, 12) << "  " << r.patient_name << "\n";
  }
  return exit_ok;
}

std::optional<consult::AuditRecord> find(consult::AuditStore& store, std::int64_t id) {
  auto record = store.get(id);
  if (!record) std::cerr << "rapa audit: " << store.path() << ": no record " << id << "\n";
  return record;
}

int show(consult::AuditStore& store, std::int64_t id, bool json) {
  const auto record = find(store, id);
  if (!record) return exit_errors;
  // The stored advice is shown as stored; a record whose advice no longer parses is shown with
  // its text, since an auditor looking at a damaged record still needs to see it.
  nlohmann::ordered_json advice;
  try {
    advice = nlohmann::ordered_json::parse(record->advice_json);
  } catch (const nlohmann::json::exception&) {
    advice = record->advice_json;
  }
  if (json) {
    nlohmann::ordered_json out;
    out["id"] = record->id;
    out["time"] = record->time;
    out["patient"] = record->patient_name;
    out["patient_input"] = record->patient_input;
    out["rules_version"] = record->rules_version;
    out["previous_hash"] = record->previous_hash;
    out["hash"] = record->hash;
    out["advice"] = std::move(advice);
    std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return exit_ok;
  }
  std::cout << "record " << record->id << "\n"
            << "  time           " << record->time << "\n"
            << "  patient        " << record->patient_name << "\n"
            << "  rules version  " << record->rules_version << "\n"
            << "  previous hash  " << record->previous_hash << "\n"
            << "  hash           " << record->hash << "\n\n"
            << "patient input\n";
  std::string input = record->patient_input;
  if (!input.empty() && input.back() != '\n') input += '\n';
  std::cout << input << "\nadvice\n";
  if (!advice.is_object() || !advice.contains("advice")) {
    std::cout << "  (not readable as advice JSON)\n" << record->advice_json << "\n";
    return exit_ok;
  }
  for (const auto& a : advice["advice"]) {
    std::cout << "  [" << a.value("number", 0) << "] " << a.value("kind", std::string("?"));
    if (a.contains("subject") && a["subject"].is_string())
      std::cout << " " << a["subject"].get<std::string>();
    if (a.contains("severity") && a["severity"].is_string())
      std::cout << " " << a["severity"].get<std::string>();
    if (a.contains("grade") && a["grade"].is_object())
      std::cout << " (grade " << a["grade"].value("letter", std::string("?")) << ")";
    std::cout << "  " << (a.contains("rule") ? a["rule"].value("name", std::string()) : std::string()) << "\n"
              << "      " << a.value("text", std::string()) << "\n";
  }
  const std::size_t needs = advice.contains("needs_data") ? advice["needs_data"].size() : 0;
  std::cout << "\n"
            << advice["advice"].size() << " items, " << needs << " held back for data"
            << (advice.value("critical", false) ? ", critical" : "")
            << "; the full advice with proofs: --format json\n";
  return exit_ok;
}

int verify(consult::AuditStore& store) {
  const auto result = store.verify();
  if (!result.intact) {
    std::cout << "rapa audit: " << store.path() << ": " << result.problem << "\n";
    return exit_errors;
  }
  std::cout << "rapa audit: " << store.path() << ": " << result.records
            << (result.records == 1 ? " record" : " records") << ", chain intact";
  if (result.records != 0) std::cout << "; head " << result.head_hash;
  std::cout << "\n";
  return exit_ok;
}

int replay(consult::AuditStore& store, std::int64_t id, const std::vector<std::string>& rules) {
  const auto record = find(store, id);
  if (!record) return exit_errors;
  std::vector<std::string> paths = rules;
  // Rule locations are shown relative to the bundled home when that is the rule base in use, as
  // `rapa advise` stores them.
  std::string home;
  if (paths.empty()) {
    home = default_home();
    paths = {home + "/rules", home + "/kb"};
  }
  std::string errors;
  const auto result = consult::replay(*record, paths, home, errors);
  if (!result) {
    std::cerr << errors << "rapa audit: record " << id << " could not be replayed\n";
    return exit_errors;
  }
  const consult::AdviceDiff& diff = result->diff;
  std::cout << "replay of record " << id << " (" << record->patient_name << ", " << record->time << ")\n";
  if (record->rules_version == diff.current_version)
    std::cout << "rule base: unchanged (" << diff.current_version.substr(0, 12) << ")\n";
  else
    std::cout << "rule base: changed, " << record->rules_version.substr(0, 12) << " then, "
              << diff.current_version.substr(0, 12) << " now\n";
  if (diff.unchanged()) {
    std::cout << "advice: unchanged\n";
    return exit_ok;
  }
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& change : diff.changes) {
    ++counts[static_cast<int>(change.kind)];
    const char* mark = change.kind == consult::AdviceChange::Kind::gained ? "+"
                       : change.kind == consult::AdviceChange::Kind::lost ? "-"
                                                                          : "~";
    std::cout << "  " << mark << " " << change.item << "\n";
    for (const auto& what : change.what) std::cout << "      " << what << "\n";
  }
  if (diff.critical_before != diff.critical_now)
    std::cout << "  critical: " << (diff.critical_before ? "yes" : "no") << " -> "
              << (diff.critical_now ? "yes" : "no") << "\n";
  std::cout << "advice: " << counts[0] << " gained, " << counts[1] << " lost, " << counts[2] << " changed\n";
  return exit_ok;
}

}  // namespace

std::string default_audit_database() {
  if (const char* db = std::getenv("RAPA_AUDIT_DB"); db && *db) return db;
  return "rapa-audit.sqlite";
}

int audit_command(const std::vector<std::string>& args) {
  Options options;
  if (auto done = parse_options(args, options)) return *done;
  try {
    consult::AuditStore store(options.db, /*create=*/false);
    if (options.subcommand == "list") return list(store);
    if (options.subcommand == "show") return show(store, *options.id, options.json);
    if (options.subcommand == "verify") return verify(store);
    return replay(store, *options.id, options.rules);
  } catch (const consult::AuditError& e) {
    std::cerr << "rapa audit: " << e.what() << "\n";
    return exit_errors;
  }
}

}  // namespace rapa::tools
