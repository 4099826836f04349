// Quorum: deciding, from the replicas of one work unit, whether a canonical
// result exists, which replicas are valid, and whether more replicas are
// needed. Pure policy: plain structs in, a decision out; no clocks, no I/O.
//
// BOINC's terms: `min_quorum` agreeing results accept a unit;
// `target_nresults` replicas are sent at first; errors and timeouts count
// against `max_error_results`; no more than `max_total_results` replicas are
// ever created, past which the unit fails loudly (the server may then settle
// it by trusted re-execution: add a trusted replica and decide again).
//
// What the decision promises:
//   - Agreement is counted in distinct hosts: two replicas from one host, or
//     one report delivered twice (same replica_id; the first entry counts),
//     never make a quorum.
//   - A trusted replica (the server's own re-execution, or a ringer's known
//     answer) is canonical on its own and judges every other report.
//   - Results are compared with the kernel's comparator (bitwise digest
//     equality unless the kernel declares a tolerance comparator).
//   - Once a unit is accepted its canonical result never changes: a result
//     arriving later is judged with judge_late_result(), not by re-running
//     decide_quorum.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"
#include "validator/comparator.h"

namespace p2c2r::validator {

struct ReplicationPolicy {
  uint32_t min_quorum = 2;
  uint32_t target_nresults = 2;
  uint32_t max_error_results = 3;
  uint32_t max_total_results = 6;
};

// min_quorum >= 1, target_nresults >= min_quorum, max_total_results >=
// target_nresults; anything else is an invalid argument naming the field.
Status check_policy(const ReplicationPolicy& policy);

enum class ReplicaState {
  kInProgress,  // sent, not yet reported
  kReported,    // a digest arrived
  kError,       // the host reported an error running it
  kTimedOut,    // not reported by its deadline
};

struct ReplicaView {
  uint64_t replica_id = 0;
  uint64_t host_id = 0;  // required: agreement is counted in distinct hosts
  ReplicaState state = ReplicaState::kInProgress;
  std::optional<Digest> digest;  // set when kReported; a report without one counts as an error
  // A result known correct without a quorum: the server's own trusted
  // re-execution, or the known answer of a ringer.
  bool trusted = false;
  // The full output, only for kernels whose comparator needs_outputs(); may be
  // empty (not uploaded). Not owned: valid for the duration of the call.
  // Last, so that {id, host, state, digest, trusted} still initialises a view.
  ByteView output = {};
};

enum class Outcome {
  kWaiting,   // not enough reports yet; replicas in flight may settle it
  kAccepted,  // a canonical result exists
  kNeedMore,  // send `replicas_to_add` more replicas
  kFailed,    // limits reached without agreement; `reason` says which
};

struct QuorumDecision {
  Outcome outcome = Outcome::kWaiting;
  std::optional<uint64_t> canonical_replica;
  std::optional<Digest> canonical_digest;
  std::vector<uint64_t> valid;       // replicas whose result matches the canonical one
  std::vector<uint64_t> invalid;     // reported replicas whose result differs
  std::vector<uint64_t> duplicates;  // later entries repeating a replica_id; ignored
  uint32_t replicas_to_add = 0;
  std::string reason;
};

// Decides a unit's state from its replicas, comparing bitwise. Replicas are
// listed in report order; among groups that reach a quorum the earliest
// listed wins, and the group's first report is the canonical replica.
// Undefined for a policy that fails check_policy (callers check it once).
QuorumDecision decide_quorum(const ReplicationPolicy& policy,
                             const std::vector<ReplicaView>& replicas);

// Same, with the kernel's comparator.
QuorumDecision decide_quorum(const ReplicationPolicy& policy,
                             const std::vector<ReplicaView>& replicas,
                             const ResultComparator& comparator);

enum class LateVerdict { kValid, kInvalid };

// A result reported after its unit was accepted is judged against the
// canonical result; the canonical result itself never changes.
LateVerdict judge_late_result(const Digest& canonical_digest, ByteView canonical_output,
                              const Digest& late_digest, ByteView late_output,
                              const ResultComparator& comparator = bitwise_comparator());

const char* outcome_name(Outcome outcome);

}  // namespace p2c2r::validator
