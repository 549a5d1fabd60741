// The yardstick: the same workload in CLIPS 6.30 through its C API (Debian libclips), in this
// process, so that both engines are timed by one loop on the same in-memory patients. CLIPS's
// headers stay inside clips_runner.cpp.
//
// Set-up (timed as the load): CreateEnvironment, EnvLoad of the generated rules.clp (templates,
// the KB deffacts, the rules with salience by stratum), EnvReset once, which asserts the KB.
// Per patient, keep-KB mode (the KB stays; the fair comparison with an engine that keeps its
// rule base's facts across patients): retract every fact that is not a KB or initial fact,
// EnvCreateFact/EnvPutFactSlot/EnvAssert each fact from atoms made before timing, EnvRun(-1),
// count the advice facts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tools/bench/canon.hpp"
#include "tools/bench/workload.hpp"

namespace rapa::bench {

class ClipsRunner {
 public:
  /// Loads rules.clp; throws WorkloadError when CLIPS refuses it or lacks a template of `workload`.
  ClipsRunner(const std::filesystem::path& rules_clp, const Workload& workload);
  ~ClipsRunner();
  ClipsRunner(const ClipsRunner&) = delete;
  ClipsRunner& operator=(const ClipsRunner&) = delete;

  /// CPU ms of the set-up (environment, EnvLoad, EnvReset).
  double load_ms() const;
  /// Makes the patients' atoms (untimed); patients are then referred to by index.
  void prepare(const std::vector<RawPatient>& patients);

  struct Outcome {
    std::uint64_t fired = 0;
    std::uint64_t advice = 0;
  };
  /// Clear (keep KB), assert, run, count advice.
  Outcome run_patient(std::size_t patient);
  /// The canonical lines of the derived and advice facts in working memory now.
  PatientLines lines() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rapa::bench
