#include "validator/quorum.h"

#include <algorithm>
#include <set>

namespace p2c2r::validator {

namespace {

// Reports that the comparator says are one answer, in report order.
struct Group {
  const ReplicaView* first = nullptr;
  std::vector<uint64_t> replicas;
  std::set<uint64_t> hosts;
};

// What decide_quorum needs from the replica list, duplicates removed.
struct Tally {
  std::vector<Group> groups;
  const ReplicaView* trusted = nullptr;
  uint32_t total = 0, errors = 0, in_progress = 0;
  uint32_t trusted_live = 0;  // trusted replicas in flight or reported
  std::vector<uint64_t> duplicates;
};

Tally tally(const std::vector<ReplicaView>& replicas, const ResultComparator& cmp) {
  Tally t;
  std::set<uint64_t> seen;
  for (const auto& r : replicas) {
    if (!seen.insert(r.replica_id).second) {
      t.duplicates.push_back(r.replica_id);
      continue;
    }
    // Trusted replicas are the server's own work, not replicas it created
    // for peers, so they do not count against max_total_results.
    if (!r.trusted) ++t.total;
    const bool reported = r.state == ReplicaState::kReported && r.digest;
    if (r.trusted && (reported || r.state == ReplicaState::kInProgress)) ++t.trusted_live;
    if (!reported) {
      if (r.state == ReplicaState::kInProgress) ++t.in_progress;
      // An error, a timeout, or a report without a digest. A failed trusted
      // re-execution is the server's problem, not a host's error.
      else if (!r.trusted) ++t.errors;
      continue;
    }
    if (r.trusted && !t.trusted) t.trusted = &r;
    auto it = std::find_if(t.groups.begin(), t.groups.end(), [&](const Group& g) {
      return cmp.equivalent(*g.first->digest, g.first->output, *r.digest, r.output);
    });
    if (it == t.groups.end()) it = t.groups.insert(t.groups.end(), Group{&r, {}, {}});
    it->replicas.push_back(r.replica_id);
    it->hosts.insert(r.host_id);
  }
  return t;
}

QuorumDecision accept(const Tally& t, const ReplicaView& canonical, const ResultComparator& cmp,
                      std::vector<uint64_t> duplicates) {
  QuorumDecision d;
  d.outcome = Outcome::kAccepted;
  d.canonical_digest = canonical.digest;
  d.canonical_replica = canonical.replica_id;
  d.duplicates = std::move(duplicates);
  for (const auto& g : t.groups) {
    const bool same = cmp.equivalent(*canonical.digest, canonical.output, *g.first->digest,
                                     g.first->output);
    auto& target = same ? d.valid : d.invalid;
    target.insert(target.end(), g.replicas.begin(), g.replicas.end());
  }
  return d;
}

}  // namespace

Status check_policy(const ReplicationPolicy& p) {
  if (p.min_quorum < 1) return invalid_argument("min_quorum must be at least 1");
  if (p.target_nresults < p.min_quorum)
    return invalid_argument("target_nresults (" + std::to_string(p.target_nresults) +
                            ") must be at least min_quorum (" + std::to_string(p.min_quorum) +
                            ")");
  if (p.max_total_results < p.target_nresults)
    return invalid_argument("max_total_results (" + std::to_string(p.max_total_results) +
                            ") must be at least target_nresults (" +
                            std::to_string(p.target_nresults) + ")");
  return Status::Ok();
}

QuorumDecision decide_quorum(const ReplicationPolicy& policy,
                             const std::vector<ReplicaView>& replicas) {
  return decide_quorum(policy, replicas, bitwise_comparator());
}

QuorumDecision decide_quorum(const ReplicationPolicy& policy,
                             const std::vector<ReplicaView>& replicas,
                             const ResultComparator& cmp) {
  Tally t = tally(replicas, cmp);
  if (t.trusted) return accept(t, *t.trusted, cmp, std::move(t.duplicates));
  for (const auto& g : t.groups) {
    if (g.hosts.size() >= policy.min_quorum) return accept(t, *g.first, cmp, std::move(t.duplicates));
  }

  QuorumDecision d;
  d.duplicates = std::move(t.duplicates);
  if (t.errors > policy.max_error_results) {
    d.outcome = Outcome::kFailed;
    d.reason = std::to_string(t.errors) + " replicas errored or timed out (max_error_results " +
               std::to_string(policy.max_error_results) + ")";
    return d;
  }
  // The largest agreeing group needs (min_quorum - best) more matching hosts.
  size_t best = 0;
  for (const auto& g : t.groups) best = std::max(best, g.hosts.size());
  const uint32_t needed = policy.min_quorum - static_cast<uint32_t>(best);
  if (t.in_progress >= needed) {
    d.outcome = Outcome::kWaiting;
    return d;
  }
  const uint32_t room =
      t.total < policy.max_total_results ? policy.max_total_results - t.total : 0;
  if (t.in_progress + room < needed) {
    if (t.in_progress > 0) {
      d.outcome = Outcome::kWaiting;  // let the last replicas land so they can be judged
      return d;
    }
    d.outcome = Outcome::kFailed;
    d.reason = "no quorum of " + std::to_string(policy.min_quorum) +
               " agreeing results within max_total_results " +
               std::to_string(policy.max_total_results) + " (" +
               std::to_string(t.groups.size()) + " distinct results, " +
               std::to_string(t.errors) + " errors)";
    return d;
  }
  d.outcome = Outcome::kNeedMore;
  // At first, fill up to target_nresults; after that, one more per missing match.
  const uint32_t live = t.total - t.errors + t.trusted_live;
  uint32_t want = needed - t.in_progress;
  if (live < policy.target_nresults) want = std::max(want, policy.target_nresults - live);
  d.replicas_to_add = std::min(want, room);
  return d;
}

LateVerdict judge_late_result(const Digest& canonical_digest, ByteView canonical_output,
                              const Digest& late_digest, ByteView late_output,
                              const ResultComparator& cmp) {
  return cmp.equivalent(canonical_digest, canonical_output, late_digest, late_output)
             ? LateVerdict::kValid
             : LateVerdict::kInvalid;
}

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kWaiting: return "waiting";
    case Outcome::kAccepted: return "accepted";
    case Outcome::kNeedMore: return "need_more";
    case Outcome::kFailed: return "failed";
  }
  return "unknown";
}

}  // namespace p2c2r::validator
