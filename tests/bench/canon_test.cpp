// The canonical lines and checksum rows of the engine benchmark (tools/bench/canon.hpp) against
// the reference, ../shared/bench/canon.py.
#include "tools/bench/canon.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace rapa;

namespace {

inference::FactTypeInfo type(std::string name, std::vector<std::string> slots) {
  inference::FactTypeInfo info;
  info.name = std::move(name);
  info.kind = inference::FactTypeInfo::Kind::derived;
  for (auto& slot : slots) info.slots.push_back({std::move(slot), {}, 1.0});
  return info;
}

}  // namespace

TEST_CASE("canon: fact lines and a patient's row", "[bench][canon]") {
  const auto refractory = type("refractory", {"patient", "disease"});
  const auto candidate = type("candidate", {"patient", "drug", "disease"});
  const auto lab_flag = type("lab_flag", {"patient", "test", "level"});
  const auto advice = type("advice", {"patient", "rule", "kind", "code", "drug", "severity"});

  bench::PatientLines lines;
  lines.derived.push_back(bench::fact_line(refractory, {"p000042", "ITP"}));
  lines.derived.push_back(bench::fact_line(candidate, {"p000042", "sirolimus", "ITP"}));
  lines.derived.push_back(bench::fact_line(refractory, {"p000042", "AIHA"}));
  lines.derived.push_back(bench::fact_line(lab_flag, {"p000042", "platelets", "12"}));
  lines.advice.push_back(
      bench::fact_line(advice, {"p000042", "R0007", "warn", "ddi_inhibitor_strong", "kd001", "high"}));
  lines.advice.push_back(
      bench::fact_line(advice, {"p000042", "R0012", "recommend", "start_sirolimus_age_40_65", "sirolimus", "low"}));

  CHECK(lines.derived[1] == "candidate|patient=p000042|drug=sirolimus|disease=ITP");
  CHECK(lines.advice[0] == "advice|patient=p000042|rule=R0007|kind=warn|code=ddi_inhibitor_strong|drug=kd001|severity=high");

  // Expected rows from the reference, in ../shared/bench:
  //   python3 -c "import canon; o=['patient','rule','kind','code','drug','severity'];
  //     lines=[canon.fact_line('refractory',['patient','disease'],dict(patient='p000042',disease='ITP')),
  //            ... the same six facts as above ...];
  //     print(repr(canon.row('p000042',5,lines))); print(repr(canon.row('p000007',0,[])))"
  // (the lines given in another order than above: the row must not depend on it).
  CHECK(bench::checksum_row("p000042", 5, lines) == "p000042\t5\t4\t2\t2c5e95848adb910f\t9e0310dafe375603\n");
  CHECK(bench::checksum_row("p000007", 0, {}) == "p000007\t0\t0\t0\te3b0c44298fc1c14\te3b0c44298fc1c14\n");
  CHECK(bench::kChecksumHeader == "# patient\tfired\tn_derived\tn_advice\tadvice_sha16\tderived_sha16\n");
}

TEST_CASE("canon: values as canon.py writes them", "[bench][canon]") {
  inference::SymbolTable symbols;
  const auto name = [&](inference::Symbol s) { return symbols.name(s); };
  CHECK(bench::canonical_value(inference::Value::symbol(symbols.intern("sirolimus")), name) == "sirolimus");
  CHECK(bench::canonical_value(inference::Value::integer(-12), name) == "-12");
  CHECK(bench::canonical_value(inference::Value::number(3.0), name) == "3.0");

  // Python's str(float), from python3: repr(v) for each v.
  CHECK(bench::python_float(68.5) == "68.5");
  CHECK(bench::python_float(100.0) == "100.0");
  CHECK(bench::python_float(1e-05) == "1e-05");
  CHECK(bench::python_float(0.0001) == "0.0001");
  CHECK(bench::python_float(1.5e16) == "1.5e+16");
  CHECK(bench::python_float(1e16) == "1e+16");
  CHECK(bench::python_float(1e15) == "1000000000000000.0");
  CHECK(bench::python_float(-0.0) == "-0.0");
  CHECK(bench::python_float(123456.789) == "123456.789");
  CHECK(bench::python_float(0.1 + 0.2) == "0.30000000000000004");
  CHECK(bench::python_float(5e-324) == "5e-324");
  CHECK(bench::python_float(1.7976931348623157e308) == "1.7976931348623157e+308");
  CHECK(bench::python_float(-2.5e-7) == "-2.5e-07");
}
