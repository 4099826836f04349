// SQLite implementation of Store: WAL, versioned migrations, one prepared
// statement per mutation kind, one transaction per batch.
//
// Written for the commit path: rows are upserted in place (only the columns
// that can change are rewritten), and tables that are only ever read back
// whole on start-up (nonces, credit) have no unique index, so an insert
// appends to the last page instead of touching a random B-tree leaf. The
// coordinator guarantees their uniqueness in memory.
#include <sqlite3.h>

#include <functional>
#include <type_traits>
#include <unordered_map>

#include "server/store.h"

namespace p2c2r::server {
namespace {

// Each entry moves the schema from version i to i+1. Append, never edit.
const char* const kMigrations[] = {
    R"(
CREATE TABLE hosts (id INTEGER PRIMARY KEY, public_key TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  caps TEXT NOT NULL, registered_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
  valid_results INTEGER NOT NULL, invalid_results INTEGER NOT NULL, error_results INTEGER NOT NULL,
  credit REAL NOT NULL);
CREATE TABLE workloads (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
  priority TEXT NOT NULL, submitter TEXT NOT NULL, spec TEXT NOT NULL, policy TEXT NOT NULL,
  state TEXT NOT NULL, reason TEXT NOT NULL, created_ms INTEGER NOT NULL, finished_ms INTEGER NOT NULL);
CREATE TABLE units (id INTEGER PRIMARY KEY, workload_id INTEGER NOT NULL REFERENCES workloads(id),
  idx INTEGER NOT NULL, stage TEXT NOT NULL, kernel TEXT NOT NULL, kernel_version INTEGER NOT NULL,
  params TEXT NOT NULL, seed INTEGER NOT NULL, deadline_ms INTEGER NOT NULL,
  delay_bound_ms INTEGER NOT NULL, state TEXT NOT NULL, canonical TEXT NOT NULL,
  reason TEXT NOT NULL, ready_ms INTEGER NOT NULL, inputs TEXT NOT NULL);
CREATE TABLE unit_deps (unit_id INTEGER NOT NULL, dep_id INTEGER NOT NULL, position INTEGER NOT NULL,
  PRIMARY KEY (unit_id, position));
CREATE TABLE replicas (id INTEGER PRIMARY KEY, unit_id INTEGER NOT NULL REFERENCES units(id),
  host_id INTEGER NOT NULL, state TEXT NOT NULL, sent_ms INTEGER NOT NULL,
  report_by_ms INTEGER NOT NULL, reported_ms INTEGER NOT NULL, digest TEXT NOT NULL,
  error TEXT NOT NULL, validity TEXT NOT NULL);
CREATE TABLE blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL);
CREATE TABLE nonces (host_id INTEGER NOT NULL, nonce TEXT NOT NULL, timestamp_ms INTEGER NOT NULL);
CREATE INDEX nonces_by_time ON nonces(timestamp_ms);
CREATE TABLE credit (host_id INTEGER NOT NULL, unit_id INTEGER NOT NULL, amount REAL NOT NULL,
  granted_ms INTEGER NOT NULL);
)",
    // 2: an operator's release of a quarantined host; reliability is rebuilt
    // from replica rows, and this says where the cleared record starts again.
    R"(
ALTER TABLE hosts ADD COLUMN cleared_after_replica INTEGER NOT NULL DEFAULT 0;
)",
    // 3: ringers, replicas of a validated unit sent under fresh ids to check
    // a host; their verdicts are replayed into reliability like any other.
    R"(
ALTER TABLE replicas ADD COLUMN ringer_unit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE replicas ADD COLUMN ringer_workload INTEGER NOT NULL DEFAULT 0;
)",
};
constexpr int kSchemaVersion = std::size(kMigrations);

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> open(const std::string& path, bool full) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK)
      return internal_error("cannot open database " + path + ": " + sqlite3_errstr(rc));
    auto store = std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db)));
    P2C2R_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL"));
    P2C2R_RETURN_IF_ERROR(
        store->exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
    P2C2R_RETURN_IF_ERROR(store->exec("PRAGMA foreign_keys=ON"));
    P2C2R_RETURN_IF_ERROR(
        store->exec("PRAGMA cache_size=-65536"));  // 64 MiB: the working set stays in memory
    P2C2R_RETURN_IF_ERROR(store->migrate().with_context("database " + path));
    P2C2R_RETURN_IF_ERROR(store->prepare_all());
    return std::unique_ptr<Store>(std::move(store));
  }

  Status apply(const std::vector<Mutation>& batch) override {
    if (batch.empty()) return Status::Ok();
    P2C2R_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    for (const auto& m : batch) {
      Status s = std::visit([&](const auto& row) { return write(row); }, m);
      if (!s.ok()) {
        (void)exec("ROLLBACK");
        return s;
      }
    }
    return exec("COMMIT");
  }

  Result<Snapshot> load() override;

 private:
  explicit SqliteStore(Db db) : db_(std::move(db)) {}

  Status error(const std::string& what) const {
    return internal_error(what + ": " + sqlite3_errmsg(db_.get()));
  }
  Status exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg ? msg : "unknown error";
      sqlite3_free(msg);
      return internal_error(std::string("sqlite: ") + m);
    }
    return Status::Ok();
  }
  Result<Stmt> prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
      return error(std::string("prepare ") + sql);
    return Stmt(s);
  }

  Status migrate() {
    int version = 0;
    {
      P2C2R_ASSIGN_OR_RETURN(Stmt s, prepare("PRAGMA user_version"));
      if (sqlite3_step(s.get()) == SQLITE_ROW) version = sqlite3_column_int(s.get(), 0);
    }
    if (version > kSchemaVersion)
      return failed_precondition("schema version " + std::to_string(version) +
                                 " is newer than this binary's " + std::to_string(kSchemaVersion));
    for (int v = version; v < kSchemaVersion; ++v) {
      P2C2R_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
      Status s = exec(kMigrations[v]);
      if (s.ok()) s = exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
      if (!s.ok()) {
        (void)exec("ROLLBACK");
        return s.with_context("migration to schema version " + std::to_string(v + 1));
      }
      P2C2R_RETURN_IF_ERROR(exec("COMMIT"));
    }
    return Status::Ok();
  }

  Status prepare_all() {
    P2C2R_ASSIGN_OR_RETURN(
        host_,
        prepare("INSERT INTO hosts VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "name=excluded.name, caps=excluded.caps, last_seen_ms=excluded.last_seen_ms, "
                "valid_results=excluded.valid_results, invalid_results=excluded.invalid_results, "
                "error_results=excluded.error_results, credit=excluded.credit, "
                "cleared_after_replica=excluded.cleared_after_replica"));
    P2C2R_ASSIGN_OR_RETURN(
        workload_,
        prepare(
            "INSERT INTO workloads VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "state=excluded.state, reason=excluded.reason, finished_ms=excluded.finished_ms"));
    P2C2R_ASSIGN_OR_RETURN(
        unit_,
        prepare("INSERT INTO units VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO "
                "UPDATE SET "
                "state=excluded.state, canonical=excluded.canonical, reason=excluded.reason, "
                "ready_ms=excluded.ready_ms"));
    P2C2R_ASSIGN_OR_RETURN(dep_, prepare("INSERT OR IGNORE INTO unit_deps VALUES (?,?,?)"));
    P2C2R_ASSIGN_OR_RETURN(
        replica_,
        prepare(
            "INSERT INTO replicas VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "state=excluded.state, reported_ms=excluded.reported_ms, digest=excluded.digest, "
            "error=excluded.error, validity=excluded.validity"));
    P2C2R_ASSIGN_OR_RETURN(blob_, prepare("INSERT OR IGNORE INTO blobs VALUES (?,?)"));
    P2C2R_ASSIGN_OR_RETURN(nonce_, prepare("INSERT INTO nonces VALUES (?,?,?)"));
    P2C2R_ASSIGN_OR_RETURN(credit_, prepare("INSERT INTO credit VALUES (?,?,?,?)"));
    P2C2R_ASSIGN_OR_RETURN(prune_, prepare("DELETE FROM nonces WHERE timestamp_ms < ?"));
    return Status::Ok();
  }

  // Binds values to positions 1..n and runs the statement once.
  template <typename... T>
  Status run(const Stmt& stmt, const T&... values) {
    sqlite3_stmt* s = stmt.get();
    sqlite3_reset(s);
    int i = 0;
    (bind(s, ++i, values), ...);
    if (sqlite3_step(s) != SQLITE_DONE) return error(sqlite3_sql(s));
    return Status::Ok();
  }
  static void bind(sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  static void bind(sqlite3_stmt* s, int i, double v) { sqlite3_bind_double(s, i, v); }
  template <typename T>
  requires std::is_integral_v<T>
  static void bind(sqlite3_stmt* s, int i, T v) {
    sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(v));
  }

  Status write(const HostRow& r) {
    return run(host_, r.id, r.public_key, r.name, r.caps_json, r.registered_ms, r.last_seen_ms,
               r.valid_results, r.invalid_results, r.error_results, r.credit,
               r.cleared_after_replica);
  }
  Status write(const WorkloadRow& r) {
    return run(workload_, r.id, r.name, r.kind, r.priority, r.submitter, r.spec_json, r.policy_json,
               r.state, r.reason, r.created_ms, r.finished_ms);
  }
  Status write(const UnitRow& r);
  Status write(const ReplicaRow& r) {
    return run(replica_, r.id, r.unit_id, r.host_id, r.state, r.sent_ms, r.report_by_ms,
               r.reported_ms, r.digest, r.error, r.validity, r.ringer_unit, r.ringer_workload);
  }
  Status write(const BlobRow& r) { return run(blob_, r.digest, r.size); }
  Status write(const NonceRow& r) { return run(nonce_, r.host_id, r.nonce, r.timestamp_ms); }
  Status write(const CreditRow& r) {
    return run(credit_, r.host_id, r.unit_id, r.amount, r.granted_ms);
  }
  Status write(const PruneNonces& r) { return run(prune_, r.before_ms); }

  // Runs `sql` and calls `row` for each result row.
  Status query(const char* sql, const std::function<void(sqlite3_stmt*)>& row) {
    P2C2R_ASSIGN_OR_RETURN(Stmt s, prepare(sql));
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) row(s.get());
    return rc == SQLITE_DONE ? Status::Ok() : error(sql);
  }

  Db db_;
  Stmt host_, workload_, unit_, dep_, replica_, blob_, nonce_, credit_, prune_;
};

std::string text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, sqlite3_column_bytes(s, i)) : std::string();
}
int64_t i64(sqlite3_stmt* s, int i) { return sqlite3_column_int64(s, i); }

Status SqliteStore::write(const UnitRow& r) {
  P2C2R_RETURN_IF_ERROR(run(unit_, r.id, r.workload_id, r.idx, r.stage, r.kernel, r.kernel_version,
                            r.params_json, r.seed, r.deadline_ms, r.delay_bound_ms, r.state,
                            r.canonical, r.reason, r.ready_ms, r.inputs_json));
  // deps_json is a JSON array of unit ids: "[1,2,3]". Edges never change once written.
  if (r.deps_json.size() <= 2) return Status::Ok();
  int position = 0;
  size_t i = 1;
  while (i < r.deps_json.size()) {
    size_t end = r.deps_json.find_first_of(",]", i);
    if (end == std::string::npos || end == i) break;
    const uint64_t dep = std::stoull(r.deps_json.substr(i, end - i));
    P2C2R_RETURN_IF_ERROR(run(dep_, r.id, dep, position++));
    i = end + 1;
  }
  return Status::Ok();
}

Result<Snapshot> SqliteStore::load() {
  Snapshot snap;
  P2C2R_RETURN_IF_ERROR(query("SELECT * FROM hosts ORDER BY id", [&](sqlite3_stmt* s) {
    snap.hosts.push_back({static_cast<uint64_t>(i64(s, 0)), text(s, 1), text(s, 2), text(s, 3),
                          i64(s, 4), i64(s, 5), static_cast<uint64_t>(i64(s, 6)),
                          static_cast<uint64_t>(i64(s, 7)), static_cast<uint64_t>(i64(s, 8)),
                          sqlite3_column_double(s, 9), static_cast<uint64_t>(i64(s, 10))});
  }));
  P2C2R_RETURN_IF_ERROR(query("SELECT * FROM workloads ORDER BY id", [&](sqlite3_stmt* s) {
    snap.workloads.push_back({static_cast<uint64_t>(i64(s, 0)), text(s, 1), text(s, 2), text(s, 3),
                              text(s, 4), text(s, 5), text(s, 6), text(s, 7), text(s, 8), i64(s, 9),
                              i64(s, 10)});
  }));
  std::unordered_map<uint64_t, std::string> deps;
  P2C2R_RETURN_IF_ERROR(
      query("SELECT unit_id, group_concat(dep_id) FROM (SELECT * FROM unit_deps ORDER BY unit_id, "
            "position) "
            "GROUP BY unit_id",
            [&](sqlite3_stmt* s) { deps[i64(s, 0)] = "[" + text(s, 1) + "]"; }));
  P2C2R_RETURN_IF_ERROR(query("SELECT * FROM units ORDER BY id", [&](sqlite3_stmt* s) {
    UnitRow u;
    u.id = i64(s, 0);
    u.workload_id = i64(s, 1);
    u.idx = static_cast<uint32_t>(i64(s, 2));
    u.stage = text(s, 3);
    u.kernel = text(s, 4);
    u.kernel_version = static_cast<uint32_t>(i64(s, 5));
    u.params_json = text(s, 6);
    u.seed = i64(s, 7);
    u.deadline_ms = i64(s, 8);
    u.delay_bound_ms = i64(s, 9);
    u.state = text(s, 10);
    u.canonical = text(s, 11);
    u.reason = text(s, 12);
    u.ready_ms = i64(s, 13);
    u.inputs_json = text(s, 14);
    auto it = deps.find(u.id);
    u.deps_json = it == deps.end() ? "[]" : it->second;
    snap.units.push_back(std::move(u));
  }));
  P2C2R_RETURN_IF_ERROR(query("SELECT * FROM replicas ORDER BY id", [&](sqlite3_stmt* s) {
    snap.replicas.push_back({static_cast<uint64_t>(i64(s, 0)), static_cast<uint64_t>(i64(s, 1)),
                             static_cast<uint64_t>(i64(s, 2)), text(s, 3), i64(s, 4), i64(s, 5),
                             i64(s, 6), text(s, 7), text(s, 8), text(s, 9),
                             static_cast<uint64_t>(i64(s, 10)), static_cast<uint64_t>(i64(s, 11))});
  }));
  P2C2R_RETURN_IF_ERROR(query("SELECT * FROM blobs", [&](sqlite3_stmt* s) {
    snap.blobs.push_back({text(s, 0), static_cast<uint64_t>(i64(s, 1))});
  }));
  P2C2R_RETURN_IF_ERROR(query("SELECT * FROM nonces", [&](sqlite3_stmt* s) {
    snap.nonces.push_back({static_cast<uint64_t>(i64(s, 0)), text(s, 1), i64(s, 2)});
  }));
  return snap;
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, bool synchronous_full) {
  return SqliteStore::open(path, synchronous_full);
}

}  // namespace p2c2r::server
