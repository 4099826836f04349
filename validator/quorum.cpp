#include "validator/quorum.h"

#include <map>

namespace p2c2r::validator {

QuorumDecision decide_quorum(const ReplicationPolicy& policy, const std::vector<ReplicaView>& replicas) {
  QuorumDecision d;
  uint32_t errors = 0, in_progress = 0;
  // Digest -> replicas reporting it, in the order given (first report first).
  std::vector<std::pair<Digest, std::vector<uint64_t>>> groups;
  std::optional<Digest> trusted_digest;
  std::optional<uint64_t> trusted_replica;
  for (const auto& r : replicas) {
    switch (r.state) {
      case ReplicaState::kInProgress: ++in_progress; break;
      case ReplicaState::kError:
      case ReplicaState::kTimedOut: ++errors; break;
      case ReplicaState::kReported: {
        if (!r.digest) break;
        if (r.trusted && !trusted_digest) {
          trusted_digest = r.digest;
          trusted_replica = r.replica_id;
        }
        auto it = groups.begin();
        while (it != groups.end() && it->first != *r.digest) ++it;
        if (it == groups.end()) groups.push_back({*r.digest, {r.replica_id}});
        else it->second.push_back(r.replica_id);
        break;
      }
    }
  }

  auto accept = [&](const Digest& digest, uint64_t canonical) {
    d.outcome = Outcome::kAccepted;
    d.canonical_digest = digest;
    d.canonical_replica = canonical;
    for (const auto& [g, ids] : groups) {
      auto& target = g == digest ? d.valid : d.invalid;
      target.insert(target.end(), ids.begin(), ids.end());
    }
    return d;
  };
  if (trusted_digest) return accept(*trusted_digest, *trusted_replica);
  for (const auto& [digest, ids] : groups) {
    if (ids.size() >= policy.min_quorum) return accept(digest, ids.front());
  }

  const uint32_t total = static_cast<uint32_t>(replicas.size());
  if (errors > policy.max_error_results) {
    d.outcome = Outcome::kFailed;
    d.reason = std::to_string(errors) + " replicas errored or timed out (max_error_results " +
               std::to_string(policy.max_error_results) + ")";
    return d;
  }
  // Replicas that could still help: in flight, plus what we may still add.
  // Largest agreeing group so far; it needs (min_quorum - best) more matches.
  size_t best = 0;
  for (const auto& g : groups) best = std::max(best, g.second.size());
  const uint32_t needed = policy.min_quorum - static_cast<uint32_t>(best);
  if (in_progress >= needed) {
    d.outcome = Outcome::kWaiting;
    return d;
  }
  const uint32_t room = total < policy.max_total_results ? policy.max_total_results - total : 0;
  if (in_progress + room < needed) {
    if (in_progress > 0) {
      d.outcome = Outcome::kWaiting;  // let the last replicas land before failing
      return d;
    }
    d.outcome = Outcome::kFailed;
    d.reason = "no quorum of " + std::to_string(policy.min_quorum) + " agreeing results within max_total_results " +
               std::to_string(policy.max_total_results) + " (" + std::to_string(groups.size()) +
               " distinct digests, " + std::to_string(errors) + " errors)";
    return d;
  }
  d.outcome = Outcome::kNeedMore;
  // At first, fill up to target_nresults; after that, one more per missing match.
  const uint32_t live = total - errors;
  uint32_t want = needed - in_progress;
  if (live < policy.target_nresults) want = std::max(want, policy.target_nresults - live);
  d.replicas_to_add = std::min(want, room);
  return d;
}

}  // namespace p2c2r::validator
