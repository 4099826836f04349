#include "validator/quorum.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace p2c2r::validator {
namespace {

Digest digest(uint8_t tag) {
  Digest d;
  d.bytes.fill(tag);
  return d;
}

// Replica `id` on host `id` unless told otherwise.
ReplicaView reported(uint64_t id, uint8_t tag, uint64_t host = 0) {
  ReplicaView r;
  r.replica_id = id;
  r.host_id = host ? host : id;
  r.state = ReplicaState::kReported;
  r.digest = digest(tag);
  return r;
}
ReplicaView in_state(uint64_t id, ReplicaState state) {
  ReplicaView r;
  r.replica_id = id;
  r.host_id = id;
  r.state = state;
  return r;
}

using Ids = std::vector<uint64_t>;
Ids sorted(Ids v) {
  std::sort(v.begin(), v.end());
  return v;
}

const ReplicationPolicy kPolicy;  // min_quorum 2, target 2, max errors 3, max total 6

TEST(ValidatorTest, NewUnitAsksForTargetNresults) {
  auto d = decide_quorum(kPolicy, {});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 2u);
}

TEST(ValidatorTest, LargerTargetThanQuorumSendsTargetAtFirst) {
  ReplicationPolicy p{2, 3, 3, 6};
  EXPECT_EQ(decide_quorum(p, {}).replicas_to_add, 3u);
}

TEST(ValidatorTest, AgreeingPairIsAcceptedBothValid) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), reported(2, 7)});
  EXPECT_EQ(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(d.canonical_digest, digest(7));
  EXPECT_EQ(d.canonical_replica, 1u);
  EXPECT_EQ(sorted(d.valid), (Ids{1, 2}));
  EXPECT_TRUE(d.invalid.empty());
}

TEST(ValidatorTest, OneReportWithOneInFlightWaits) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), in_state(2, ReplicaState::kInProgress)});
  EXPECT_EQ(d.outcome, Outcome::kWaiting);
  EXPECT_EQ(d.replicas_to_add, 0u);
}

TEST(ValidatorTest, DisagreeingPairAsksForThirdReplica) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), reported(2, 8)});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 1u);
  EXPECT_FALSE(d.canonical_digest);
}

TEST(ValidatorTest, ThirdReplicaBreaksTieAndOutvotedOneIsInvalid) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), reported(2, 8), reported(3, 8)});
  EXPECT_EQ(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(d.canonical_digest, digest(8));
  EXPECT_EQ(d.canonical_replica, 2u);
  EXPECT_EQ(sorted(d.valid), (Ids{2, 3}));
  EXPECT_EQ(d.invalid, (Ids{1}));
}

TEST(ValidatorTest, InconclusiveSetAsksForOneMorePerMissingMatch) {
  // Three different answers: the best group has 1, needs 1 more host.
  auto d = decide_quorum(kPolicy, {reported(1, 1), reported(2, 2), reported(3, 3)});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 1u);
  ReplicationPolicy three{3, 3, 3, 9};
  auto d3 = decide_quorum(three, {reported(1, 1), reported(2, 2), reported(3, 3)});
  EXPECT_EQ(d3.replicas_to_add, 2u);
}

TEST(ValidatorTest, MaxTotalResultsWithoutAgreementFailsWithReason) {
  std::vector<ReplicaView> r;
  for (uint64_t i = 1; i <= 6; ++i) r.push_back(reported(i, static_cast<uint8_t>(i)));
  auto d = decide_quorum(kPolicy, r);
  EXPECT_EQ(d.outcome, Outcome::kFailed);
  EXPECT_NE(d.reason.find("max_total_results 6"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("6 distinct results"), std::string::npos) << d.reason;
}

TEST(ValidatorTest, NeverAsksBeyondMaxTotalResults) {
  ReplicationPolicy p{3, 3, 3, 4};
  // 1 and 2 agree; they need one more match, and there is room for exactly one.
  auto d = decide_quorum(p, {reported(1, 1), reported(2, 1), reported(3, 2)});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 1u);
}

TEST(ValidatorTest, HopelessUnitWaitsForReplicasStillInFlight) {
  ReplicationPolicy p{3, 3, 3, 4};
  auto d = decide_quorum(p, {reported(1, 1), reported(2, 2), reported(3, 3),
                             in_state(4, ReplicaState::kInProgress)});
  EXPECT_EQ(d.outcome, Outcome::kWaiting);
}

TEST(ValidatorTest, ErrorIsReplacedByANewReplica) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), in_state(2, ReplicaState::kError)});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 1u);
}

TEST(ValidatorTest, TimeoutIsReplacedByANewReplica) {
  auto d = decide_quorum(kPolicy, {in_state(1, ReplicaState::kTimedOut),
                                   in_state(2, ReplicaState::kTimedOut)});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 2u);
}

TEST(ValidatorTest, ErrorsAndTimeoutsBeyondMaxErrorResultsFail) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), in_state(2, ReplicaState::kError),
                                   in_state(3, ReplicaState::kTimedOut),
                                   in_state(4, ReplicaState::kError),
                                   in_state(5, ReplicaState::kTimedOut)});
  EXPECT_EQ(d.outcome, Outcome::kFailed);
  EXPECT_NE(d.reason.find("max_error_results 3"), std::string::npos) << d.reason;
}

TEST(ValidatorTest, ErrorsUpToMaxErrorResultsStillAskForMore) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), in_state(2, ReplicaState::kError),
                                   in_state(3, ReplicaState::kTimedOut),
                                   in_state(4, ReplicaState::kError)});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 1u);
}

TEST(ValidatorTest, ErroredReplicasCountAgainstMaxTotalResults) {
  ReplicationPolicy p{2, 2, 10, 3};
  auto d = decide_quorum(p, {in_state(1, ReplicaState::kError), in_state(2, ReplicaState::kError),
                             reported(3, 7)});
  EXPECT_EQ(d.outcome, Outcome::kFailed);
}

TEST(ValidatorTest, ReportWithoutDigestCountsAsError) {
  auto d = decide_quorum(kPolicy, {in_state(1, ReplicaState::kReported), reported(2, 7)});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 1u);
}

TEST(ValidatorTest, DuplicateReportIsIgnoredAndCannotMakeAQuorum) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), reported(1, 7)});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.duplicates, (Ids{1}));
  EXPECT_EQ(d.replicas_to_add, 1u);
}

TEST(ValidatorTest, DuplicateReportWithOtherDigestDoesNotChangeTheFirst) {
  auto d = decide_quorum(kPolicy, {reported(1, 7), reported(2, 7), reported(1, 9)});
  EXPECT_EQ(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(d.canonical_digest, digest(7));
  EXPECT_TRUE(d.invalid.empty());
  EXPECT_EQ(d.duplicates, (Ids{1}));
}

TEST(ValidatorTest, TwoReplicasFromOneHostAreNotAQuorum) {
  auto d = decide_quorum(kPolicy, {reported(1, 7, 42), reported(2, 7, 42)});
  EXPECT_NE(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
}

TEST(ValidatorTest, TrustedReplicaIsCanonicalAndJudgesTheRest) {
  ReplicaView server = reported(3, 9, 1000);
  server.trusted = true;
  auto d = decide_quorum(kPolicy, {reported(1, 7), reported(2, 7), server});
  EXPECT_EQ(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(d.canonical_digest, digest(9));
  EXPECT_EQ(d.canonical_replica, 3u);
  EXPECT_EQ(d.valid, (Ids{3}));
  EXPECT_EQ(sorted(d.invalid), (Ids{1, 2}));
}

TEST(ValidatorTest, TrustedReplicaInFlightMakesTheUnitWait) {
  ReplicaView server = in_state(2, ReplicaState::kInProgress);
  server.trusted = true;
  auto d = decide_quorum(kPolicy, {reported(1, 7), server});
  EXPECT_EQ(d.outcome, Outcome::kWaiting);
}

TEST(ValidatorTest, ServerSpotCheckInFlightCountsTowardsTarget) {
  ReplicaView server = in_state(1, ReplicaState::kInProgress);
  server.trusted = true;
  auto d = decide_quorum(kPolicy, {server});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
  EXPECT_EQ(d.replicas_to_add, 1u);  // one peer replica; the server is the second opinion
}

TEST(ValidatorTest, FailedTrustedReplicaIsNotAHostError) {
  ReplicationPolicy p{2, 2, 0, 6};
  ReplicaView server = in_state(2, ReplicaState::kError);
  server.trusted = true;
  auto d = decide_quorum(p, {reported(1, 7), server});
  EXPECT_EQ(d.outcome, Outcome::kNeedMore);
}

TEST(ValidatorTest, FailedUnitIsSettledByTrustedReexecution) {
  std::vector<ReplicaView> r;
  for (uint64_t i = 1; i <= 6; ++i) r.push_back(reported(i, static_cast<uint8_t>(i)));
  ASSERT_EQ(decide_quorum(kPolicy, r).outcome, Outcome::kFailed);
  ReplicaView server = reported(7, 4, 1000);
  server.trusted = true;
  r.push_back(server);
  auto d = decide_quorum(kPolicy, r);
  EXPECT_EQ(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(sorted(d.valid), (Ids{4, 7}));
  EXPECT_EQ(d.invalid.size(), 5u);
}

TEST(ValidatorTest, SingleReplicaPolicyAcceptsOneResult) {
  ReplicationPolicy single{1, 1, 3, 6};
  auto d = decide_quorum(single, {reported(1, 7)});
  EXPECT_EQ(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(d.valid, (Ids{1}));
}

TEST(ValidatorTest, EarliestAgreeingGroupWinsWhenTwoReachQuorum) {
  ReplicationPolicy single{1, 1, 3, 6};
  auto d = decide_quorum(single, {reported(1, 7), reported(2, 8)});
  EXPECT_EQ(d.canonical_digest, digest(7));
  EXPECT_EQ(d.invalid, (Ids{2}));
}

TEST(ValidatorTest, LateResultMatchingCanonicalIsValid) {
  EXPECT_EQ(judge_late_result(digest(7), {}, digest(7), {}), LateVerdict::kValid);
}

TEST(ValidatorTest, LateResultDifferingFromCanonicalIsInvalid) {
  EXPECT_EQ(judge_late_result(digest(7), {}, digest(8), {}), LateVerdict::kInvalid);
}

TEST(ValidatorTest, PolicyChecksNameTheBadField) {
  EXPECT_TRUE(check_policy(ReplicationPolicy{}).ok());
  auto zero = check_policy({0, 1, 1, 1});
  EXPECT_EQ(zero.code(), Code::kInvalidArgument);
  EXPECT_NE(zero.message().find("min_quorum"), std::string::npos);
  EXPECT_NE(check_policy({2, 1, 3, 6}).message().find("target_nresults"), std::string::npos);
  EXPECT_NE(check_policy({2, 3, 3, 2}).message().find("max_total_results"), std::string::npos);
}

TEST(ValidatorTest, OutcomeNamesAreStable) {
  EXPECT_STREQ(outcome_name(Outcome::kAccepted), "accepted");
  EXPECT_STREQ(outcome_name(Outcome::kNeedMore), "need_more");
}

}  // namespace
}  // namespace p2c2r::validator
