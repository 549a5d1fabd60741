// `rapa advise`: the consultation for one patient file, or for a cohort, one patient a line, on
// every core. The work is in consult/; this file parses arguments, schedules and prints.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "consult/audit.hpp"
#include "consult/consultation.hpp"
#include "consult/provenance.hpp"
#include "consult/render.hpp"
#include "parser/check.hpp"
#include "support/diagnostic_render.hpp"
#include "tools/arguments.hpp"
#include "tools/commands.hpp"

namespace rapa::tools {
namespace {

constexpr std::string_view advise_help =
    "usage: rapa advise [options] PATIENT.yaml\n"
    "       rapa advise --batch COHORT.ndjson [--jobs N] [options]\n\n"
    "Advises on one patient file (docs/patients.md): recommendations with dose, trough target\n"
    "and reassessment time, contraindications, warnings by severity, monitoring, and the data\n"
    "the advice still needs, each item with its grade, evidence levels and citations.\n\n"
    "options:\n"
    "  --format text|json|markdown\n"
    "                      how to print the consultation (default text; json follows\n"
    "                      docs/advice.schema.json)\n"
    "  --doi               show each citation's DOI or URL (text and markdown)\n"
    "  --rules PATH        a rule or kb file or directory to advise with, instead of the\n"
    "                      bundled rules/ and kb/ (repeatable: give the kb too)\n"
    "  --color, --no-color colour the text output (default: when writing to a terminal)\n"
    "  --batch FILE        advise on every line of FILE (NDJSON: one JSON object a line\n"
    "                      holding what a patient file holds; '-' reads standard input);\n"
    "                      writes one JSON result a line, in input order\n"
    "  --jobs N            batch: threads to use (default: one per core)\n"
    "  --audit[=PATH]      save the consultation in the audit store (docs/audit.md): PATH, else\n"
    "                      $RAPA_AUDIT_DB, else rapa-audit.sqlite in the current directory;\n"
    "                      batch: every record advised, in input order\n"
    "  --proof text|json|dot\n"
    "                      print the provenance of the advice instead (docs/trace.md): the\n"
    "                      rules that fired, the facts they matched and the sources they cite;\n"
    "                      json follows docs/trace.schema.json, dot is for Graphviz\n"
    "  --advice N          with --proof: only advice N (repeatable; default every advice)\n"
    "  --help              show this help\n\n"
    "exit status:\n"
    "  0  advice given, with no contraindication and no critical warning\n"
    "  1  errors in the patient file, a cohort record or the rule base\n"
    "  2  usage error\n"
    "  3  a contraindication or a critical warning was raised (batch: for any patient)\n";

enum class Format { text, json, markdown };

struct Options {
  std::string patient;
  std::string batch;
  Format format = Format::text;
  std::vector<std::string> rules;
  bool doi = false;
  int colour = -1;  // -1: decide from the terminal
  unsigned jobs = 0;  // 0: one per core
  std::optional<std::string> audit;  // the audit database to save the consultation in
  std::optional<std::string> proof;  // print the provenance graph instead, in this format
  std::vector<std::size_t> advice_numbers;  // of the graph; empty: every advice
};

/// Parses the arguments; an exit status when the command is already done (help, usage error).
std::optional<int> parse_options(const std::vector<std::string>& args, Options& options) {
  std::vector<std::string> positional;
  bool jobs_given = false, format_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << advise_help;
      return exit_ok;
    } else if (is_option(a, "--format")) {
      auto value = option_value(args, i, "--format", "rapa advise");
      if (!value) return exit_usage;
      if (*value == "text") options.format = Format::text;
      else if (*value == "json") options.format = Format::json;
      else if (*value == "markdown" || *value == "md") options.format = Format::markdown;
      else {
        std::cerr << "rapa advise: unknown format '" << *value << "' (expected text, json or markdown)\n";
        return exit_usage;
      }
      format_given = true;
    } else if (is_option(a, "--rules")) {
      auto value = option_value(args, i, "--rules", "rapa advise");
      if (!value) return exit_usage;
      options.rules.push_back(*value);
    } else if (is_option(a, "--batch")) {
      auto value = option_value(args, i, "--batch", "rapa advise");
      if (!value) return exit_usage;
      options.batch = *value;
    } else if (is_option(a, "--jobs") || a == "-j") {
      auto value = option_value(args, i, a == "-j" ? "-j" : "--jobs", "rapa advise");
      if (!value) return exit_usage;
      const auto jobs = whole_number(*value, 1, 1024);
      if (!jobs) {
        std::cerr << "rapa advise: '--jobs' needs a whole number from 1 to 1024, not '" << *value << "'\n";
        return exit_usage;
      }
      options.jobs = static_cast<unsigned>(*jobs);
      jobs_given = true;
    } else if (a == "--audit") {
      options.audit = default_audit_database();
    } else if (a.rfind("--audit=", 0) == 0) {
      options.audit = a.substr(8);
    } else if (is_option(a, "--proof")) {
      auto value = option_value(args, i, "--proof", "rapa advise");
      if (!value) return exit_usage;
      if (!consult::is_provenance_format(*value)) {
        std::cerr << "rapa advise: unknown proof format '" << *value << "' (expected "
                  << consult::kProvenanceFormats << ")\n";
        return exit_usage;
      }
      options.proof = *value;
    } else if (is_option(a, "--advice")) {
      auto value = option_value(args, i, "--advice", "rapa advise");
      if (!value) return exit_usage;
      const auto number = whole_number(*value, 1, 1000000);
      if (!number) {
        std::cerr << "rapa advise: '--advice' needs an advice number (1, 2, ...), not '" << *value << "'\n";
        return exit_usage;
      }
      options.advice_numbers.push_back(*number);
    } else if (a == "--doi") {
      options.doi = true;
    } else if (a == "--color" || a == "--colour") {
      options.colour = 1;
    } else if (a == "--no-color" || a == "--no-colour") {
      options.colour = 0;
    } else if (a == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "rapa advise: unknown option '" << a << "'\n" << advise_help;
      return exit_usage;
    } else {
      positional.push_back(a);
    }
  }
  if (!options.advice_numbers.empty() && !options.proof) {
    std::cerr << "rapa advise: '--advice' chooses what '--proof' traces; give '--proof' too\n";
    return exit_usage;
  }
  if (options.proof && format_given) {
    std::cerr << "rapa advise: '--proof' prints the provenance instead of the consultation; not with '--format'\n";
    return exit_usage;
  }
  if (!options.batch.empty()) {
    if (options.proof) {
      std::cerr << "rapa advise: '--proof' traces one patient's advice; not with '--batch'\n";
      return exit_usage;
    }
    if (!positional.empty()) {
      std::cerr << "rapa advise: give either a patient file or '--batch FILE', not both\n";
      return exit_usage;
    }
    if (format_given && options.format != Format::json) {
      std::cerr << "rapa advise: '--batch' writes JSON lines; '--format' can only be json\n";
      return exit_usage;
    }
    return std::nullopt;
  }
  if (jobs_given) {
    std::cerr << "rapa advise: '--jobs' applies to '--batch' only\n";
    return exit_usage;
  }
  if (positional.size() != 1) {
    std::cerr << (positional.empty() ? "rapa advise: no patient file given\n"
                                     : "rapa advise: one patient file at a time; for many, use '--batch'\n")
              << advise_help;
    return exit_usage;
  }
  options.patient = positional.front();
  return std::nullopt;
}

std::vector<std::string> rule_paths(const Options& options) {
  if (!options.rules.empty()) return options.rules;
  const std::string home = default_home();
  return {home + "/rules", home + "/kb"};
}

/// The directory rule locations are shown relative to: the bundled rule base's home, when it
/// is the one in use.
std::string rules_home(const Options& options) { return options.rules.empty() ? default_home() : std::string(); }

bool colour_for(const Options& options, int fd) { return options.colour == -1 ? isatty(fd) != 0 : options.colour == 1; }

/// Diagnostics as `rapa check` shows them: on standard error, with source lines and carets.
void print_diagnostics(const support::SourceManager& sources, const support::DiagnosticEngine& diags, bool colour) {
  support::TextStyle style;
  style.colour = colour;
  std::cerr << support::render_text(sources, diags.sorted(), style);
  std::cerr << support::render_summary(diags.error_count(), diags.warning_count());
}

/// "the rules kept firing: a, b": a rule base whose rules re-trigger each other without end.
std::string runaway_message(const inference::RunResult& run, const inference::RuleBase& rules) {
  std::string names;
  for (inference::RuleId r : run.cycle) names += (names.empty() ? "" : ", ") + rules.rules[r].name;
  return "the rules kept firing past the limit (" + (names.empty() ? std::string("no rule named") : names) +
         "); the rule base needs fixing";
}

// --- One patient -------------------------------------------------------------------------------

/// Checks and loads the rule base. Its warnings are for its authors, who see them with `rapa
/// check`; a consultation reports only the errors that prevent it.
bool load_rules(consult::Knowledge& knowledge, const Options& options, support::DiagnosticEngine& diags) {
  diags.disable_warning_group("all");
  return consult::load_knowledge_into(knowledge, rule_paths(options), diags);
}

void print_consultation(const consult::Consultation& consultation, const consult::Knowledge& knowledge,
                        const inference::Engine& engine, consult::RenderOptions& render, const Options& options) {
  switch (options.format) {
    case Format::text:
      render.colour = colour_for(options, STDOUT_FILENO);
      std::cout << consult::render_text(consultation, render);
      break;
    case Format::json: std::cout << consult::render_json(consultation, knowledge, engine, render); break;
    case Format::markdown: std::cout << consult::render_markdown(consultation, render); break;
  }
}

/// The provenance graph of the chosen advice (docs/trace.md). It is drawn from the consultation's
/// JSON, as `rapa trace` draws it from a stored record, so both show a consultation alike.
bool print_proof(const consult::Consultation& consultation, const consult::Knowledge& knowledge,
                 const inference::Engine& engine, const consult::RenderOptions& render, const Options& options) {
  try {
    const auto graph = consult::provenance_graph(
        nlohmann::ordered_json::parse(consult::render_json(consultation, knowledge, engine, render)),
        options.advice_numbers);
    std::cout << consult::render_provenance(graph, *options.proof);
    return true;
  } catch (const consult::TraceError& e) {
    std::cerr << "rapa advise: " << options.patient << ": " << e.what() << "\n";
    return false;
  }
}

int advise_one(const Options& options) {
  const bool json = options.format == Format::json;
  support::DiagnosticEngine rule_diags, diags;
  consult::Knowledge knowledge;
  // In JSON mode a failure is still one JSON object on standard output, for the program reading
  // it; the person at a terminal gets the caret rendering on standard error either way.
  const auto fail = [&](const std::string& what) {
    if (json) {
      nlohmann::ordered_json error;
      error["patient"] = options.patient;
      error["error"] = nlohmann::ordered_json::parse(support::render_json(*knowledge.sources, diags.sorted()));
      if (!what.empty()) error["error"]["message"] = what;
      std::cout << error.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    }
    print_diagnostics(*knowledge.sources, diags, colour_for(options, STDERR_FILENO));
    if (!what.empty()) std::cerr << "rapa advise: " << what << "\n";
    return exit_errors;
  };

  if (!load_rules(knowledge, options, rule_diags)) {
    diags = std::move(rule_diags);
    return fail("");
  }
  inference::Engine engine(knowledge.rules);
  if (!consult::load_patient_file(knowledge, options.patient, engine, diags)) return fail("");
  const inference::RunResult run = engine.run();
  if (!run.completed) return fail(runaway_message(run, *knowledge.rules));
  // Warnings of the patient file are shown, and advice is still given.
  if (diags.warning_count() != 0) print_diagnostics(*knowledge.sources, diags, colour_for(options, STDERR_FILENO));

  const consult::Consultation consultation = consult::consult(knowledge, engine);
  consult::RenderOptions render;
  render.patient = options.patient;
  render.home = rules_home(options);
  render.doi = options.doi;
  if (options.proof) {
    if (!print_proof(consultation, knowledge, engine, render, options)) return exit_errors;
  } else {
    print_consultation(consultation, knowledge, engine, render, options);
  }
  std::cout.flush();
  if (options.audit) {
    try {
      consult::AuditStore store(*options.audit);
      // The patient file is the last buffer read: its bytes exactly as they were advised on.
      const std::string input(knowledge.sources->text(knowledge.sources->file_count()));
      const auto record = consult::record_consultation(store, knowledge, engine, consultation, options.patient, input,
                                                       rules_home(options));
      std::cerr << "rapa advise: saved as record " << record.id << " in " << store.path() << "\n";
    } catch (const consult::AuditError& e) {
      std::cerr << "rapa advise: the consultation was not saved: " << e.what() << "\n";
      return exit_errors;
    }
  }
  return consultation.critical ? exit_critical : exit_ok;
}

// --- Batch -------------------------------------------------------------------------------------

/// Reads a cohort a line at a time without ever holding more than the buffer limit of one
/// line: a line past the limit is skipped to its end and reported, not read into memory.
class LineReader {
 public:
  explicit LineReader(std::istream& in) : in_(in) {}

  struct Line {
    std::size_t number = 0;
    std::string text;
    bool too_large = false;
    std::size_t end = 0;  // bytes of the cohort up to the end of this line
  };

  bool next(Line& line) {
    line = Line{++number_, {}, false, 0};
    bool any = false;
    while (true) {
      if (at_ == filled_ && !refill()) return any;
      any = true;
      const char* begin = buffer_.data() + at_;
      const char* end = buffer_.data() + filled_;
      const char* newline = std::find(begin, end, '\n');
      const auto length = static_cast<std::size_t>(newline - begin);
      if (!line.too_large) {
        if (line.text.size() + length > support::SourceManager::max_buffer_bytes) {
          line.too_large = true;
          line.text = std::string();
          line.text.shrink_to_fit();
        } else {
          line.text.append(begin, length);
        }
      }
      at_ += length;
      consumed_ += length;
      line.end = consumed_;
      if (newline != end) {
        ++at_;  // the newline
        line.end = ++consumed_;
        if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
        return true;
      }
    }
  }

 private:
  bool refill() {
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    filled_ = static_cast<std::size_t>(in_.gcount());
    at_ = 0;
    return filled_ != 0;
  }

  std::istream& in_;
  std::vector<char> buffer_ = std::vector<char>(1 << 16);
  std::size_t filled_ = 0, at_ = 0;
  std::size_t number_ = 0;
  std::size_t consumed_ = 0;
};

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// What one worker thread owns. Engines share only the const RuleBase (inference/engine.hpp).
/// The SourceManager is not thread-safe (it appends buffers and builds line tables lazily), so
/// each worker has its own: a copy of the knowledge's files under the same ids, so that rule
/// and kb ranges resolve in it, to which the worker adds its records. kb::KnowledgeBase is
/// copied too, since Knowledge owns it by value; the rule base itself is shared.
class Worker {
 public:
  /// `keep_input`: leave each record's text in place after advising it (the audit store saves it).
  Worker(const consult::Knowledge& shared, std::size_t knowledge_files, std::string home, bool keep_input)
      : shared_(shared),
        knowledge_files_(knowledge_files),
        home_(std::move(home)),
        keep_input_(keep_input),
        engine_(shared.rules) {
    view_.checked.kb = shared.checked.kb;
    view_.rules = shared.rules;
    view_.version = shared.version;
    fresh_sources();
  }

  /// yaml-cpp builds its scanner's regular expressions as function-local statics on first use.
  /// That is thread-safe in C++, but a record read before the threads start means no thread
  /// ever races to build them, and race detectors (helgrind) then report real races only.
  void warm_up() {
    LineReader::Line record{0, R"({"patient": {"age": "40 years", "sex": "male"}, "medications": "none",)"
                               R"( "labs": {"platelets": "14 x10^9/L"}, "conditions": ["x"]})", false, 0};
    bool failed = false, critical = false;
    advise(record, "<warm-up>", failed, critical);
  }

  /// The result line for one record: the consultation, or {"line", "error"}.
  std::string advise(LineReader::Line& record, const std::string& cohort, bool& failed, bool& critical) {
    // Every record adds a buffer; start over now and then so that a long cohort does not keep
    // every record it has seen.
    if (view_.sources->file_count() > knowledge_files_ + kRecordsPerSourceManager) fresh_sources();
    engine_.reset();
    support::DiagnosticEngine diags;
    bool loaded = false;
    if (record.too_large) {
      const support::FileId id = view_.sources->add_buffer(cohort, "");
      parser::report_load_failure(*view_.sources, id,
                                  support::LoadFailure{support::LoadFailure::Kind::too_large, {}, 0}, diags);
    } else {
      loaded = consult::load_patient_text(view_, cohort, keep_input_ ? record.text : std::move(record.text), engine_,
                                          diags);
    }
    if (!loaded) {
      failed = true;
      return error_record(record.number, cohort, diags, "");
    }
    const inference::RunResult run = engine_.run();
    if (!run.completed) {
      failed = true;
      return error_record(record.number, cohort, diags, runaway_message(run, *view_.rules));
    }
    const consult::Consultation consultation = consult::consult(view_, engine_);
    critical = consultation.critical;
    consult::RenderOptions render;
    render.patient = cohort;
    render.home = home_;
    render.indent = -1;
    render.cohort_line = record.number;
    std::string out = consult::render_json(consultation, view_, engine_, render);
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

 private:
  static constexpr std::size_t kRecordsPerSourceManager = 1024;

  void fresh_sources() {
    view_.sources = std::make_unique<support::SourceManager>();
    for (support::FileId id = 1; id <= knowledge_files_; ++id)
      view_.sources->add_buffer(std::string(shared_.sources->name(id)), std::string(shared_.sources->text(id)));
  }

  /// The record's diagnostics as support::render_json gives them, with their lines moved to the
  /// cohort's: the record's buffer holds its one line, which is line N of the cohort.
  std::string error_record(std::size_t number, const std::string& cohort, const support::DiagnosticEngine& diags,
                           const std::string& message) const {
    nlohmann::ordered_json error = nlohmann::ordered_json::parse(support::render_json(*view_.sources, diags.sorted()));
    const auto shift = [&](nlohmann::ordered_json& at) {
      if (!at.is_object() || !at.contains("file") || at["file"] != cohort) return;
      for (const char* key : {"line", "end_line"})
        if (at.contains(key) && at[key].is_number_unsigned()) at[key] = at[key].get<std::size_t>() + number - 1;
    };
    for (auto& d : error["diagnostics"]) {
      shift(d);
      for (auto& note : d["notes"]) shift(note);
      if (d.contains("fixit")) shift(d["fixit"]);
    }
    if (!message.empty()) error["message"] = message;
    nlohmann::ordered_json record;
    record["patient"] = cohort;
    record["line"] = number;
    record["error"] = std::move(error);
    return record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }

  const consult::Knowledge& shared_;
  std::size_t knowledge_files_;
  std::string home_;
  bool keep_input_;
  consult::Knowledge view_;
  inference::Engine engine_;
};

/// "[#########           ]  45%  12034 records" on a terminal's standard error.
class Progress {
 public:
  Progress(bool enabled, std::size_t total_bytes) : enabled_(enabled), total_bytes_(total_bytes) {}

  void show(std::size_t records, std::size_t bytes) const {
    if (!enabled_) return;
    constexpr std::size_t bar = 30;
    if (total_bytes_ == 0) {
      std::fprintf(stderr, "\r%zu records", records);
    } else {
      const std::size_t done = std::min(bytes, total_bytes_) * bar / total_bytes_;
      const std::size_t percent = std::min(bytes, total_bytes_) * 100 / total_bytes_;
      std::fprintf(stderr, "\r[%s%s] %3zu%%  %zu records", std::string(done, '#').c_str(),
                   std::string(bar - done, ' ').c_str(), percent, records);
    }
    std::fflush(stderr);
  }

  void clear() const {
    if (!enabled_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  std::size_t total_bytes_;
};

int advise_batch(const Options& options) {
  support::DiagnosticEngine diags;
  consult::Knowledge knowledge;
  const bool colour = colour_for(options, STDERR_FILENO);
  // What records are named in results and diagnostics.
  const std::string cohort = options.batch == "-" ? "<stdin>" : options.batch;
  if (!load_rules(knowledge, options, diags)) {
    print_diagnostics(*knowledge.sources, diags, colour);
    return exit_errors;
  }
  const std::size_t knowledge_files = knowledge.sources->file_count();

  std::ifstream file;
  std::istream* in = &std::cin;
  std::size_t total_bytes = 0;
  if (options.batch != "-") {
    file.open(options.batch, std::ios::binary);
    if (!file) {
      const int err = errno;
      support::DiagnosticEngine open_diags;
      const support::FileId id = knowledge.sources->add_buffer(options.batch, "");
      parser::report_load_failure(
          *knowledge.sources, id,
          support::LoadFailure{support::LoadFailure::Kind::unreadable, std::generic_category().message(err), 0},
          open_diags);
      print_diagnostics(*knowledge.sources, open_diags, colour);
      return exit_errors;
    }
    in = &file;
    std::error_code ec;
    total_bytes = static_cast<std::size_t>(std::filesystem::file_size(options.batch, ec));
    if (ec) total_bytes = 0;
  }

  std::optional<consult::AuditStore> store;
  std::size_t saved = 0;
  if (options.audit) {
    try {
      store.emplace(*options.audit);
    } catch (const consult::AuditError& e) {
      std::cerr << "rapa advise: " << e.what() << "\n";
      return exit_errors;
    }
  }

  const unsigned jobs = options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned j = 0; j < jobs; ++j)
    workers.push_back(std::make_unique<Worker>(knowledge, knowledge_files, rules_home(options), options.audit.has_value()));
  workers.front()->warm_up();

  // The cohort goes in blocks: read a block, advise its records on every worker, write the
  // results in input order, go on. Memory stays bounded by one block whatever the cohort's size,
  // and the order needs no reordering buffer.
  const std::size_t block_size = 256 * static_cast<std::size_t>(jobs);
  LineReader reader(*in);
  const Progress progress(isatty(STDERR_FILENO) != 0, total_bytes);
  std::size_t records = 0, failed = 0, critical = 0;
  std::size_t bytes_done = 0;  // of the records written
  std::vector<LineReader::Line> block;
  std::vector<std::string> results;
  std::vector<char> block_failed, block_critical;  // not vector<bool>: written from threads
  bool more = true;
  while (more) {
    block.clear();
    LineReader::Line line;
    while (block.size() < block_size && (more = reader.next(line)))
      if (line.too_large || !is_blank(line.text)) block.push_back(std::move(line));
    if (block.empty()) break;

    results.assign(block.size(), {});
    block_failed.assign(block.size(), 0);
    block_critical.assign(block.size(), 0);
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> finished{0};
    std::mutex mutex;
    std::condition_variable all_done;
    const auto work = [&](Worker& worker) {
      while (true) {
        const std::size_t i = next.fetch_add(1);
        if (i >= block.size()) return;
        bool f = false, c = false;
        try {
          results[i] = worker.advise(block[i], cohort, f, c);
        } catch (const std::exception& e) {
          // A bug or exhaustion on one record must not take the cohort down with it.
          nlohmann::ordered_json record{{"patient", cohort}, {"line", block[i].number},
                                        {"error", {{"diagnostics", nlohmann::ordered_json::array()},
                                                   {"errors", 1}, {"warnings", 0},
                                                   {"message", std::string("internal error: ") + e.what()}}}};
          results[i] = record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
          f = true;
        }
        block_failed[i] = f;
        block_critical[i] = c;
        if (finished.fetch_add(1) + 1 == block.size()) {
          std::lock_guard lock(mutex);
          all_done.notify_all();
        }
      }
    };
    std::vector<std::thread> threads;
    const std::size_t thread_count = std::min<std::size_t>(workers.size(), block.size());
    for (std::size_t t = 0; t < thread_count; ++t) threads.emplace_back(work, std::ref(*workers[t]));
    {
      // The bar moves by the share of the block's bytes whose records are done.
      const std::size_t block_bytes = block.back().end - bytes_done;
      std::unique_lock lock(mutex);
      while (!all_done.wait_for(lock, std::chrono::milliseconds(100), [&] { return finished == block.size(); }))
        progress.show(records + finished, bytes_done + block_bytes * finished / block.size());
    }
    for (auto& t : threads) t.join();

    for (std::size_t i = 0; i < block.size(); ++i) {
      std::cout << results[i] << '\n';
      failed += block_failed[i] != 0;
      critical += block_critical[i] != 0;
    }
    std::cout.flush();
    if (store) {
      // Saved in input order from this one thread, a record a transaction: a run killed midway
      // leaves every record saved so far intact and chained.
      for (std::size_t i = 0; i < block.size(); ++i) {
        if (block_failed[i]) continue;
        try {
          store->record(cohort + ":" + std::to_string(block[i].number), block[i].text, knowledge.version, results[i]);
          ++saved;
        } catch (const consult::AuditError& e) {
          progress.clear();
          std::cerr << "rapa advise: stopped at line " << block[i].number << " of " << cohort
                    << ", which was not saved: " << e.what() << "\n";
          return exit_errors;
        }
      }
    }
    records += block.size();
    bytes_done = block.back().end;
    progress.show(records, bytes_done);
  }
  progress.clear();
  std::cerr << "rapa advise: " << records << (records == 1 ? " record: " : " records: ") << records - failed
            << " advised (" << critical << " with a contraindication or critical warning), " << failed
            << " failed\n";
  if (store)
    std::cerr << "rapa advise: " << saved << (saved == 1 ? " consultation" : " consultations") << " saved in "
              << store->path() << "\n";
  if (failed != 0) return exit_errors;
  return critical != 0 ? exit_critical : exit_ok;
}

}  // namespace

int advise_command(const std::vector<std::string>& args) {
  Options options;
  if (auto done = parse_options(args, options)) return *done;
  return options.batch.empty() ? advise_one(options) : advise_batch(options);
}

}  // namespace rapa::tools
