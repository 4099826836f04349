// The server's durable store, behind an interface so that PostgreSQL can
// follow SQLite (docs/operations.md).
//
// The server keeps its working state in memory and writes every change as a
// batch of full-row upserts (Mutation). A batch is applied atomically: after
// apply() returns ok, every row in it survives a crash of the process (and,
// with SQLite's synchronous=FULL, of the machine). On start-up load() returns
// every row, from which the server rebuilds its state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"

namespace p2c2r::server {

struct HostRow {
  uint64_t id = 0;
  std::string public_key;  // hex
  std::string name;
  std::string caps_json;  // wire::DeviceCaps
  int64_t registered_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t valid_results = 0, invalid_results = 0, error_results = 0;
  double credit = 0;  // granted, in 1e9 kernel operations
  // Replica id at which an operator last cleared the host's quarantine (0: never).
  uint64_t cleared_after_replica = 0;
};

struct WorkloadRow {
  uint64_t id = 0;
  std::string name, kind, priority, submitter;
  std::string spec_json;    // the spec as submitted (after parsing)
  std::string policy_json;  // the resolved replication policy
  std::string state;        // running, done, failed, cancelled
  std::string reason;
  int64_t created_ms = 0;
  int64_t finished_ms = 0;
};

struct UnitRow {
  uint64_t id = 0;
  uint64_t workload_id = 0;
  uint32_t idx = 0;
  std::string stage;
  std::string kernel;
  uint32_t kernel_version = 0;
  std::string params_json;
  uint64_t seed = 0;
  int64_t deadline_ms = 0;
  int64_t delay_bound_ms = 0;
  std::string state;      // waiting, ready, running, valid, failed, cancelled
  std::string canonical;  // digest hex, when valid
  std::string reason;
  std::string deps_json;  // unit ids
  int64_t ready_ms = 0;
  // Digests of inputs generated from the seed at submission (units without
  // dependencies whose kernel takes inputs); JSON array of hex strings.
  std::string inputs_json = "[]";
};

struct ReplicaRow {
  uint64_t id = 0;
  uint64_t unit_id = 0;
  uint64_t host_id = 0;
  std::string state;  // in_progress, reported, error, timed_out, cancelled
  int64_t sent_ms = 0;
  int64_t report_by_ms = 0;
  int64_t reported_ms = 0;
  std::string digest;
  std::string error;
  std::string validity;  // "", valid, unverified, invalid, revoked; "void" for a ringer
                         // whose unit lost its canonical result before the report
  // A ringer (docs/validator.md): a replica of the already validated unit
  // `unit_id`, shown to the host under these fresh unit and workload ids.
  // 0 for every ordinary replica.
  uint64_t ringer_unit = 0;
  uint64_t ringer_workload = 0;

  bool ringer() const { return ringer_unit != 0; }
};

struct BlobRow {
  std::string digest;  // hex
  uint64_t size = 0;
};

struct NonceRow {
  uint64_t host_id = 0;
  std::string nonce;
  int64_t timestamp_ms = 0;
};

struct CreditRow {
  uint64_t host_id = 0;
  uint64_t unit_id = 0;
  double amount = 0;
  int64_t granted_ms = 0;
};

// Forgets nonces older than this (they are refused as stale anyway).
struct PruneNonces {
  int64_t before_ms = 0;
};

using Mutation = std::variant<HostRow, WorkloadRow, UnitRow, ReplicaRow, BlobRow, NonceRow,
                              CreditRow, PruneNonces>;

struct Snapshot {
  std::vector<HostRow> hosts;
  std::vector<WorkloadRow> workloads;
  std::vector<UnitRow> units;
  std::vector<ReplicaRow> replicas;
  std::vector<BlobRow> blobs;
  std::vector<NonceRow> nonces;
};

class Store {
 public:
  virtual ~Store() = default;
  // Applies every mutation in one transaction; all or nothing.
  virtual Status apply(const std::vector<Mutation>& batch) = 0;
  virtual Result<Snapshot> load() = 0;
};

// SQLite in WAL mode at `path` (created with the schema if missing, migrated
// if older). `synchronous_full` makes each commit survive power loss, not
// only a killed process.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                 bool synchronous_full = true);

}  // namespace p2c2r::server
