#include "consult/audit.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "consult/render.hpp"
#include "support/diagnostic_render.hpp"
#include "support/sha256.hpp"

namespace rapa::consult {

namespace {

/// The schema this rapa writes; a store with a larger number was written by a newer rapa, whose
/// records this one could misread, so it refuses to open it.
constexpr int kSchemaVersion = 1;
constexpr std::string_view kCanonicalTag = "rapa-audit-record-v1\n";

std::string now_utc() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03}Z", text, millis);
}

}  // namespace

std::string canonical_form(const AuditRecord& record) {
  std::string out(kCanonicalTag);
  const auto field = [&](std::string_view name, std::string_view bytes) {
    out += fmt::format("{} {}:", name, bytes.size());
    out += bytes;
    out += '\n';
  };
  field("id", std::to_string(record.id));
  field("time", record.time);
  field("patient_name", record.patient_name);
  field("patient_input", record.patient_input);
  field("rules_version", record.rules_version);
  field("advice", record.advice_json);
  field("previous_hash", record.previous_hash);
  return out;
}

// --- SQLite, each failure said with the file and the step -----------------------------------------

struct AuditDb {
  std::string path;
  sqlite3* handle = nullptr;

  ~AuditDb() {
    if (handle) sqlite3_close_v2(handle);
  }

  [[noreturn]] void fail(std::string_view doing) const {
    throw AuditError(
        fmt::format("{}: {}: {}", path, doing, handle ? sqlite3_errmsg(handle) : "out of memory"));
  }

  void exec(const char* sql, std::string_view doing) const {
    if (sqlite3_exec(handle, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(doing);
  }
};

namespace {

class Statement {
 public:
  Statement(const AuditDb& db, const char* sql, std::string doing) : db_(db), doing_(std::move(doing)) {
    if (sqlite3_prepare_v2(db_.handle, sql, -1, &stmt_, nullptr) != SQLITE_OK) db_.fail(doing_);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, std::string_view text) {
    check(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  /// A blob keeps bytes as they are, which text does not promise for input that is not UTF-8.
  void bind_blob(int index, std::string_view bytes) {
    check(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  }
  void bind(int index, std::int64_t value) { check(sqlite3_bind_int64(stmt_, index, value)); }

  /// True when a row is ready, false when done.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail(doing_);
  }

  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                : std::string();
  }
  std::string blob(int column) const {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                : std::string();
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) db_.fail(doing_);
  }

  const AuditDb& db_;
  std::string doing_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// A transaction rolled back unless committed, so that an exception leaves nothing half-written.
class Transaction {
 public:
  Transaction(const AuditDb& db, const char* begin, std::string_view doing) : db_(db) {
    db_.exec(begin, doing);
  }
  ~Transaction() {
    if (open_) sqlite3_exec(db_.handle, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit(std::string_view doing) {
    db_.exec("COMMIT", doing);
    open_ = false;
  }

 private:
  const AuditDb& db_;
  bool open_ = true;
};

constexpr const char* kColumns =
    "id, time, patient_name, patient_input, rules_version, advice, previous_hash, hash";

AuditRecord read_record(const Statement& row) {
  AuditRecord r;
  r.id = row.integer(0);
  r.time = row.text(1);
  r.patient_name = row.text(2);
  r.patient_input = row.blob(3);
  r.rules_version = row.text(4);
  r.advice_json = row.text(5);
  r.previous_hash = row.text(6);
  r.hash = row.text(7);
  return r;
}

std::string meta_value(const AuditDb& db, const char* key) {
  Statement s(db, "SELECT value FROM meta WHERE key = ?", "reading the chain head");
  s.bind(1, std::string_view(key));
  if (!s.step()) throw AuditError(fmt::format("{}: the audit metadata has no '{}' (damaged?)", db.path, key));
  return s.text(0);
}

struct Head {
  std::int64_t id = 0;
  std::string hash;
};

Head read_head(const AuditDb& db) {
  Head head;
  const std::string id = meta_value(db, "head_id");
  try {
    std::size_t used = 0;
    head.id = std::stoll(id, &used);
    if (used != id.size()) throw std::invalid_argument(id);
  } catch (const std::exception&) {
    throw AuditError(fmt::format("{}: the chain head's id '{}' is not a number (damaged?)", db.path, id));
  }
  head.hash = meta_value(db, "head_hash");
  return head;
}

bool table_exists(const AuditDb& db, const char* name) {
  Statement s(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
              "reading the audit schema");
  s.bind(1, std::string_view(name));
  return s.step();
}

}  // namespace

AuditStore::AuditStore(const std::string& path, bool create) : path_(path), db_(std::make_unique<AuditDb>()) {
  db_->path = path;
  std::error_code ec;
  if (!create && !std::filesystem::exists(path, ec))
    throw AuditError(fmt::format("{}: no audit database there (`rapa advise --audit` creates it)", path));
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_->handle, flags, nullptr) != SQLITE_OK)
    db_->fail("opening the audit database");
  sqlite3_extended_result_codes(db_->handle, 1);
  // Another rapa writing at the same moment holds the lock for one short transaction: wait for it.
  sqlite3_busy_timeout(db_->handle, 10000);
  // The first statement reads the file's header: this is where a file that is not SQLite shows.
  db_->exec("PRAGMA journal_mode = WAL", "opening the audit database");
  // FULL: with WAL, each commit is fsynced before record() returns, so a record reported saved
  // survives a power cut too, not only a killed process (NORMAL would give only the latter). One
  // fsync per consultation costs nothing beside the consultation itself.
  db_->exec("PRAGMA synchronous = FULL", "setting durability");

  if (table_exists(*db_, "meta")) {
    const std::string version = meta_value(*db_, "schema_version");
    if (version != std::to_string(kSchemaVersion)) {
      int number = 0;
      try {
        number = std::stoi(version);
      } catch (const std::exception&) {
      }
      throw AuditError(
          number > kSchemaVersion
              ? fmt::format(
                    "{}: audit schema version {} is newer than this rapa reads ({}); use a newer rapa", path,
                    version, kSchemaVersion)
              : fmt::format("{}: unknown audit schema version '{}'", path, version));
    }
    if (!table_exists(*db_, "consultations"))
      throw AuditError(fmt::format("{}: the audit table 'consultations' is missing (damaged?)", path));
    return;
  }
  Transaction t(*db_, "BEGIN IMMEDIATE", "creating the audit schema");
  {
    Statement any(*db_, "SELECT count(*) FROM sqlite_master", "reading the audit schema");
    any.step();
    if (any.integer(0) != 0)
      throw AuditError(
          fmt::format("{}: an SQLite database, but not a rapa audit store (it has no 'meta' table)", path));
  }
  if (!create) throw AuditError(fmt::format("{}: an empty database, not a rapa audit store", path));
  db_->exec(
      "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE consultations ("
      "  id INTEGER PRIMARY KEY,"
      "  time TEXT NOT NULL,"
      "  patient_name TEXT NOT NULL,"
      "  patient_input BLOB NOT NULL,"
      "  rules_version TEXT NOT NULL,"
      "  advice TEXT NOT NULL,"
      "  previous_hash TEXT NOT NULL,"
      "  hash TEXT NOT NULL);",
      "creating the audit schema");
  Statement meta(
      *db_, "INSERT INTO meta (key, value) VALUES ('schema_version', ?), ('head_id', '0'), ('head_hash', ?)",
      "creating the audit schema");
  meta.bind(1, std::to_string(kSchemaVersion));
  meta.bind(2, std::string_view(kGenesisHash));
  meta.step();
  t.commit("creating the audit schema");
}

AuditStore::~AuditStore() = default;

AuditRecord AuditStore::record(std::string patient_name, std::string patient_input, std::string rules_version,
                               std::string advice_json, std::string time) {
  AuditRecord r;
  r.time = time.empty() ? now_utc() : std::move(time);
  r.patient_name = std::move(patient_name);
  r.patient_input = std::move(patient_input);
  r.rules_version = std::move(rules_version);
  r.advice_json = std::move(advice_json);
  // IMMEDIATE takes the write lock before reading the head, so two writers cannot both chain to it.
  Transaction t(*db_, "BEGIN IMMEDIATE", "starting to save a record");
  const Head head = read_head(*db_);
  r.id = head.id + 1;
  r.previous_hash = head.hash;
  r.hash = support::sha256_hex(canonical_form(r));
  const std::string doing = fmt::format("saving record {}", r.id);
  Statement insert(*db_,
                   "INSERT INTO consultations (id, time, patient_name, patient_input, rules_version, advice, "
                   "previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   doing);
  insert.bind(1, r.id);
  insert.bind(2, std::string_view(r.time));
  insert.bind(3, std::string_view(r.patient_name));
  insert.bind_blob(4, r.patient_input);
  insert.bind(5, std::string_view(r.rules_version));
  insert.bind(6, std::string_view(r.advice_json));
  insert.bind(7, std::string_view(r.previous_hash));
  insert.bind(8, std::string_view(r.hash));
  insert.step();
  // The head in meta, not only the last row, says where the chain ends: deleting the last record
  // leaves a chain that is whole in itself, and only the head shows it is short.
  Statement move_head(*db_,
                      "UPDATE meta SET value = CASE key WHEN 'head_id' THEN ? ELSE ? END "
                      "WHERE key IN ('head_id', 'head_hash')",
                      doing);
  move_head.bind(1, std::to_string(r.id));
  move_head.bind(2, std::string_view(r.hash));
  move_head.step();
  t.commit(doing);
  return r;
}

std::vector<AuditRecord> AuditStore::list() {
  Statement s(
      *db_,
      "SELECT id, time, patient_name, rules_version, previous_hash, hash FROM consultations ORDER BY id",
      "listing records");
  std::vector<AuditRecord> out;
  while (s.step()) {
    AuditRecord r;
    r.id = s.integer(0);
    r.time = s.text(1);
    r.patient_name = s.text(2);
    r.rules_version = s.text(3);
    r.previous_hash = s.text(4);
    r.hash = s.text(5);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<AuditRecord> AuditStore::get(std::int64_t id) {
  const std::string sql = fmt::format("SELECT {} FROM consultations WHERE id = ?", kColumns);
  Statement s(*db_, sql.c_str(), fmt::format("reading record {}", id));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_record(s);
}

AuditVerification AuditStore::verify() {
  AuditVerification v;
  const auto bad = [&](std::int64_t id, std::string problem) {
    v.intact = false;
    v.bad_record = id;
    v.problem = std::move(problem);
    v.head_hash.clear();
    return v;
  };
  // One read transaction: the rows and the head as of one moment, whatever writers do meanwhile.
  Transaction t(*db_, "BEGIN", "verifying");
  const std::string sql = fmt::format("SELECT {} FROM consultations ORDER BY id", kColumns);
  Statement rows(*db_, sql.c_str(), "verifying");
  std::int64_t expected_id = 1;
  std::string expected_previous = kGenesisHash;
  while (rows.step()) {
    const AuditRecord r = read_record(rows);
    ++v.records;
    if (support::sha256_hex(canonical_form(r)) != r.hash)
      return bad(r.id, fmt::format("record {} was altered: its contents no longer match its hash", r.id));
    if (r.id > expected_id) {
      return bad(r.id, expected_id + 1 == r.id
                           ? fmt::format("record {} is missing: the records go from {} to {}", expected_id,
                                         expected_id - 1, r.id)
                           : fmt::format("records {} to {} are missing: the records go from {} to {}",
                                         expected_id, r.id - 1, expected_id - 1, r.id));
    }
    if (r.id < expected_id) return bad(r.id, fmt::format("record {} has an id out of sequence", r.id));
    if (r.previous_hash != expected_previous) {
      return bad(r.id,
                 r.id == 1
                     ? std::string("record 1 does not start the chain: its previous hash is not zero")
                     : fmt::format("record {} does not follow record {}: its previous hash is not record "
                                   "{}'s hash (a record inserted, replaced or reordered)",
                                   r.id, r.id - 1, r.id - 1));
    }
    expected_previous = r.hash;
    ++expected_id;
  }
  const std::int64_t last = expected_id - 1;
  const Head head = read_head(*db_);
  if (head.id > last) {
    return bad(last + 1,
               head.id == last + 1
                   ? fmt::format("record {} is missing: the chain head says it is the last record", head.id)
                   : fmt::format("records {} to {} are missing: the chain head says the last is {}", last + 1,
                                 head.id, head.id));
  }
  if (head.id < last)
    return bad(head.id + 1, fmt::format("record {} was added outside rapa: the chain head ends at record {}",
                                        head.id + 1, head.id));
  if (head.hash != expected_previous)
    return bad(last, fmt::format("record {} is not the one the chain head names: their hashes differ", last));
  v.head_hash = expected_previous;
  return v;
}

// --- Consultations in, consultations compared -----------------------------------------------------

AuditRecord record_consultation(AuditStore& store, const Knowledge& knowledge,
                                const inference::Engine& engine, const Consultation& consultation,
                                const std::string& patient_name, const std::string& patient_bytes,
                                const std::string& home) {
  RenderOptions render;
  render.patient = patient_name;
  render.home = home;
  return store.record(patient_name, patient_bytes, knowledge.version,
                      render_json(consultation, knowledge, engine, render));
}

namespace {

using nlohmann::json;

std::string string_or_empty(const json& value) {
  return value.is_string() ? value.get<std::string>() : std::string();
}

/// The consultation a render_json output describes, as far as compare() looks at it: the stored
/// advice is JSON, and reading both sides back the same way compares like with like.
Consultation consultation_from_json(std::string_view text, std::string_view which) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw AuditError(fmt::format("the {} advice is not valid JSON: {}", which, e.what()));
  }
  if (!root.is_object() || !root.contains("advice") || !root["advice"].is_array())
    throw AuditError(fmt::format("the {} advice is not a consultation: it has no advice list", which));
  Consultation c;
  c.rules_version = string_or_empty(root.value("rules_version", json()));
  c.critical = root.value("critical", false);
  for (const json& a : root["advice"]) {
    AdviceView view;
    const std::string kind = string_or_empty(a.value("kind", json()));
    for (auto k : {inference::AdviceKind::recommend, inference::AdviceKind::warn,
                   inference::AdviceKind::contraindicate, inference::AdviceKind::monitor,
                   inference::AdviceKind::ask, inference::AdviceKind::info})
      if (inference::advice_kind_name(k) == kind) view.kind = k;
    view.subject = string_or_empty(a.value("subject", json()));
    view.severity = string_or_empty(a.value("severity", json()));
    for (const json& d : a.value("details", json::array()))
      view.details.push_back(
          {string_or_empty(d.value("key", json())), string_or_empty(d.value("shown", json())), 0, 0});
    view.text = string_or_empty(a.value("text", json()));
    const json rule = a.value("rule", json::object());
    view.rule = string_or_empty(rule.value("name", json()));
    view.title = string_or_empty(rule.value("title", json()));
    view.defined_at = string_or_empty(rule.value("defined_at", json()));
    if (const json grade = a.value("grade", json()); grade.is_object()) {
      const std::string letter = string_or_empty(grade.value("letter", json()));
      view.grade = letter.empty() ? '\0' : letter[0];
    }
    for (const json& cite : a.value("citations", json::array()))
      view.citations.push_back({string_or_empty(cite.value("key", json())), "", "", "",
                                string_or_empty(cite.value("level", json())),
                                cite.value("level_derived", false)});
    c.advice.push_back(std::move(view));
  }
  for (const json& n : root.value("needs_data", json::array())) {
    NeedsDataView view;
    const json rule = n.value("rule", json::object());
    view.rule = string_or_empty(rule.value("name", json()));
    view.title = string_or_empty(rule.value("title", json()));
    view.defined_at = string_or_empty(rule.value("defined_at", json()));
    for (const json& m : n.value("missing", json::array()))
      view.missing.push_back(
          {string_or_empty(m.value("label", json())), string_or_empty(m.value("reason", json()))});
    for (const json& stake : n.value("at_stake", json::array()))
      view.at_stake.push_back(string_or_empty(stake));
    c.needs_data.push_back(std::move(view));
  }
  return c;
}

}  // namespace

AdviceDiff compare_advice(std::string_view stored_json, std::string_view current_json) {
  const Consultation before = consultation_from_json(stored_json, "stored");
  const Consultation after = consultation_from_json(current_json, "current");
  AdviceDiff diff;
  diff.stored_version = before.rules_version;
  diff.current_version = after.rules_version;
  diff.critical_before = before.critical;
  diff.critical_now = after.critical;
  diff.changes = compare(before, after);
  return diff;
}

std::optional<Replay> replay(const AuditRecord& record, const std::vector<std::string>& rule_paths,
                             const std::string& home, std::string& errors) {
  Knowledge knowledge;
  support::DiagnosticEngine diags;
  // The rule base's warnings are for its authors (`rapa check`); only errors stop a replay.
  diags.disable_warning_group("all");
  const auto failed = [&] {
    errors = support::render_text(*knowledge.sources, diags.sorted()) +
             support::render_summary(diags.error_count(), diags.warning_count());
    return std::nullopt;
  };
  if (!load_knowledge_into(knowledge, rule_paths, diags)) return failed();
  inference::Engine engine(knowledge.rules);
  if (!load_patient_text(knowledge, record.patient_name, record.patient_input, engine, diags))
    return failed();
  if (!engine.run().completed) {
    errors = "the rules kept firing past the limit; the rule base needs fixing\n";
    return std::nullopt;
  }
  RenderOptions render;
  render.patient = record.patient_name;
  render.home = home;
  Replay result;
  result.advice_json = render_json(consult(knowledge, engine), knowledge, engine, render);
  result.diff = compare_advice(record.advice_json, result.advice_json);
  return result;
}

}  // namespace rapa::consult
