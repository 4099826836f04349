#include "server/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <future>
#include <thread>

#include "server/group_commit.h"
#include "tests/server/temp_dir.h"

namespace p2c2r::server {
namespace {

using testing::TempDir;

std::unique_ptr<Store> open_store(const std::string& path) {
  auto s = open_sqlite_store(path);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::move(s).value();
}

HostRow host(uint64_t id) {
  return {id,
          std::string(64, 'a' + static_cast<char>(id % 6)),
          "host" + std::to_string(id),
          R"({"name":"gpu"})",
          10,
          20,
          3,
          1,
          2,
          4.5};
}
WorkloadRow workload(uint64_t id) {
  return {id, "w", "raw", "batch", "alice", "{}", "{}", "running", "", 100, 0};
}
UnitRow unit(uint64_t id, uint64_t workload_id, std::string deps = "[]") {
  UnitRow u;
  u.id = id;
  u.workload_id = workload_id;
  u.idx = 7;
  u.stage = "raw";
  u.kernel = "peak";
  u.kernel_version = 2;
  u.params_json = R"({"n":1})";
  u.seed = 99;
  u.deadline_ms = 1000;
  u.delay_bound_ms = 500;
  u.state = "ready";
  u.deps_json = std::move(deps);
  u.ready_ms = 5;
  return u;
}

int user_version(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  int v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

TEST(StoreTest, RowsSurviveReopening) {
  TempDir dir;
  const auto path = dir.file("db");
  {
    auto store = open_store(path);
    ReplicaRow r{5, 2, 1, "reported", 1, 2, 3, std::string(64, 'f'), "", "valid"};
    ASSERT_TRUE(store
                    ->apply({host(1), workload(1), unit(1, 1), unit(2, 1, "[1]"), r,
                             BlobRow{std::string(64, 'e'), 12}, NonceRow{1, "0123456789abcdef", 77},
                             CreditRow{1, 2, 0.5, 9}})
                    .ok());
  }
  auto store = open_store(path);
  auto snap = store->load();
  ASSERT_TRUE(snap.ok()) << snap.status().to_string();
  ASSERT_EQ(snap->hosts.size(), 1u);
  EXPECT_EQ(snap->hosts[0].public_key, host(1).public_key);
  EXPECT_EQ(snap->hosts[0].caps_json, host(1).caps_json);
  EXPECT_EQ(snap->hosts[0].credit, 4.5);
  ASSERT_EQ(snap->workloads.size(), 1u);
  EXPECT_EQ(snap->workloads[0].submitter, "alice");
  ASSERT_EQ(snap->units.size(), 2u);
  EXPECT_EQ(snap->units[0].deps_json, "[]");
  EXPECT_EQ(snap->units[1].deps_json, "[1]");
  EXPECT_EQ(snap->units[1].params_json, R"({"n":1})");
  EXPECT_EQ(snap->units[1].seed, 99u);
  ASSERT_EQ(snap->replicas.size(), 1u);
  EXPECT_EQ(snap->replicas[0].digest, std::string(64, 'f'));
  EXPECT_EQ(snap->replicas[0].validity, "valid");
  ASSERT_EQ(snap->blobs.size(), 1u);
  EXPECT_EQ(snap->blobs[0].size, 12u);
  ASSERT_EQ(snap->nonces.size(), 1u);
  EXPECT_EQ(snap->nonces[0].nonce, "0123456789abcdef");
}

TEST(StoreTest, RingerReplicaKeepsItsShownIdsAcrossReopening) {
  TempDir dir;
  const auto path = dir.file("db");
  {
    auto store = open_store(path);
    ReplicaRow r{5, 1, 1, "in_progress", 1, 2, 0, "", "", ""};
    r.ringer_unit = 40;
    r.ringer_workload = 9;
    ASSERT_TRUE(store->apply({host(1), workload(1), unit(1, 1), r}).ok());
    r.state = "reported";  // the upsert keeps the ringer columns
    r.validity = "valid";
    ASSERT_TRUE(store->apply({r}).ok());
  }
  auto snap = open_store(path)->load();
  ASSERT_TRUE(snap.ok()) << snap.status().to_string();
  ASSERT_EQ(snap->replicas.size(), 1u);
  EXPECT_TRUE(snap->replicas[0].ringer());
  EXPECT_EQ(snap->replicas[0].ringer_unit, 40u);
  EXPECT_EQ(snap->replicas[0].ringer_workload, 9u);
  EXPECT_EQ(snap->replicas[0].validity, "valid");
}

// A version 2 database (before ringers) is migrated in place: its replicas
// are ordinary ones.
TEST(StoreTest, MigratesAVersion2DatabaseKeepingItsReplicas) {
  TempDir dir;
  const auto path = dir.file("db");
  {
    auto store = open_store(path);
    ReplicaRow r{5, 1, 1, "reported", 1, 2, 3, std::string(64, 'f'), "", "valid"};
    ASSERT_TRUE(store->apply({host(1), workload(1), unit(1, 1), r}).ok());
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  ASSERT_EQ(sqlite3_exec(db,
                         "ALTER TABLE replicas DROP COLUMN ringer_unit; ALTER TABLE replicas DROP "
                         "COLUMN ringer_workload; PRAGMA user_version=2;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  ASSERT_EQ(user_version(path), 2);
  auto snap = open_store(path)->load();
  EXPECT_EQ(user_version(path), 3);
  ASSERT_TRUE(snap.ok()) << snap.status().to_string();
  ASSERT_EQ(snap->replicas.size(), 1u);
  EXPECT_FALSE(snap->replicas[0].ringer());
  EXPECT_EQ(snap->replicas[0].validity, "valid");
}

TEST(StoreTest, UpsertReplacesTheWholeRow) {
  TempDir dir;
  auto store = open_store(dir.file("db"));
  auto w = workload(1);
  ASSERT_TRUE(store->apply({w}).ok());
  w.state = "cancelled";
  w.reason = "asked";
  ASSERT_TRUE(store->apply({w}).ok());
  auto snap = store->load();
  ASSERT_EQ(snap->workloads.size(), 1u);
  EXPECT_EQ(snap->workloads[0].state, "cancelled");
  EXPECT_EQ(snap->workloads[0].reason, "asked");
}

TEST(StoreTest, NewDatabaseHasCurrentSchemaVersionInWalMode) {
  TempDir dir;
  const auto path = dir.file("db");
  open_store(path);
  EXPECT_EQ(user_version(path), 3);
  EXPECT_TRUE(std::filesystem::exists(path + "-wal") || std::filesystem::exists(path));
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST(StoreTest, RefusesADatabaseFromANewerVersion) {
  TempDir dir;
  const auto path = dir.file("db");
  open_store(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto s = open_sqlite_store(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().message();
}

TEST(StoreTest, AFailingBatchChangesNothing) {
  TempDir dir;
  auto store = open_store(dir.file("db"));
  // The unit names a workload that does not exist: the foreign key fails the batch.
  const Status s = store->apply({host(1), unit(1, 42)});
  EXPECT_FALSE(s.ok());
  auto snap = store->load();
  EXPECT_TRUE(snap->hosts.empty());
  EXPECT_TRUE(snap->units.empty());
}

TEST(GroupCommitTest, CompletionRunsOnlyOnceTheRowsAreVisibleToAnotherConnection) {
  TempDir dir;
  const auto path = dir.file("db");
  auto store = open_store(path);
  GroupCommit commit(*store, nullptr);
  std::promise<size_t> seen;
  commit.submit({host(1), workload(3)}, [&](const Status& s) {
    EXPECT_TRUE(s.ok());
    auto other = open_sqlite_store(path);
    auto snap = (*other)->load();
    seen.set_value(snap->hosts.size() + snap->workloads.size());
  });
  auto f = seen.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(f.get(), 2u);
}

TEST(GroupCommitTest, ConcurrentSubmittersAllLandAndShareTransactions) {
  TempDir dir;
  auto store = open_store(dir.file("db"));
  std::atomic<int> acked{0};
  {
    GroupCommit commit(*store, nullptr);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 250; ++i)
          commit.submit({workload(static_cast<uint64_t>(t * 1000 + i + 1))}, [&](const Status& s) {
            if (s.ok()) ++acked;
          });
      });
    for (auto& th : threads) th.join();
    commit.flush();
    EXPECT_EQ(acked.load(), 1000);
    EXPECT_EQ(commit.mutations(), 1000u);
    EXPECT_LE(commit.commits(), 1000u);
  }
  EXPECT_EQ(store->load()->workloads.size(), 1000u);
}

TEST(GroupCommitTest, AFailedCommitReachesEveryWaiterAndTheFailureHandler) {
  TempDir dir;
  auto store = open_store(dir.file("db"));
  std::promise<Status> failure;
  std::promise<Status> done;
  GroupCommit commit(*store, [&](const Status& s) { failure.set_value(s); });
  commit.submit({unit(1, 42)}, [&](const Status& s) { done.set_value(s); });
  auto d = done.get_future();
  auto f = failure.get_future();
  ASSERT_EQ(d.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_FALSE(d.get().ok());
  ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_FALSE(f.get().ok());
}

}  // namespace
}  // namespace p2c2r::server
