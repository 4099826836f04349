// The coordinator: the server's authoritative in-memory state of hosts,
// workloads, units and replicas, and every operation the API performs on it.
//
// Each operation validates its input completely before changing anything
// (bad input changes nothing), applies the change in memory under one lock,
// hands the matching row upserts to GroupCommit while still holding the lock
// (so the store sees changes in memory's order), and replies only from the
// commit's completion: a client is never told about a change that is not yet
// durable. Scheduling decisions come from scheduler/, validation decisions
// from validator/ (quorum, host reliability and quarantine, adaptive
// replication, credit), wired in coordinator_validation.cpp; ringers (hosts on
// probation, and a ringer_fraction of everyone's dispatches) in
// coordinator_ringers.cpp; the server's own trusted re-execution runs in a
// TrustedRunner (trusted_runner.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/crypto.h"
#include "common/rng.h"
#include "common/wire.h"
#include "kernels/registry.h"
#include "scheduler/matching.h"
#include "scheduler/planner.h"
#include "server/blob_store.h"
#include "server/group_commit.h"
#include "server/metrics.h"
#include "server/store.h"
#include "validator/credit.h"
#include "validator/quorum.h"
#include "validator/reliability.h"
#include "validator/replication.h"

namespace p2c2r::runtime {
class Device;
struct UnitResult;
}  // namespace p2c2r::runtime

namespace p2c2r::server {

// An HTTP-level answer: status code, content type and body.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};
using Respond = std::function<void(Reply)>;

// The JSON error reply for a Status (400 invalid, 403 denied, 404, 409, 413, 500...).
Reply error_reply(const Status& status);
int http_status_for(Code code);

struct CoordinatorOptions {
  const kernels::Registry* registry = nullptr;
  const crypto::KeyPair* server_key = nullptr;
  uint32_t max_wait_ms = 30000;       // long-poll cap
  int64_t clock_skew_ms = 5 * 60000;  // accepted |timestamp - now| for signed requests
  // Trust, quarantine and spot-check thresholds (docs/validator.md).
  validator::ReliabilityConfig reliability;
  // The device for trusted re-execution; null disables it (server checks then
  // go to another host, failing quorums fail the unit).
  runtime::Device* trusted_device = nullptr;
  uint64_t seed = 0;  // of the spot-check draws; 0 picks one at random
  // A valid unit whose canonical output has not been uploaded this long
  // after it became valid (its uploaders vanished) is re-run by the trusted
  // runner, whose output is stored; without a trusted device it waits.
  int64_t output_grace_ms = 5 * 60000;
};

class TrustedRunner;

class Coordinator {
 public:
  Coordinator(CoordinatorOptions options, GroupCommit& commit, BlobStore& blobs);
  ~Coordinator();

  // Rebuilds the state from the store (call once, before serving).
  Status load(const Snapshot& snapshot);
  // Starts the thread that times out replicas and ends long polls.
  void start();
  // Ends every long poll with 204 and stops the timer thread.
  void stop();

  // Checks a signed request's host, timestamp, nonce and signature. On
  // success returns the host id and the nonce row to persist with the
  // operation. Host id 0 is registration, signed by the key being registered.
  struct Auth {
    uint64_t host_id = 0;
    NonceRow nonce;
  };
  Result<Auth> authenticate(const std::string& method, const std::string& target,
                            const std::string& host, const std::string& timestamp,
                            const std::string& nonce, const std::string& signature, ByteView body,
                            const std::string* registering_key = nullptr);

  void register_host(const wire::RegisterHost& req, const Auth& auth, Respond respond);
  void request_work(const Auth& auth, const wire::WorkRequest& req, Respond respond);
  void report(const Auth& auth, const wire::Report& report, Respond respond);
  void upload_output(const Auth& auth, uint64_t replica_id, ByteView body, Respond respond);
  // host_id 0: the admin, who may read any blob.
  void fetch_blob(uint64_t host_id, const std::string& digest_hex, const NonceRow* nonce,
                  Respond respond);

  void submit(const wire::WorkloadSpec& spec, Respond respond);
  Reply workload_status(uint64_t id);
  Reply list_workloads();
  void cancel(uint64_t id, Respond respond);
  Reply list_hosts();
  Reply host_info(uint64_t id);
  // Admin: releases a quarantined host (trust must be earned again).
  void clear_host(uint64_t id, Respond respond);
  // Waits until every trusted re-execution queued so far has been applied.
  void drain_trusted();
  std::string metrics_text();

  // Read-only reports for operators (server/reports.cpp; GET /v1/reports/...).
  Reply unit_report(uint64_t id);
  Reply workload_report(uint64_t id);
  Reply hosts_report();
  Reply summary_report();

  // Times out replicas due before `now_ms` and ends expired long polls (the
  // timer thread calls this; tests may too).
  void expire(int64_t now_ms);

 private:
  struct Host {
    HostRow row;
    crypto::PublicKey key;
    wire::DeviceCaps caps;
    scheduler::HostView view;
    std::unordered_set<uint64_t> active;  // replicas in progress
  };
  struct Workload {
    WorkloadRow row;
    scheduler::Priority priority = scheduler::Priority::kBatch;
    validator::ReplicationPolicy policy;
    wire::Requirements requires_;
    std::vector<uint64_t> units;
    uint64_t valid = 0;
    // Valid units whose canonical output is not stored yet: the workload is
    // done only when every unit is valid and none is missing its output.
    uint64_t outputs_missing = 0;
  };
  struct Unit {
    UnitRow row;
    wire::ParamMap params;
    std::vector<uint64_t> deps, dependants;
    std::vector<std::string> inputs;  // generated input digests
    // Its inputs are `inputs` followed by the outputs of its first
    // `inputs_from_deps` dependencies (the kernel's input count less the
    // generated ones, so a restart recomputes it from the kernel).
    uint32_t inputs_from_deps = 0;
    uint32_t deps_pending = 0;  // deps not yet valid with their output stored
    std::vector<uint64_t> replicas;
    std::string manifest_json, manifest_signature;
    uint64_t cost = 0;
    uint64_t shape = 0;  // scheduler::ReadyUnit::shape
    std::string family;  // kernels::Kernel::family(), for host reliability
    // Decided when a replica goes out while none is in flight or reported;
    // not persisted (after a restart the workload's policy applies: safe).
    std::optional<validator::ReplicationDecision> decision;
    bool full_quorum = false;              // re-opened after a lie: never single again
    bool trusted_pending = false;          // a trusted re-execution is queued or running
    int64_t awaiting_output_since_ms = 0;  // while its output is awaited
  };
  struct Waiter {
    uint64_t host_id;
    int64_t until_ms;
    Respond respond;
    NonceRow nonce;
  };

  // All private helpers run with mu_ held and append to `ops`.
  void set_unit_state(Unit& u, const std::string& state, std::vector<Mutation>& ops);
  void make_ready(Unit& u, int64_t now, std::vector<Mutation>& ops);
  void sign_manifest(Unit& u);
  // A new replica of unit `unit_id` sent to `host_id` now, due back within
  // `delay_bound_ms` (not yet recorded anywhere).
  ReplicaRow sent_replica(uint64_t unit_id, uint64_t host_id, int64_t now, int64_t delay_bound_ms);
  // A unit's input digests in order: generated, then its dependencies' outputs.
  std::vector<std::string> inputs_of(const Unit& u) const;
  void queue_replicas(Unit& u, uint32_t count);
  void settle_unit(Unit& u, int64_t now, std::vector<Mutation>& ops);
  void output_available(Unit& u, int64_t now, std::vector<Mutation>& ops);
  // A valid unit's canonical output: awaited until its blob is stored. Every
  // change to awaiting_output_ goes through these, which keep
  // Workload::outputs_missing in step.
  void await_output(Unit& u, int64_t now);
  // Re-runs on the trusted device the valid units whose output is overdue.
  void recover_overdue_outputs(int64_t now);
  bool stop_awaiting_output(Unit& u);  // true when it was awaited
  // Marks a running workload done once all its units are valid with their
  // outputs stored.
  void finish_if_done(Workload& w, int64_t now, std::vector<Mutation>& ops);
  void fail_workload(Workload& w, const std::string& state, const std::string& reason, int64_t now,
                     std::vector<Mutation>& ops);
  void end_replica(uint64_t replica_id, const std::string& state, std::vector<Mutation>& ops);
  std::string assign(Host& h, const scheduler::ReadyUnit& picked, int64_t now,
                     std::vector<Mutation>& ops);
  // What a host asking for work gets: an assignment body (a ringer or a real
  // unit), a refusal (403: quarantined, or on probation with no ringer to
  // give), or neither (nothing ready: wait or 204).
  struct Dispatch {
    std::optional<std::string> body;
    std::optional<Reply> refused;
  };
  Dispatch dispatch(Host& h, int64_t now, std::vector<Mutation>& ops);
  // The Assignment JSON (wire::Assignment), one shape for real units and ringers.
  static std::string assignment_body(const ReplicaRow& r, const std::string& manifest_json,
                                     const std::string& signature);
  void wake_waiters(int64_t now);
  // Validation wiring (coordinator_validation.cpp).
  const validator::ReplicationPolicy& policy_of(const Unit& u) const;
  void decide_replication(Unit& u, const Host& h);
  void judge(Unit& u, const std::vector<uint64_t>& ids, bool valid, int64_t now,
             std::vector<Mutation>& ops);
  void record(uint64_t host_id, const Unit& u, validator::Verdict verdict, bool checked);
  void catch_host(uint64_t host_id, int64_t now, std::vector<Mutation>& ops);
  void reopen_unit(Unit& u, int64_t now, std::vector<Mutation>& ops);
  // A valid unit's output is withdrawn (reopened): dependants still waiting
  // count it as pending again; queued ones never sent go back to waiting.
  // Dependants that already ran on it are not redone (docs/validator.md).
  void withdraw_output(Unit& u, std::vector<Mutation>& ops);
  void run_trusted(Unit& u, const std::string& why);
  void trusted_result(uint64_t unit_id, const std::string& why, Result<runtime::UnitResult> result);
  void blob_stored(const std::string& digest, uint64_t size, int64_t now,
                   std::vector<Mutation>& ops);
  void sync_credit(Host& h, std::vector<Mutation>& ops);
  uint64_t submitter_id(const std::string& submitter);
  std::optional<std::string> quarantine_reason(uint64_t host_id) const;
  // Ringers (coordinator_ringers.cpp).
  validator::Standing worst_standing(uint64_t host_id) const;
  std::optional<std::string> assign_ringer(Host& h, int64_t now, std::vector<Mutation>& ops);
  bool ringer_source_for(const Host& h, const Unit& u, int64_t now) const;
  void judge_ringer(ReplicaRow& r, const Unit& u, int64_t now, std::vector<Mutation>& ops);
  void replay_ringer(const ReplicaRow& r, const Unit& u);
  void load_ringer(const ReplicaRow& r);
  wire::HostInfo host_info_of(const Host& h) const;
  Status replay_validation(const Snapshot& snap);
  wire::WorkloadStatus status_of(const Workload& w) const;
  wire::UnitLine unit_line(const Unit& u) const;  // reports.cpp
  void timer_loop();
  void wake_timer_by(int64_t when_ms);

  CoordinatorOptions options_;
  GroupCommit& commit_;
  BlobStore& blobs_;
  std::string server_public_hex_;

  std::mutex mu_;
  std::unordered_map<uint64_t, Host> hosts_;
  std::unordered_map<std::string, uint64_t> host_by_key_;
  std::map<uint64_t, Workload> workloads_;
  std::unordered_map<uint64_t, Unit> units_;
  std::unordered_map<uint64_t, ReplicaRow> replicas_;
  std::unordered_set<std::string> stored_blobs_;
  std::unordered_map<std::string, std::vector<uint64_t>> awaiting_output_;  // digest -> valid units
  std::unordered_set<std::string> nonces_;                                  // "host:nonce"
  std::deque<std::pair<int64_t, std::string>> nonce_order_;
  scheduler::ReadyQueue ready_;
  scheduler::DeadlineQueue deadlines_;
  std::deque<Waiter> waiters_;
  uint64_t next_host_ = 1, next_workload_ = 1, next_unit_ = 1, next_replica_ = 1;
  std::map<std::string, int64_t> unit_states_;
  Metrics metrics_;
  validator::ReliabilityBook book_;
  validator::CreditLedger ledger_;
  Rng rng_;
  // Units whose canonical result a check confirmed, by kernel family, in the
  // order they became valid: where ringers come from (stale entries skipped).
  std::map<std::string, std::vector<uint64_t>> ringer_sources_;
  // host -> units it has held a ringer of (never the same content twice).
  std::unordered_map<uint64_t, std::unordered_set<uint64_t>> ringers_of_host_;
  Rng ringer_rng_;  // its own stream: ringers do not shift the spot-check draws
  // A host's results accepted on its word alone (single replicas), re-checked if it is caught.
  std::map<uint64_t, std::vector<validator::UnverifiedResult>> unverified_;
  std::map<std::string, uint64_t> submitter_ids_;
  std::unique_ptr<TrustedRunner> trusted_;

  std::condition_variable timer_cv_;
  int64_t timer_wake_ms_ = 0;  // when the timer thread wakes next (under mu_)
  bool stopping_ = false;
  std::thread timer_;
};

int64_t now_ms();

}  // namespace p2c2r::server
