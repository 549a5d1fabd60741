// The canonical per-patient results of ../shared/bench (its canon.py), which two engines must
// reproduce byte for byte. A derived or advice fact is one line
//
//     template|slot1=value1|slot2=value2|...
//
// slots in declared order; symbols by name, integers in decimal, floats as Python's str() writes
// them (the shortest round-trip digits; the workload concludes none). A patient's row is
//
//     id \t fired \t n_derived \t n_advice \t advice_sha16 \t derived_sha16 \n
//
// each digest the first 16 hex digits of sha256 over the group's lines sorted by byte order, each
// followed by "\n". The file starts with kChecksumHeader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inference/engine.hpp"
#include "inference/rule_base.hpp"

namespace rapa::bench {

inline constexpr std::string_view kChecksumHeader =
    "# patient\tfired\tn_derived\tn_advice\tadvice_sha16\tderived_sha16\n";

/// A float as Python's str()/repr() writes it: "68.5", "100.0", "1e-05", "1.5e+16", "inf".
std::string python_float(double value);

/// One slot value in canonical form; `symbol_name` resolves symbols and texts.
template <typename Names>
std::string canonical_value(const inference::Value& value, const Names& symbol_name) {
  using Kind = inference::Value::Kind;
  switch (value.kind()) {
    case Kind::symbol:
    case Kind::text: return std::string(symbol_name(value.as_symbol()));
    case Kind::integer: return std::to_string(value.as_integer());
    case Kind::number: return python_float(value.as_double());
    case Kind::unknown: break;
  }
  return "?";  // never in the workload: every slot of a concluded fact is bound
}

/// The canonical line of a fact of `type` whose slot values are already in canonical form.
std::string fact_line(const inference::FactTypeInfo& type, const std::vector<std::string>& values);

/// A patient's derived and advice lines, in any order.
struct PatientLines {
  std::vector<std::string> derived;
  std::vector<std::string> advice;
};

/// The first 16 hex digits of sha256 over the lines sorted by byte order, each followed by "\n".
std::string lines_sha16(std::vector<std::string> lines);

/// The checksum row of one patient (with its final "\n").
std::string checksum_row(std::string_view id, std::uint64_t fired, const PatientLines& lines);

/// The canonical lines of an engine's live derived and output facts, each group sorted;
/// facts of `advice_type` are the advice.
PatientLines engine_lines(const inference::Engine& engine, inference::TypeId advice_type);

}  // namespace rapa::bench
