#include "tools/bench/clips_runner.hpp"

#include <time.h>

#include <cstdio>

// CLIPS 6.30 is C without extern "C" guards; its include directory is a SYSTEM one so that its
// macros (old-style casts) do not trip our warnings.
extern "C" {
#include "clips.h"
}

namespace rapa::bench {

namespace {

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

}  // namespace

struct ClipsRunner::Impl {
  struct Slot {
    const char* name = nullptr;  // the template's slot name, owned by Impl::slot_names
    DATA_OBJECT value{};         // an atom whose reference count we hold
  };
  // Every patient's slots in one array, and every fact, as rapa's bench::Cohort holds its
  // patients: both engines read their input front to back.
  struct Fact {
    void* deftemplate = nullptr;
    std::size_t first_slot = 0;
    std::size_t slot_count = 0;
  };

  const Workload* workload = nullptr;
  void* env = nullptr;
  double load_ms = 0;
  std::vector<void*> templates;                       // by TypeId
  std::vector<std::vector<std::string>> slot_names;   // by TypeId
  std::vector<void*> kept;  // the KB templates and initial-fact: their facts stay across patients
  void* advice = nullptr;
  std::vector<Slot> slots;
  std::vector<Fact> facts;
  std::vector<std::size_t> first_fact;  // per patient, and one past the last

  bool keeps(void* deftemplate) const {
    for (void* t : kept)
      if (t == deftemplate) return true;
    return false;
  }
};

ClipsRunner::ClipsRunner(const std::filesystem::path& rules_clp, const Workload& workload)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.workload = &workload;
  const double start = cpu_ms();
  s.env = CreateEnvironment();
  if (s.env == nullptr) throw WorkloadError("CLIPS: CreateEnvironment failed");
  const int loaded = EnvLoad(s.env, rules_clp.c_str());
  if (loaded != 1)
    throw WorkloadError(rules_clp.string() + (loaded == 0 ? ": CLIPS cannot open it" : ": CLIPS refused it"));
  EnvReset(s.env);
  s.load_ms = cpu_ms() - start;

  const auto& rules = *workload.rules;
  for (const auto& type : rules.types) {
    void* deftemplate = EnvFindDeftemplate(s.env, type.name.c_str());
    if (deftemplate == nullptr) throw WorkloadError(rules_clp.string() + ": no deftemplate " + type.name);
    s.templates.push_back(deftemplate);
    std::vector<std::string> names;
    for (const auto& slot : type.slots) names.push_back(slot.name);
    s.slot_names.push_back(std::move(names));
    if (type.kind == inference::FactTypeInfo::Kind::kb) s.kept.push_back(deftemplate);
  }
  if (void* initial = EnvFindDeftemplate(s.env, "initial-fact")) s.kept.push_back(initial);
  s.advice = s.templates[workload.advice_type];
}

ClipsRunner::~ClipsRunner() {
  // DestroyEnvironment frees every atom, held or not.
  if (impl_ && impl_->env) DestroyEnvironment(impl_->env);
}

double ClipsRunner::load_ms() const { return impl_->load_ms; }

void ClipsRunner::prepare(const std::vector<RawPatient>& patients) {
  Impl& s = *impl_;
  s.slots.clear();
  s.facts.clear();
  s.first_fact.clear();
  for (const RawPatient& patient : patients) {
    s.first_fact.push_back(s.facts.size());
    for (const RawFact& raw : patient.facts) {
      Impl::Fact fact;
      fact.deftemplate = s.templates[raw.type];
      fact.first_slot = s.slots.size();
      fact.slot_count = raw.slots.size();
      for (std::size_t i = 0; i < raw.slots.size(); ++i) {
        Impl::Slot slot;
        slot.name = s.slot_names[raw.type][i].c_str();
        const RawValue& value = raw.slots[i];
        switch (value.kind) {
          case RawValue::Kind::symbol:
            SetType(slot.value, SYMBOL);
            SetValue(slot.value, EnvAddSymbol(s.env, value.symbol.c_str()));
            IncrementSymbolCount(GetValue(slot.value));
            break;
          case RawValue::Kind::integer:
            SetType(slot.value, INTEGER);
            SetValue(slot.value, EnvAddLong(s.env, value.integer));
            IncrementIntegerCount(GetValue(slot.value));
            break;
          case RawValue::Kind::number:
            SetType(slot.value, FLOAT);
            SetValue(slot.value, EnvAddDouble(s.env, value.number));
            IncrementFloatCount(GetValue(slot.value));
            break;
        }
        s.slots.push_back(slot);
      }
      s.facts.push_back(fact);
    }
  }
  s.first_fact.push_back(s.facts.size());
}

ClipsRunner::Outcome ClipsRunner::run_patient(std::size_t patient) {
  Impl& s = *impl_;
  // Clear, keeping the KB: find the next fact before retracting this one.
  void* fact = EnvGetNextFact(s.env, nullptr);
  while (fact != nullptr) {
    void* next = EnvGetNextFact(s.env, fact);
    if (!s.keeps(EnvFactDeftemplate(s.env, fact))) EnvRetract(s.env, fact);
    fact = next;
  }
  for (std::size_t f = s.first_fact.at(patient), end = s.first_fact.at(patient + 1); f < end; ++f) {
    const Impl::Fact& spec = s.facts[f];
    struct fact* created = EnvCreateFact(s.env, spec.deftemplate);
    for (std::size_t i = spec.first_slot; i < spec.first_slot + spec.slot_count; ++i) {
      const Impl::Slot& slot = s.slots[i];
      DATA_OBJECT value = slot.value;
      if (!EnvPutFactSlot(s.env, created, slot.name, &value))
        throw WorkloadError(std::string("CLIPS: EnvPutFactSlot refused slot ") + slot.name);
    }
    // A fact already present comes back as the existing one (fact duplication is off); only a
    // constraint violation gives null.
    if (EnvAssert(s.env, created) == nullptr) throw WorkloadError("CLIPS: EnvAssert refused a fact");
  }
  Outcome out;
  out.fired = static_cast<std::uint64_t>(EnvRun(s.env, -1));
  for (void* f = EnvGetNextFactInTemplate(s.env, s.advice, nullptr); f != nullptr;
       f = EnvGetNextFactInTemplate(s.env, s.advice, f))
    ++out.advice;
  return out;
}

PatientLines ClipsRunner::lines() const {
  const Impl& s = *impl_;
  PatientLines out;
  const auto& types = s.workload->rules->types;
  for (std::size_t t = 0; t < types.size(); ++t) {
    if (types[t].kind != inference::FactTypeInfo::Kind::derived && types[t].kind != inference::FactTypeInfo::Kind::output)
      continue;
    for (void* f = EnvGetNextFactInTemplate(s.env, s.templates[t], nullptr); f != nullptr;
         f = EnvGetNextFactInTemplate(s.env, s.templates[t], f)) {
      std::vector<std::string> values;
      for (const std::string& slot : s.slot_names[t]) {
        DATA_OBJECT value;
        EnvGetFactSlot(s.env, f, slot.c_str(), &value);
        switch (GetType(value)) {
          case SYMBOL: values.emplace_back(ValueToString(GetValue(value))); break;
          case INTEGER: values.push_back(std::to_string(ValueToLong(GetValue(value)))); break;
          case FLOAT: values.push_back(python_float(ValueToDouble(GetValue(value)))); break;
          default: throw WorkloadError("CLIPS: unexpected value type in a " + types[t].name + " fact");
        }
      }
      std::string line = fact_line(types[t], values);
      (static_cast<inference::TypeId>(t) == s.workload->advice_type ? out.advice : out.derived)
          .push_back(std::move(line));
    }
  }
  return out;
}

}  // namespace rapa::bench
