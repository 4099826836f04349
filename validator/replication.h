// Replication: how many replicas a work unit needs given the host its first
// replica goes to, whether a trusted host's single replica is spot-checked
// and by whom, which dispatches are ringers, and what to re-check when a host
// is caught lying. Pure policy: randomness comes in as an Rng, state as
// plain structs; no clocks, no I/O.
//
// Promises:
//   - An untrusted first host: the base policy (min_quorum agreeing hosts).
//   - A trusted first host: a single replica (min_quorum 1), except that with
//     the host's spot_check_probability the unit is checked: min_quorum 2,
//     the second replica run either by another host or by the server's own
//     trusted re-execution (`check` says which; server_check_fraction of the
//     checks go to the server). The host cannot tell a checked unit from an
//     unchecked one.
//   - A unit's policy is decided whenever a replica goes to a host while the
//     unit has no replica in flight or reported (so a single replica that
//     errored is not re-sent alone to an untrusted host).
//   - Hosts on probation get only ringers; others get a ringer with
//     probability ringer_fraction per dispatch.
//   - A caught host's unverified single-replica results are all suspect:
//     the newest max_recheck_results are re-checked, the rest invalidated.
#pragma once

#include <cstdint>
#include <vector>

#include "common/rng.h"
#include "validator/quorum.h"
#include "validator/reliability.h"

namespace p2c2r::validator {

enum class CheckBy {
  kNone,         // nobody checks: a trusted host's single replica stands on its own
  kQuorum,       // an ordinary replicated unit: the quorum is the check
  kAnotherHost,  // spot check: a second replica to another host
  kServer,       // spot check: the server re-executes the unit itself (trusted replica)
};

const char* check_by_name(CheckBy check);

struct ReplicationDecision {
  ReplicationPolicy policy;  // what decide_quorum uses for this unit
  bool single = false;       // one peer replica; accepted on the host's trust unless checked
  CheckBy check = CheckBy::kQuorum;
  double check_probability = 1.0;  // the probability the draw used (for reports)
};

// Decides from `base` (the unit's configured policy) and the standing of the
// host the first replica goes to. Draws from `rng` only for trusted hosts.
// A host on probation or quarantined must not get real work: the result is
// then the base policy, and callers should not have dispatched.
ReplicationDecision decide_replication(const ReliabilityConfig& config,
                                       const ReplicationPolicy& base, const HostStanding& first,
                                       Rng& rng);

// Whether the next dispatch to this host should be a ringer (a unit whose
// answer the server already knows, issued like any other: e.g. a validated
// unit re-issued under a fresh unit id). Never for quarantined hosts.
bool decide_ringer(const ReliabilityConfig& config, const HostStanding& host, Rng& rng);

// A single-replica result accepted on a host's trust without any check.
struct UnverifiedResult {
  uint64_t result_id = 0;
  uint64_t unit_id = 0;
  uint64_t accepted_seq = 0;  // any increasing order of acceptance (time, sequence number)
};

struct RecheckPlan {
  // Re-check these (by trusted re-execution or a fresh quorum); keep their
  // canonical results until the check says otherwise. Newest first.
  std::vector<uint64_t> recheck;
  // Withdraw these canonical results now and redo the units with a full
  // quorum: too many to re-check one by one.
  std::vector<uint64_t> invalidate;
};

// What to do with the unverified results of a host just caught lying.
// Duplicated result ids are listed once.
RecheckPlan plan_recheck(const ReliabilityConfig& config, std::vector<UnverifiedResult> unverified);

}  // namespace p2c2r::validator
