// rapa_bench_verify DATA_DIR OUT.tsv: the engine's per-patient checksum file for a workload
// written by ../shared/bench/gen.py, to compare byte for byte with the reference's
// (tests/bench/check_checksums.sh does, for every size the shared results hold). No timing and no
// CLIPS: this is the correctness half of rapa_bench_engine, built with the suite.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "inference/engine.hpp"
#include "tools/bench/canon.hpp"
#include "tools/bench/workload.hpp"

int main(int argc, char** argv) {
  using namespace rapa;
  if (argc != 3) {
    std::cerr << "usage: rapa_bench_verify DATA_DIR OUT.tsv\n"
                 "  DATA_DIR holds workload.json and cohort.jsonl from ../shared/bench/gen.py\n";
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    const bench::Workload workload = bench::load_workload(dir / "workload.json");
    const auto raw = bench::load_cohort(dir / "cohort.jsonl", workload);
    inference::Engine engine(workload.rules);
    const bench::Cohort patients(raw, [&](std::string_view name) { return engine.intern(name); });
    std::ofstream out(argv[2], std::ios::binary);
    out << bench::kChecksumHeader;
    for (std::size_t p = 0; p < patients.size(); ++p) {
      engine.reset();
      for (const bench::Cohort::Fact& fact : patients.facts(p)) engine.assert_fact(fact.type, fact.slots);
      if (!engine.run().completed) {
        std::cerr << "rapa_bench_verify: patient " << patients.id(p) << ": the firing limit was reached\n";
        return 1;
      }
      out << bench::checksum_row(patients.id(p), engine.fired(), bench::engine_lines(engine, workload.advice_type));
    }
    out.close();
    if (!out) {
      std::cerr << "rapa_bench_verify: " << argv[2] << ": cannot write\n";
      return 1;
    }
    std::printf("%s: %zu patients\n", argv[2], patients.size());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "rapa_bench_verify: " << e.what() << "\n";
    return 1;
  }
}
