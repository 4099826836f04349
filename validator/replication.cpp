#include "validator/replication.h"

#include <algorithm>
#include <set>

namespace p2c2r::validator {

const char* check_by_name(CheckBy check) {
  switch (check) {
    case CheckBy::kNone: return "none";
    case CheckBy::kQuorum: return "quorum";
    case CheckBy::kAnotherHost: return "another_host";
    case CheckBy::kServer: return "server";
  }
  return "unknown";
}

ReplicationDecision decide_replication(const ReliabilityConfig& config,
                                       const ReplicationPolicy& base, const HostStanding& first,
                                       Rng& rng) {
  ReplicationDecision d;
  d.policy = base;
  if (first.standing != Standing::kTrusted) return d;
  d.check_probability = std::clamp(first.spot_check_probability, 0.0, 1.0);
  if (uniform01(rng) < d.check_probability) {
    // Two agreeing results, one of them not this host's: even with a base
    // min_quorum of 1 a spot check needs a second opinion.
    d.policy.min_quorum = 2;
    d.policy.target_nresults = 2;
    d.policy.max_total_results = std::max(base.max_total_results, 2u);
    d.check = uniform01(rng) < config.server_check_fraction ? CheckBy::kServer : CheckBy::kAnotherHost;
    return d;
  }
  d.single = true;
  d.check = CheckBy::kNone;
  d.policy.min_quorum = 1;
  d.policy.target_nresults = 1;
  return d;
}

bool decide_ringer(const ReliabilityConfig& config, const HostStanding& host, Rng& rng) {
  switch (host.standing) {
    case Standing::kQuarantined: return false;
    case Standing::kProbation: return true;
    case Standing::kUntrusted:
    case Standing::kTrusted: return uniform01(rng) < config.ringer_fraction;
  }
  return false;
}

RecheckPlan plan_recheck(const ReliabilityConfig& config, std::vector<UnverifiedResult> unverified) {
  std::stable_sort(unverified.begin(), unverified.end(),
                   [](const UnverifiedResult& a, const UnverifiedResult& b) {
                     return a.accepted_seq > b.accepted_seq;
                   });
  RecheckPlan plan;
  std::set<uint64_t> seen;
  for (const auto& r : unverified) {
    if (!seen.insert(r.result_id).second) continue;
    auto& target = plan.recheck.size() < config.max_recheck_results ? plan.recheck : plan.invalidate;
    target.push_back(r.result_id);
  }
  return plan;
}

}  // namespace p2c2r::validator
