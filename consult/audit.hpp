// The audit store: every consultation kept in an SQLite file with its time, the patient input as
// it was read, the rule-base version and the advice with its proofs, each record chained to the
// one before by a SHA-256 hash so that an edited, inserted, reordered or deleted record is found
// by verify(). docs/audit.md describes the format for auditors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "consult/cases.hpp"
#include "consult/consultation.hpp"
#include "consult/knowledge.hpp"
#include "inference/engine.hpp"

namespace rapa::consult {

/// Anything the store cannot do, said with the file and the step that failed: "audit.sqlite:
/// saving record 12: database or disk is full".
class AuditError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One stored consultation.
struct AuditRecord {
  std::int64_t id = 0;        // 1, 2, 3, ... with no gaps
  std::string time;           // UTC, ISO 8601 with milliseconds: 2026-11-24T08:51:40.123Z
  std::string patient_name;   // the patient file as the user named it
  std::string patient_input;  // its exact bytes
  std::string rules_version;  // Knowledge::version
  std::string advice_json;    // render_json's output, proofs included
  std::string previous_hash;  // the hash of record id - 1; 64 zeros for the first
  std::string hash;           // sha256 of canonical_form(), hex
};

/// The bytes a record's hash is taken over: a tag naming the format, then every field but the
/// hash, in a fixed order, each as `name length:bytes\n`. Lengths make the split between fields
/// unambiguous, so no choice of patient text can make two different records hash alike.
std::string canonical_form(const AuditRecord& record);

/// The previous hash of the first record.
inline const std::string kGenesisHash(64, '0');

struct AuditVerification {
  bool intact = true;
  std::int64_t records = 0;     // records read
  std::string head_hash;        // the last record's hash when intact: note it to pin the chain
  std::int64_t bad_record = 0;  // the first record found wrong (0 when intact)
  std::string problem;          // "record 3: ..." in words
};

/// The SQLite connection behind an AuditStore (consult/audit.cpp).
struct AuditDb;

class AuditStore {
 public:
  /// Opens the store at `path`, creating it when `create` is true and it does not exist. Throws
  /// AuditError for a file that is not an SQLite database, a database that is not an audit store,
  /// a schema newer than this rapa, or any SQLite failure.
  explicit AuditStore(const std::string& path, bool create = true);
  ~AuditStore();
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  const std::string& path() const { return path_; }

  /// Saves one consultation in one transaction, chained to the last record, and returns it as
  /// stored (id, time and hashes filled in). `time` empty: now.
  AuditRecord record(std::string patient_name, std::string patient_input, std::string rules_version,
                     std::string advice_json, std::string time = {});

  /// Every record without its patient input and advice, in id order: for listing.
  std::vector<AuditRecord> list();
  std::optional<AuditRecord> get(std::int64_t id);
  /// Recomputes every hash and checks the links, the id sequence and the chain head.
  AuditVerification verify();

 private:
  std::string path_;
  std::unique_ptr<AuditDb> db_;
};

/// Saves a consultation: the advice as render_json gives it (proofs included), rule locations
/// relative to `home` as `rapa advise` shows them.
AuditRecord record_consultation(AuditStore& store, const Knowledge& knowledge,
                                const inference::Engine& engine, const Consultation& consultation,
                                const std::string& patient_name, const std::string& patient_bytes,
                                const std::string& home = {});

/// What changed between two renderings of a consultation (render_json output), as the golden
/// cases compare rule bases (consult/cases.hpp, compare()): advice paired by rule, kind and
/// subject, and for a pair its details, severity, grade, citations and text; needs-data items by
/// rule.
struct AdviceDiff {
  std::string stored_version, current_version;
  bool critical_before = false, critical_now = false;
  std::vector<AdviceChange> changes;
  bool unchanged() const { return changes.empty() && critical_before == critical_now; }
};
/// Throws AuditError when either is not a consultation in JSON.
AdviceDiff compare_advice(std::string_view stored_json, std::string_view current_json);

/// A stored consultation run again on the rules at `rule_paths`: nullopt, with the problems as
/// `rapa check` prints them in `errors`, when the rules or the stored patient no longer load or
/// the rules do not terminate.
struct Replay {
  std::string advice_json;  // today's advice, rendered as stored advice is
  AdviceDiff diff;
};
std::optional<Replay> replay(const AuditRecord& record, const std::vector<std::string>& rule_paths,
                             const std::string& home, std::string& errors);

}  // namespace rapa::consult
