// rapa_bench_engine: rapa's engine against CLIPS on ../shared/bench's workload, in one process,
// by one loop on the same in-memory patients (docs/performance.md, "Engine benchmark against
// CLIPS"; the workload and its semantics: ../shared/bench/README.md).
//
//   rapa_bench_engine DATA_DIR [--verify OUT.tsv] [--passes N] [--limit P] [--changes N]
//                     [--engine rapa|clips|both] [--json]
//
// DATA_DIR is what gen.py writes: workload.json, cohort.jsonl, rules.clp. Before any timing the
// rule base is built (timed apart, CPU ms: JSON -> RuleBase -> Engine; CLIPS: environment,
// EnvLoad, EnvReset) and the cohort read into memory. Then per pass over the cohort, per patient:
// clear (engine.reset(); CLIPS: retract the non-KB facts), assert the patient's facts, run,
// collect (count the advice facts). One untimed warm-up pass per engine, then N timed passes
// (CLOCK_PROCESS_CPUTIME_ID per pass), the engines alternating pass by pass so that the
// machine's drift touches both alike. Reported: median and min-max µs per patient, patients/s,
// load ms, peak RSS (VmHWM; meaningful per engine only when one engine runs), and for rapa the
// single-fact change: for each of the first --changes patients (1000), after its run, retract
// one input fact (its first diagnosis, the root of the deepest chains; else its first fact) and
// run, then assert it again and run, each timed (median µs, wall clock: a CPU-clock read costs
// more than some of the changes); the results after each change are checked against a fresh
// evaluation.
//
// --verify OUT.tsv writes the checksum file instead of timing: from rapa (--engine rapa or both)
// or from CLIPS (--engine clips, a check of the harness). Exit status: 0, 1 on a bad workload or
// a failed check, 2 on a usage error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <time.h>

#include <nlohmann/json.hpp>

#include "inference/engine.hpp"
#include "tools/bench/canon.hpp"
#include "tools/bench/clips_runner.hpp"
#include "tools/bench/workload.hpp"

namespace {

using namespace rapa;
using bench::PatientLines;

enum class Which { rapa, clips, both };

struct Options {
  std::filesystem::path data;
  std::optional<std::filesystem::path> verify;
  int passes = 7;
  std::size_t limit = 0;
  std::size_t changes = 1000;
  Which engine = Which::both;
  bool json = false;
};

constexpr std::string_view kUsage =
    "usage: rapa_bench_engine DATA_DIR [--verify OUT.tsv] [--passes N] [--limit P] [--changes N]\n"
    "                         [--engine rapa|clips|both] [--json]\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "rapa_bench_engine: " << message << "\n" << kUsage;
  std::exit(2);
}

std::size_t count_arg(std::string_view option, const char* text) {
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || value < 0) usage_error(std::string(option) + " needs a count, not '" + text + "'");
  return static_cast<std::size_t>(value);
}

Options parse_options(int argc, char** argv) {
  Options options;
  bool have_data = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--verify") {
      options.verify = value();
    } else if (arg == "--passes") {
      options.passes = static_cast<int>(count_arg(arg, value()));
    } else if (arg == "--limit") {
      options.limit = count_arg(arg, value());
    } else if (arg == "--changes") {
      options.changes = count_arg(arg, value());
    } else if (arg == "--engine") {
      const std::string_view which = value();
      if (which == "rapa") options.engine = Which::rapa;
      else if (which == "clips") options.engine = Which::clips;
      else if (which == "both") options.engine = Which::both;
      else usage_error("--engine is rapa, clips or both");
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg.starts_with("-")) {
      usage_error("unknown option '" + std::string(arg) + "'");
    } else if (!have_data) {
      options.data = arg;
      have_data = true;
    } else {
      usage_error("one DATA_DIR only");
    }
  }
  if (!have_data) usage_error("DATA_DIR is missing");
  return options;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// A memory figure of this process from /proc/self/status, KiB ("VmHWM": the peak resident set,
/// "VmRSS": the current one), or 0 when /proc is unavailable.
long status_kib(std::string_view key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':')
      return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  return 0;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// ---------------------------------------------------------------------------------------------
// rapa's side

struct PassTotals {
  std::uint64_t fired = 0;
  std::uint64_t advice = 0;
};

class RapaSide {
 public:
  RapaSide(const bench::Workload& workload, const std::vector<bench::RawPatient>& raw, double workload_ms)
      : workload_(workload) {
    const double start = cpu_seconds();
    engine_ = std::make_unique<inference::Engine>(workload.rules);
    load_ms_ = workload_ms + (cpu_seconds() - start) * 1e3;
    patients_ = bench::Cohort(raw, [this](std::string_view name) { return engine_->intern(name); });
  }

  double load_ms() const { return load_ms_; }
  std::size_t size() const { return patients_.size(); }
  const std::string& id(std::size_t p) const { return patients_.id(p); }
  inference::Engine& engine() { return *engine_; }

  /// Clear, assert, run; returns the fact ids of the patient's facts in order.
  std::vector<inference::FactId> load_and_run(std::size_t p) {
    engine_->reset();
    std::vector<inference::FactId> ids;
    ids.reserve(patients_.facts(p).size());
    for (const bench::Cohort::Fact& fact : patients_.facts(p)) ids.push_back(engine_->assert_fact(fact.type, fact.slots));
    run();
    return ids;
  }

  /// The timed body: clear, assert, run, collect.
  void run_patient(std::size_t p, PassTotals& totals) {
    engine_->reset();
    for (const bench::Cohort::Fact& fact : patients_.facts(p)) engine_->assert_fact(fact.type, fact.slots);
    run();
    totals.fired += engine_->fired();
    totals.advice += engine_->fact_count(workload_.advice_type);
  }

  void run() {
    const auto result = engine_->run();
    if (!result.completed) throw bench::WorkloadError("rapa: the firing limit was reached: a cycle?");
  }

  PatientLines lines() const { return bench::engine_lines(*engine_, workload_.advice_type); }

  std::span<const bench::Cohort::Fact> facts(std::size_t p) const { return patients_.facts(p); }

 private:
  const bench::Workload& workload_;
  std::unique_ptr<inference::Engine> engine_;
  bench::Cohort patients_;
  double load_ms_ = 0;
};

struct ChangeFigures {
  std::size_t patients = 0;
  double retract_us = 0;  // medians, wall clock
  double assert_us = 0;
  double change_us = 0;   // median over both kinds of change
  double cpu_mean_us = 0; // process CPU over all changes / their number
  std::size_t mismatches = 0;
  std::string first_mismatch;
};

bool same_lines(const PatientLines& a, const PatientLines& b) { return a.advice == b.advice && a.derived == b.derived; }

/// The single-fact change on the first `count` patients, checked against fresh evaluations.
ChangeFigures measure_changes(RapaSide& rapa, std::size_t count) {
  ChangeFigures out;
  std::vector<double> retracts, asserts;
  double cpu = 0;
  inference::Engine& engine = rapa.engine();
  const auto diagnosis = rapa.engine().rules().find_type("diagnosis");
  for (std::size_t p = 0; p < std::min(count, rapa.size()); ++p) {
    const auto facts = rapa.facts(p);
    if (facts.empty()) continue;
    std::size_t chosen = 0;
    for (std::size_t i = 0; i < facts.size(); ++i)
      if (diagnosis && facts[i].type == *diagnosis) {
        chosen = i;
        break;
      }
    const auto ids = rapa.load_and_run(p);
    const PatientLines before = rapa.lines();

    double cpu0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    const bool retracted = engine.retract_fact(ids[chosen]);
    rapa.run();
    auto t1 = std::chrono::steady_clock::now();
    cpu += cpu_seconds() - cpu0;
    const PatientLines without = rapa.lines();

    cpu0 = cpu_seconds();
    auto t2 = std::chrono::steady_clock::now();
    engine.assert_fact(facts[chosen].type, facts[chosen].slots);
    rapa.run();
    auto t3 = std::chrono::steady_clock::now();
    cpu += cpu_seconds() - cpu0;
    const PatientLines again = rapa.lines();

    retracts.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    asserts.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
    ++out.patients;

    // Fresh evaluation without the fact (nor its duplicates: the same id).
    engine.reset();
    for (std::size_t i = 0; i < facts.size(); ++i)
      if (ids[i] != ids[chosen])
        engine.assert_fact(facts[i].type, facts[i].slots);
    rapa.run();
    const PatientLines fresh_without = rapa.lines();
    std::string problem;
    if (!retracted) problem = "retract_fact refused the fact";
    else if (!same_lines(without, fresh_without)) problem = "after the retraction the results differ from a fresh run without the fact";
    else if (!same_lines(again, before)) problem = "after asserting the fact again the results differ from before";
    if (!problem.empty() && out.mismatches++ == 0)
      out.first_mismatch = rapa.id(p) + " (fact " + std::to_string(chosen + 1) + "): " + problem;
  }
  std::vector<double> both = retracts;
  both.insert(both.end(), asserts.begin(), asserts.end());
  out.retract_us = median(retracts);
  out.assert_us = median(asserts);
  out.change_us = median(both);
  out.cpu_mean_us = both.empty() ? 0 : cpu * 1e6 / static_cast<double>(both.size());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reports

struct EngineFigures {
  std::string name;
  double load_ms = 0;
  std::vector<double> pass_seconds;
  PassTotals totals;  // of the last pass
};

nlohmann::ordered_json figures_json(const EngineFigures& f, std::size_t patients) {
  nlohmann::ordered_json out;
  const double n = static_cast<double>(std::max<std::size_t>(patients, 1));
  std::vector<double> us;
  for (const double s : f.pass_seconds) us.push_back(s * 1e6 / n);
  out["load_ms"] = f.load_ms;
  out["pass_cpu_s"] = f.pass_seconds;
  if (!us.empty()) {
    const double med = median(us);
    out["us_per_patient_median"] = med;
    out["us_per_patient_min"] = *std::min_element(us.begin(), us.end());
    out["us_per_patient_max"] = *std::max_element(us.begin(), us.end());
    out["patients_per_s"] = med > 0 ? 1e6 / med : 0;
  }
  out["fired"] = f.totals.fired;
  out["advice"] = f.totals.advice;
  return out;
}

void print_text(const EngineFigures& f, std::size_t patients) {
  const auto j = figures_json(f, patients);
  std::printf("%-5s load %.2f ms CPU", f.name.c_str(), f.load_ms);
  if (j.contains("us_per_patient_median"))
    std::printf("; %.1f [%.1f-%.1f] us/patient CPU over %zu passes, %.0f patients/s",
                j["us_per_patient_median"].get<double>(), j["us_per_patient_min"].get<double>(),
                j["us_per_patient_max"].get<double>(), f.pass_seconds.size(), j["patients_per_s"].get<double>());
  std::printf("; fired %llu, advice %llu per pass\n", static_cast<unsigned long long>(f.totals.fired),
              static_cast<unsigned long long>(f.totals.advice));
}

int write_checksums(const std::filesystem::path& out, const std::vector<std::string>& rows) {
  std::ofstream file(out, std::ios::binary);
  file << bench::kChecksumHeader;
  for (const std::string& row : rows) file << row;
  file.close();
  if (!file) {
    std::cerr << "rapa_bench_engine: " << out.string() << ": cannot write\n";
    return 1;
  }
  return 0;
}

int run(const Options& options) {
  // The rule base, timed: JSON -> RuleBase here, Engine construction in RapaSide.
  const double start = cpu_seconds();
  const bench::Workload workload = bench::load_workload(options.data / "workload.json");
  const double workload_ms = (cpu_seconds() - start) * 1e3;
  auto raw = bench::load_cohort(options.data / "cohort.jsonl", workload, options.limit);
  const std::size_t n = raw.size();
  std::vector<std::string> ids;
  for (const auto& patient : raw) ids.push_back(patient.id);

  std::unique_ptr<RapaSide> rapa;
  std::unique_ptr<bench::ClipsRunner> clips;
  if (options.engine != Which::clips) rapa = std::make_unique<RapaSide>(workload, raw, workload_ms);
  if (options.engine != Which::rapa) {
    clips = std::make_unique<bench::ClipsRunner>(options.data / "rules.clp", workload);
    clips->prepare(raw);
  }
  // Each engine holds its own form of the patients now; the neutral one would only add to the
  // peak memory.
  std::vector<bench::RawPatient>().swap(raw);
  const long rss_loaded = status_kib("VmRSS");

  if (options.verify) {
    std::vector<std::string> rows;
    PassTotals totals;
    for (std::size_t p = 0; p < n; ++p) {
      if (rapa) {
        rapa->run_patient(p, totals);
        rows.push_back(bench::checksum_row(ids[p], rapa->engine().fired(), rapa->lines()));
      } else {
        const auto outcome = clips->run_patient(p);
        totals.fired += outcome.fired;
        totals.advice += outcome.advice;
        rows.push_back(bench::checksum_row(ids[p], outcome.fired, clips->lines()));
      }
    }
    if (const int status = write_checksums(*options.verify, rows); status != 0) return status;
    std::printf("%s: %zu patients from %s, fired %llu, advice %llu\n", options.verify->string().c_str(), n,
                rapa ? "rapa" : "CLIPS", static_cast<unsigned long long>(totals.fired),
                static_cast<unsigned long long>(totals.advice));
    return 0;
  }

  EngineFigures rapa_figures{"rapa", rapa ? rapa->load_ms() : 0, {}, {}};
  EngineFigures clips_figures{"clips", clips ? clips->load_ms() : 0, {}, {}};
  const auto rapa_pass = [&] {
    PassTotals totals;
    const double t0 = cpu_seconds();
    for (std::size_t p = 0; p < n; ++p) rapa->run_patient(p, totals);
    const double seconds = cpu_seconds() - t0;
    rapa_figures.totals = totals;
    return seconds;
  };
  const auto clips_pass = [&] {
    PassTotals totals;
    const double t0 = cpu_seconds();
    for (std::size_t p = 0; p < n; ++p) {
      const auto outcome = clips->run_patient(p);
      totals.fired += outcome.fired;
      totals.advice += outcome.advice;
    }
    const double seconds = cpu_seconds() - t0;
    clips_figures.totals = totals;
    return seconds;
  };
  if (rapa) rapa_pass();  // warm-up, untimed
  if (clips) clips_pass();
  for (int pass = 0; pass < options.passes; ++pass) {
    if (rapa) rapa_figures.pass_seconds.push_back(rapa_pass());
    if (clips) clips_figures.pass_seconds.push_back(clips_pass());
  }
  std::optional<ChangeFigures> changes;
  if (rapa && options.changes > 0) changes = measure_changes(*rapa, options.changes);
  const long rss = status_kib("VmHWM");

  if (options.json) {
    nlohmann::ordered_json out;
    out["data"] = options.data.string();
    out["patients"] = n;
    out["passes"] = options.passes;
    out["rules"] = workload.rules->rules.size();
    if (rapa) out["rapa"] = figures_json(rapa_figures, n);
    if (clips) out["clips"] = figures_json(clips_figures, n);
    if (changes) {
      out["rapa"]["single_fact_change"] = {
          {"patients", changes->patients},         {"retract_us_median", changes->retract_us},
          {"assert_us_median", changes->assert_us}, {"change_us_median", changes->change_us},
          {"cpu_mean_us", changes->cpu_mean_us},    {"mismatches", changes->mismatches},
          {"first_mismatch", changes->first_mismatch}};
    }
    out["peak_rss_kib"] = rss;
    out["rss_loaded_kib"] = rss_loaded;
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("%s: %zu rules, %zu patients, %d timed passes after 1 warm-up\n", options.data.string().c_str(),
                workload.rules->rules.size(), n, options.passes);
    if (rapa) print_text(rapa_figures, n);
    if (clips) print_text(clips_figures, n);
    if (changes)
      std::printf("rapa  single-fact change over %zu patients: median %.1f us (retract+run %.1f, assert+run %.1f; "
                  "mean CPU %.1f us)\n",
                  changes->patients, changes->change_us, changes->retract_us, changes->assert_us,
                  changes->cpu_mean_us);
    std::printf("peak RSS %.1f MiB (resident %.1f MiB once loaded, before the first patient)\n",
                static_cast<double>(rss) / 1024, static_cast<double>(rss_loaded) / 1024);
  }
  if (changes && changes->mismatches > 0) {
    std::cerr << "rapa_bench_engine: single-fact change: " << changes->mismatches
              << " patients differ from a fresh evaluation; first: " << changes->first_mismatch << "\n";
    return 1;
  }
  if (rapa && clips && options.passes > 0 &&
      (rapa_figures.totals.fired != clips_figures.totals.fired ||
       rapa_figures.totals.advice != clips_figures.totals.advice)) {
    std::cerr << "rapa_bench_engine: rapa and CLIPS disagree on the totals (fired, advice)\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  try {
    return run(options);
  } catch (const bench::WorkloadError& e) {
    std::cerr << "rapa_bench_engine: " << e.what() << "\n";
    return 1;
  }
}
