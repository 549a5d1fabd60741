// The audit store: consultations saved and read back, the hash chain catching every kind of
// tampering done behind rapa's back (straight through SQLite), replay under changed rules, and a
// writer killed mid-run losing nothing it had reported committed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "consult/audit.hpp"
#include "support/sha256.hpp"
#include "tests/read_file.hpp"

namespace rapa::consult {
namespace {

namespace fs = std::filesystem;
using test::read_file;

const std::string kHome = RAPA_SOURCE_DIR;
const std::string kTestKb = std::string(RAPA_TEST_DIR) + "/diagnostics/kb";

/// A fresh directory for one test, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("rapa-audit-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

Knowledge load(const std::vector<std::string>& paths) {
  support::DiagnosticEngine diags;
  auto knowledge = load_knowledge(paths, diags);
  REQUIRE(knowledge);
  return std::move(*knowledge);
}

Knowledge bundled() { return load({kHome + "/rules", kHome + "/kb"}); }

/// Advises on `text` and saves the consultation as `rapa advise --audit` does.
AuditRecord advise_and_record(AuditStore& store, Knowledge& knowledge, const std::string& name,
                              const std::string& text, const std::string& home) {
  inference::Engine engine(knowledge.rules);
  support::DiagnosticEngine diags;
  REQUIRE(load_patient_text(knowledge, name, text, engine, diags));
  REQUIRE(engine.run().completed);
  return record_consultation(store, knowledge, engine, consult(knowledge, engine), name, text, home);
}

const std::string kItpAdult = kHome + "/examples/patients/itp_adult.yaml";

const std::vector<std::string> kSmallPatients = {
    "patient: {age: 40 years, sex: male, pregnant: no, breastfeeding: no}\n"
    "diagnoses: [{code: ITP, status: active}]\n"
    "medications: [{drug: Vfend, status: active}, {drug: sirolimus, status: active}]\n",
    "patient: {age: 40 years, sex: male, pregnant: no, breastfeeding: no}\n"
    "diagnoses: [{code: ITP, status: active}]\n",
    "patient: {age: 9 years, sex: female}\n"
    "diagnoses: [{code: ALPS, status: active}]\n"
    "medications: none\n",
    "patient: {age: 60 years, sex: female, pregnant: no, breastfeeding: no}\n"
    "diagnoses: [{code: AIHA, status: active}]\n"
    "medications: none\n",
};

/// Five records: the example patient, then the small ones.
void fill(const std::string& db) {
  Knowledge k = bundled();
  AuditStore store(db);
  advise_and_record(store, k, "examples/patients/itp_adult.yaml", read_file(kItpAdult), kHome);
  for (std::size_t i = 0; i < kSmallPatients.size(); ++i)
    advise_and_record(store, k, "small" + std::to_string(i) + ".yaml", kSmallPatients[i], kHome);
}

/// Raw SQLite, for tampering as someone with the file and the sqlite3 shell would.
class Raw {
 public:
  explicit Raw(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK); }
  ~Raw() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  /// Writes a whole record, its hash computed as rapa would: a forger who knows the format.
  void put(const AuditRecord& r, bool replace) {
    sqlite3_stmt* s = nullptr;
    const std::string sql =
        std::string(replace ? "INSERT OR REPLACE" : "INSERT") +
        " INTO consultations (id, time, patient_name, patient_input, rules_version, advice, "
        "previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    sqlite3_bind_int64(s, 1, r.id);
    int column = 2;
    for (const std::string* field : {&r.time, &r.patient_name, &r.patient_input, &r.rules_version,
                                     &r.advice_json, &r.previous_hash, &r.hash})
      sqlite3_bind_text(s, column++, field->data(), static_cast<int>(field->size()), SQLITE_TRANSIENT);
    CHECK(sqlite3_step(s) == SQLITE_DONE);
    sqlite3_finalize(s);
  }

 private:
  sqlite3* db_ = nullptr;
};

AuditRecord stored(const std::string& db, std::int64_t id) {
  AuditStore store(db, false);
  auto r = store.get(id);
  REQUIRE(r);
  return *r;
}

AuditRecord rehashed(AuditRecord r) {
  r.hash = support::sha256_hex(canonical_form(r));
  return r;
}

AuditVerification verified(const std::string& db) {
  AuditStore store(db, false);
  return store.verify();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("The audit store saves consultations whole and chained, and they verify", "[audit]") {
  TempDir dir;
  const std::string db = dir / "audit.sqlite";
  fill(db);
  AuditStore store(db, false);
  const AuditVerification v = store.verify();
  INFO(v.problem);
  CHECK(v.intact);
  CHECK(v.records == 5);
  const auto records = store.list();
  REQUIRE(records.size() == 5);
  CHECK(v.head_hash == records.back().hash);

  const auto first = store.get(1);
  REQUIRE(first);
  CHECK(first->patient_name == "examples/patients/itp_adult.yaml");
  CHECK(first->patient_input == read_file(kItpAdult));  // the file's exact bytes
  CHECK(first->rules_version == bundled().version);
  CHECK(first->previous_hash == kGenesisHash);
  CHECK(first->hash == support::sha256_hex(canonical_form(*first)));
  CHECK(first->time.size() == 24);
  CHECK(first->time.back() == 'Z');
  const auto advice = nlohmann::json::parse(first->advice_json);
  REQUIRE(!advice["advice"].empty());
  CHECK(advice["advice"][0].contains("proof"));
  CHECK(advice["rules_version"] == first->rules_version);
  // Rule locations relative to the home, as `rapa advise` prints them.
  CHECK(advice["advice"][0]["rule"]["defined_at"].get<std::string>().rfind("rules/", 0) == 0);
  CHECK(store.get(2)->previous_hash == first->hash);
  CHECK(!store.get(6));

  // Reopened, the chain goes on where it ended.
  const AuditRecord sixth = store.record("x.yaml", "bytes", std::string(64, 'a'), "{}");
  CHECK(sixth.id == 6);
  CHECK(sixth.previous_hash == records.back().hash);
  CHECK(store.verify().intact);
}

TEST_CASE("An audit record's canonical form leaves no doubt where a field ends", "[audit]") {
  AuditRecord a, b;
  a.patient_name = "ab";
  a.patient_input = "c";
  b.patient_name = "a";
  b.patient_input = "bc";
  CHECK(canonical_form(a) != canonical_form(b));
}

TEST_CASE("Verifying the audit store names the first record tampered with", "[audit][tamper]") {
  TempDir dir;
  const std::string db = dir / "audit.sqlite";
  fill(db);
  REQUIRE(verified(db).intact);
  std::int64_t bad = 0;
  std::string says;

  SECTION("a field of a middle record edited") {
    // One space less in the JSON: the advice reads the same, and still the hash catches it.
    Raw(db).exec(
        "UPDATE consultations SET advice = replace(advice, '\"critical\": ', '\"critical\":') WHERE id = 3");
    bad = 3, says = "record 3 was altered";
  }
  SECTION("a middle record's patient input edited") {
    Raw(db).exec("UPDATE consultations SET patient_input = CAST('patient: {}' AS BLOB) WHERE id = 2");
    bad = 2, says = "record 2 was altered";
  }
  SECTION("the time of the first record edited") {
    Raw(db).exec("UPDATE consultations SET time = '2020-01-01T00:00:00.000Z' WHERE id = 1");
    bad = 1, says = "record 1 was altered";
  }
  SECTION("a middle record deleted") {
    Raw(db).exec("DELETE FROM consultations WHERE id = 3");
    bad = 4, says = "record 3 is missing";
  }
  SECTION("the last record deleted") {
    Raw(db).exec("DELETE FROM consultations WHERE id = 5");
    bad = 5, says = "record 5 is missing";
  }
  SECTION("two records' ids swapped") {
    Raw raw(db);
    raw.exec("UPDATE consultations SET id = -2 WHERE id = 2");
    raw.exec("UPDATE consultations SET id = 2 WHERE id = 3");
    raw.exec("UPDATE consultations SET id = 3 WHERE id = -2");
    bad = 2, says = "record 2 was altered";
  }
  SECTION("two records reordered, their own hashes recomputed") {
    AuditRecord two = stored(db, 2), three = stored(db, 3);
    std::swap(two.id, three.id);
    Raw raw(db);
    raw.put(rehashed(two), true);
    raw.put(rehashed(three), true);
    bad = 2, says = "record 2 does not follow record 1";
  }
  SECTION("a forged record appended with its own hash right but the wrong link, head moved too") {
    AuditRecord forged = stored(db, 5);
    forged.id = 6;
    forged.previous_hash = stored(db, 4).hash;
    forged = rehashed(forged);
    Raw raw(db);
    raw.put(forged, false);
    raw.exec("UPDATE meta SET value = '6' WHERE key = 'head_id'");
    raw.exec("UPDATE meta SET value = '" + forged.hash + "' WHERE key = 'head_hash'");
    bad = 6, says = "record 6 does not follow record 5";
  }
  SECTION("a forged record appended, linked right, behind the head's back") {
    AuditRecord forged = stored(db, 5);
    forged.id = 6;
    forged.previous_hash = forged.hash;
    Raw(db).put(rehashed(forged), false);
    bad = 6, says = "record 6 was added outside rapa";
  }
  SECTION("a middle record replaced by a forgery linked to the one before") {
    AuditRecord forged = stored(db, 3);
    forged.patient_input = "patient: {age: 50 years, sex: male}\n";
    Raw(db).put(rehashed(forged), true);
    bad = 4, says = "record 4 does not follow record 3";
  }
  SECTION("the chain head's hash edited") {
    Raw(db).exec("UPDATE meta SET value = '" + std::string(64, 'f') + "' WHERE key = 'head_hash'");
    bad = 5, says = "record 5 is not the one the chain head names";
  }

  const AuditVerification v = verified(db);
  INFO(v.problem);
  CHECK(!v.intact);
  CHECK(v.bad_record == bad);
  CHECK(contains(v.problem, says));
}

TEST_CASE("The audit store refuses files it cannot use, with a clear message", "[audit][errors]") {
  TempDir dir;
  const auto message = [](const std::string& path, bool create) {
    try {
      AuditStore store(path, create);
    } catch (const AuditError& e) {
      return std::string(e.what());
    }
    return std::string("(opened)");
  };

  const std::string text = dir / "notes.txt";
  std::ofstream(text) << "these are not the records you are looking for, not even close, no no no\n";
  CHECK(message(text, true) == text + ": opening the audit database: file is not a database");
  CHECK(read_file(text).rfind("these are", 0) == 0);  // and it was left alone

  const std::string missing = dir / "missing.sqlite";
  CHECK(contains(message(missing, false), missing + ": no audit database there"));
  CHECK(!fs::exists(missing));

  const std::string other = dir / "other.sqlite";
  Raw(other).exec("CREATE TABLE patients (name TEXT)");
  CHECK(contains(message(other, true), other + ": an SQLite database, but not a rapa audit store"));

  const std::string newer = dir / "newer.sqlite";
  { AuditStore store(newer); }
  Raw(newer).exec("UPDATE meta SET value = '7' WHERE key = 'schema_version'");
  CHECK(contains(message(newer, true), newer + ": audit schema version 7 is newer than this rapa reads (1)"));

  const std::string directory = dir / "a-directory";
  fs::create_directories(directory);
  CHECK(contains(message(directory, true), directory + ": opening the audit database: "));
}

TEST_CASE("Replaying an audit record under unchanged rules reports no change", "[audit][replay]") {
  TempDir dir;
  const std::string db = dir / "audit.sqlite";
  fill(db);
  for (std::int64_t id : {1, 2, 3}) {
    std::string errors;
    const auto result = replay(stored(db, id), {kHome + "/rules", kHome + "/kb"}, kHome, errors);
    INFO(errors);
    REQUIRE(result);
    CHECK(result->diff.unchanged());
    CHECK(result->diff.stored_version == result->diff.current_version);
    CHECK(result->advice_json == stored(db, id).advice_json);
  }
}

const std::string kRulesThen = R"(
rule itp.sirolimus
  title "Sirolimus for ITP"
  when
    diagnosis(code: ITP, status: active)
  then
    recommend sirolimus
      start 2..4 mg/day, trough 4..15 ng/mL
      reassess at 3 months
      "Off-label use in refractory ITP."
  grade C
  cite feng2020_itp
end

rule ddi.strong_inhibitor
  title "Strong CYP3A4 inhibitor with sirolimus"
  when
    medication(drug: sirolimus, status: active | planned)
    medication(drug: ?m, status: active | planned)
    cyp3a4(drug: ?m, role: inhibitor, strength: strong)
  then
    warn high "{?m} is a strong CYP3A4 inhibitor: avoid the combination."
  cite rapamune_label, uptodate_cyp3a
end
)";

// Today's rules: the dose lowered, the interaction rule gone, a new note.
const std::string kRulesNow = R"(
rule itp.sirolimus
  title "Sirolimus for ITP"
  when
    diagnosis(code: ITP, status: active)
  then
    recommend sirolimus
      start 1..2 mg/day, trough 4..15 ng/mL
      reassess at 3 months
      "Off-label use in refractory ITP."
  grade C
  cite feng2020_itp, csh2025
end

rule itp.note
  title "A note on ITP"
  when
    diagnosis(code: ITP, status: active)
  then
    info "Sirolimus in ITP is off-label."
  grade C
  cite feng2020_itp
end
)";

TEST_CASE("Replaying an audit record under changed rules shows what changed", "[audit][replay]") {
  TempDir dir;
  fs::copy(kTestKb, dir.path / "kb", fs::copy_options::recursive);
  std::ofstream(dir / "then.rules") << kRulesThen;
  std::ofstream(dir / "now.rules") << kRulesNow;
  const std::string db = dir / "audit.sqlite";
  {
    Knowledge then = load({dir / "then.rules", dir / "kb"});
    AuditStore store(db);
    advise_and_record(store, then, "patient.yaml",
                      "patient: {age: 40 years, sex: male}\n"
                      "diagnoses: [{code: ITP, status: active}]\n"
                      "medications: [{drug: Vfend, status: active}, {drug: sirolimus, status: planned}]\n",
                      "");
  }
  std::string errors;
  const auto result = replay(stored(db, 1), {dir / "now.rules", dir / "kb"}, "", errors);
  INFO(errors);
  REQUIRE(result);
  const AdviceDiff& diff = result->diff;
  CHECK(!diff.unchanged());
  CHECK(diff.stored_version != diff.current_version);
  std::vector<std::string> gained, lost;
  const AdviceChange* sirolimus = nullptr;
  for (const AdviceChange& change : diff.changes) {
    INFO(change.item);
    if (change.kind == AdviceChange::Kind::gained) gained.push_back(change.item);
    if (change.kind == AdviceChange::Kind::lost) lost.push_back(change.item);
    if (change.kind == AdviceChange::Kind::changed) {
      CHECK(!sirolimus);
      sirolimus = &change;
    }
  }
  REQUIRE(gained.size() == 1);
  CHECK(gained[0].rfind("info [itp.note]", 0) == 0);
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].rfind("warn high [ddi.strong_inhibitor]", 0) == 0);
  REQUIRE(sirolimus);
  CHECK(sirolimus->item.rfind("recommend sirolimus [itp.sirolimus]", 0) == 0);
  CHECK(sirolimus->what == std::vector<std::string>{"start 2..4 mg/day -> 1..2 mg/day", "cites csh2025"});

  // Rules that no longer load: a clear failure, not a replay.
  std::ofstream(dir / "broken.rules") << "rule broken\n";
  CHECK(!replay(stored(db, 1), {dir / "broken.rules", dir / "kb"}, "", errors));
  CHECK(contains(errors, "broken.rules:"));
}

TEST_CASE("An audit writer killed mid-run loses nothing it committed", "[audit][crash]") {
  TempDir dir;
  const std::string db = dir / "audit.sqlite";
  // One real consultation, rendered once: the writer saves it again and again, so that the kill
  // lands while a large record is being written.
  std::string advice;
  {
    Knowledge k = bundled();
    AuditStore store(db);
    advice = advise_and_record(store, k, "itp_adult.yaml", read_file(kItpAdult), kHome).advice_json;
  }
  const std::string input = read_file(kItpAdult);

  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t writer = fork();
  REQUIRE(writer >= 0);
  if (writer == 0) {
    // The child: save records until killed, telling the parent each id once it is committed.
    close(fds[0]);
    try {
      AuditStore store(db);
      for (int i = 0;; ++i) {
        const AuditRecord r =
            store.record("writer-" + std::to_string(i) + ".yaml", input, std::string(64, 'b'), advice);
        const std::string line = std::to_string(r.id) + "\n";
        if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
      }
    } catch (...) {
      _exit(2);
    }
  }
  close(fds[1]);
  std::string reported;
  char buffer[256];
  const auto ids_seen = [&] { return std::count(reported.begin(), reported.end(), '\n'); };
  while (ids_seen() < 15) {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    REQUIRE(n > 0);  // the writer died early otherwise
    reported.append(buffer, static_cast<std::size_t>(n));
  }
  // A little more, so that the kill falls at an arbitrary point of a transaction.
  usleep(static_cast<useconds_t>(1000 + (getpid() % 7) * 1300));
  REQUIRE(kill(writer, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(writer, &status, 0) == writer);
  CHECK(WIFSIGNALED(status));
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
    reported.append(buffer, static_cast<std::size_t>(n));
  close(fds[0]);

  AuditStore store(db, false);
  const AuditVerification v = store.verify();
  INFO(v.problem);
  CHECK(v.intact);
  std::set<std::int64_t> committed;
  for (std::size_t at = 0, end; (end = reported.find('\n', at)) != std::string::npos; at = end + 1)
    committed.insert(std::stoll(reported.substr(at, end - at)));
  REQUIRE(committed.size() >= 15);
  CHECK(*committed.begin() == 2);  // record 1 was the parent's
  CHECK(v.records >= static_cast<std::int64_t>(committed.size()) + 1);
  for (std::int64_t id : committed) {
    const auto r = store.get(id);
    REQUIRE(r);
    CHECK(r->patient_input == input);
    CHECK(r->advice_json == advice);
  }
  // And the store takes new records after the crash.
  CHECK(store.record("after.yaml", input, std::string(64, 'c'), advice).id == v.records + 1);
  CHECK(store.verify().intact);
}

}  // namespace
}  // namespace rapa::consult
