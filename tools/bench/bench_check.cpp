// rapa_bench_check: how long `rapa check` takes on a rule base, from cold. Each run starts with
// a new SourceManager and reads every file from disk again, then loads the kb, parses and checks
// the rules, exactly as check_paths() does for the command. Reports min, median and max over N
// runs of wall time (steady_clock) and the min and median of the process's CPU time
// (CLOCK_PROCESS_CPUTIME_ID; what CLIPS's figures report, and steadier on a busy machine). A
// plain timing loop rather than Google Benchmark: one measurement per rule base is all we need,
// and it builds everywhere the project does.
//
//   rapa_bench_check [--runs N] [--warmup N] [NAME=PATH[,PATH...]]...
//
// Without rule bases, measures the ones compiled in: the bundled rules/ + kb/, and the synthetic
// bases of 200 and 1,000 rules made at build time by gen_rules.py against the bundled kb/.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <time.h>

#include "parser/check.hpp"
#include "support/diagnostic_render.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace {

struct Case {
  std::string name;
  std::vector<std::string> paths;
};

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Outcome {
  double seconds = 0;
  double cpu_seconds = 0;
  std::size_t rules = 0;
  std::size_t files = 0;
  std::size_t bytes = 0;
  std::size_t errors = 0;
  std::size_t warnings = 0;
};

Outcome run_once(const Case& c, bool show_errors) {
  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  rapa::support::SourceManager sources;
  rapa::support::DiagnosticEngine diags;
  const auto result = rapa::parser::check_paths(c.paths, sources, diags);
  const auto stop = std::chrono::steady_clock::now();
  const double cpu_stop = cpu_seconds();

  Outcome out;
  out.seconds = std::chrono::duration<double>(stop - start).count();
  out.cpu_seconds = cpu_stop - cpu_start;
  for (const auto& f : result.files) out.rules += f.rules.size();
  out.files = sources.file_count();
  for (rapa::support::FileId id = 1; id <= sources.file_count(); ++id) out.bytes += sources.text(id).size();
  out.errors = diags.error_count();
  out.warnings = diags.warning_count();
  if (show_errors && out.errors > 0) std::cerr << rapa::support::render_text(sources, diags.sorted());
  return out;
}

std::vector<std::string> split(std::string_view list) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const auto comma = std::min(list.find(',', pos), list.size());
    if (comma > pos) parts.emplace_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return parts;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int usage() {
  std::cerr << "usage: rapa_bench_check [--runs N] [--warmup N] [NAME=PATH[,PATH...]]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 21;
  int warmup = 2;
  std::vector<Case> cases;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--runs" || arg == "--warmup") && i + 1 < argc) {
      const int n = std::atoi(argv[++i]);
      if (n < (arg == "--runs" ? 1 : 0)) return usage();
      (arg == "--runs" ? runs : warmup) = n;
    } else if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    } else if (const auto eq = arg.find('='); eq != std::string_view::npos && eq > 0 && arg[0] != '-') {
      cases.push_back({std::string(arg.substr(0, eq)), split(arg.substr(eq + 1))});
    } else {
      return usage();
    }
  }
  if (cases.empty()) {
    cases = {
        {"bundled rules/ + kb/", {RAPA_BENCH_HOME "/rules", RAPA_BENCH_HOME "/kb"}},
        {"synthetic R=200 + kb/", {RAPA_BENCH_SYNTHETIC "/r200", RAPA_BENCH_HOME "/kb"}},
        {"synthetic R=1000 + kb/", {RAPA_BENCH_SYNTHETIC "/r1000", RAPA_BENCH_HOME "/kb"}},
    };
  }

  std::printf("parse + check from cold, %d runs each after %d warm-up runs (ms)\n", runs, warmup);
  std::printf("%-24s %6s %6s %7s | %8s %8s %8s | %8s %8s | %6s\n", "rule base", "rules", "files", "KiB",
              "wall min", "median", "max", "cpu min", "median", "errors");
  int status = 0;
  for (const auto& c : cases) {
    Outcome last;
    for (int i = 0; i < warmup; ++i) last = run_once(c, i == 0);
    std::vector<double> wall, cpu;
    for (int i = 0; i < runs; ++i) {
      last = run_once(c, warmup == 0 && i == 0);
      wall.push_back(last.seconds * 1e3);
      cpu.push_back(last.cpu_seconds * 1e3);
    }
    std::printf("%-24s %6zu %6zu %7.1f | %8.2f %8.2f %8.2f | %8.2f %8.2f | %6zu\n", c.name.c_str(), last.rules,
                last.files, static_cast<double>(last.bytes) / 1024, *std::min_element(wall.begin(), wall.end()),
                median(wall), *std::max_element(wall.begin(), wall.end()), *std::min_element(cpu.begin(), cpu.end()),
                median(cpu), last.errors);
    // A rule base with errors is not the workload we meant to time.
    if (last.errors > 0) status = 1;
  }
  return status;
}
