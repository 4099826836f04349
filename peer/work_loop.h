// The peer's work loop: long-poll for work, check the manifest's signature
// against the pinned server key, fetch and verify inputs, run the unit in the
// sandbox, journal the result, report it, upload the output when asked.
//
// Promises:
// - nothing runs whose manifest signature fails, whose kernel or version is
//   not in this build's registry, or whose inputs do not match their digests;
//   each such unit is reported as an error with the reason, and the loop goes on;
// - a finished result is journaled before it is reported and removed only
//   when the server acknowledged it, so a crash or a network outage loses
//   nothing (the journal is flushed at start and retried with backoff);
// - network errors back off exponentially with jitter;
// - a unit is journaled as an error ("killed while running") before it starts
//   and that entry is replaced by its result when it finishes, so a peer
//   killed mid-unit (SIGKILL, crash, power loss) reports the lost replica at
//   its next start and the server reissues it at once rather than waiting
//   for the replica's report_by time;
// - stop() makes every slot finish or abandon its unit within the shutdown
//   grace period; an abandoned unit is journaled as an error so the server can
//   reissue it at once instead of waiting for its deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "kernels/registry.h"
#include "peer/availability.h"
#include "peer/blob_cache.h"
#include "peer/journal.h"
#include "peer/server_link.h"
#include "sandbox/supervisor.h"

namespace p2c2r::peer {

struct WorkLoopOptions {
  unsigned slots = 1;  // units in flight at once, one sandboxed executor each
  Availability availability;
  std::chrono::milliseconds poll_wait{10000};  // capped at shutdown_grace
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds max_unit_time{std::chrono::minutes(10)};
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(5)};
  uint32_t local_size = 64;
  sandbox::SupervisorOptions sandbox;
  // Test-only fault injection: flip a byte of every output (validator tests).
  bool corrupt_outputs = false;
};

struct PeerStatus {
  std::string
      state;  // "starting", "working", "idle: <why>", "backing off: <why>", "stopping", "stopped"
  uint64_t units_done = 0;
  uint64_t units_failed = 0;
  uint64_t units_refused = 0;  // bad signature, unknown kernel, bad inputs
  uint64_t reports_pending = 0;
  std::vector<std::string> running;  // "replica 12: raytrace"
  std::string last_error;
  std::string sandbox;  // the executor's protections
};

class WorkLoop {
 public:
  WorkLoop(ServerLink& link, crypto::PublicKey server_key, const kernels::Registry& registry,
           Journal& journal, BlobCache& cache, WorkLoopOptions options);
  ~WorkLoop();

  // Starts the slot threads and the journal flusher.
  void start();
  // Asks everything to stop and waits (bounded by the shutdown grace).
  void stop();
  // Sends every journaled result now; returns how many are still pending.
  size_t flush_journal();
  PeerStatus status() const;

 private:
  void slot_main(size_t slot);
  void flusher_main();
  // Runs one assignment to a journaled (and, if possible, reported) result;
  // the next assignment, when the report brought one.
  std::optional<wire::Assignment> process(size_t slot, const wire::Assignment& assignment);
  // Refusal or failure of a unit, journaled and reported; with `next`, the
  // report also asks for the next unit and stores it there.
  void finish(JournalEntry entry, std::optional<wire::Assignment>* next = nullptr);
  Status deliver(const JournalEntry& entry, std::optional<wire::Assignment>* next = nullptr);
  Status upload(const JournalEntry& entry);
  // Uploads; on failure re-journals the entry as awaiting_upload, so only the
  // upload is retried.
  Status upload_or_keep(const JournalEntry& entry);
  // Whether a slot may take another unit now (not stopping, availability).
  bool may_work(std::string* why) const;
  Status check_manifest(const wire::Assignment& a, const kernels::Kernel** kernel) const;
  Result<std::vector<Bytes>> fetch_inputs(const wire::Manifest& m);
  // Sleeps up to `d`, waking early on stop; returns false if stopping.
  bool pause(std::chrono::milliseconds d);
  void set_state(const std::string& state);
  std::chrono::milliseconds next_backoff(std::chrono::milliseconds& current);

  ServerLink& link_;
  const crypto::PublicKey server_key_;
  const kernels::Registry& registry_;
  Journal& journal_;
  BlobCache& cache_;
  const WorkLoopOptions options_;

  std::vector<std::unique_ptr<sandbox::Supervisor>> supervisors_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;  // guards status_, the cache, journal flushing
  std::condition_variable wake_;
  std::mutex flush_mutex_;  // one journal flush at a time
  // Replicas running now: their journal entries are the "killed while
  // running" markers, which only a later start may send. Guarded by mutex_.
  std::set<uint64_t> in_flight_;
  PeerStatus status_;
};

}  // namespace p2c2r::peer
