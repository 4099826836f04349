// Quorum: deciding, from the replicas of one work unit, whether a canonical
// result exists, which replicas are valid, and whether more replicas are
// needed. Pure policy: plain structs in, a decision out; no clocks, no I/O.
//
// BOINC's terms: `min_quorum` agreeing results accept a unit;
// `target_nresults` replicas are sent at first; errors count against
// `max_error_results`; no more than `max_total_results` replicas are ever
// created, past which the unit fails loudly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"

namespace p2c2r::validator {

struct ReplicationPolicy {
  uint32_t min_quorum = 2;
  uint32_t target_nresults = 2;
  uint32_t max_error_results = 3;
  uint32_t max_total_results = 6;
};

enum class ReplicaState {
  kInProgress,  // sent, not yet reported
  kReported,    // a digest arrived
  kError,       // the host reported an error running it
  kTimedOut,    // not reported by its deadline
};

struct ReplicaView {
  uint64_t replica_id = 0;
  uint64_t host_id = 0;
  ReplicaState state = ReplicaState::kInProgress;
  std::optional<Digest> digest;  // set when kReported
  // A result known correct without a quorum: the server's own trusted
  // re-execution, or the known answer of a ringer.
  bool trusted = false;
};

enum class Outcome {
  kWaiting,    // not enough reports yet; replicas in flight may settle it
  kAccepted,   // a canonical result exists
  kNeedMore,   // send `replicas_to_add` more replicas
  kFailed,     // limits reached without agreement; `reason` says which
};

struct QuorumDecision {
  Outcome outcome = Outcome::kWaiting;
  std::optional<uint64_t> canonical_replica;
  std::optional<Digest> canonical_digest;
  std::vector<uint64_t> valid;    // replicas whose digest equals the canonical one
  std::vector<uint64_t> invalid;  // reported replicas whose digest differs
  uint32_t replicas_to_add = 0;
  std::string reason;
};

// Decides a unit's state from its replicas. A trusted replica's digest is
// canonical on its own; otherwise the first digest reported by min_quorum
// replicas wins (ties impossible: a quorum is a strict majority only when
// min_quorum > half the reports, so the earliest-listed agreeing group wins).
QuorumDecision decide_quorum(const ReplicationPolicy& policy, const std::vector<ReplicaView>& replicas);

}  // namespace p2c2r::validator
