#include "validator/replication.h"

#include <gtest/gtest.h>

namespace p2c2r::validator {
namespace {

const ReliabilityConfig kConfig;
const ReplicationPolicy kBase;

HostStanding trusted(double p) { return {Standing::kTrusted, p}; }

TEST(ReplicationTest, UntrustedHostGetsBasePolicy) {
  Rng rng(1);
  auto d = decide_replication(kConfig, kBase, {Standing::kUntrusted, 1.0}, rng);
  EXPECT_FALSE(d.single);
  EXPECT_EQ(d.check, CheckBy::kQuorum);
  EXPECT_EQ(d.policy.min_quorum, 2u);
  EXPECT_EQ(d.policy.target_nresults, 2u);
}

TEST(ReplicationTest, TrustedHostNeverCheckedGetsSingleReplica) {
  Rng rng(1);
  auto d = decide_replication(kConfig, kBase, trusted(0.0), rng);
  EXPECT_TRUE(d.single);
  EXPECT_EQ(d.check, CheckBy::kNone);
  EXPECT_EQ(d.policy.min_quorum, 1u);
  EXPECT_EQ(d.policy.target_nresults, 1u);
  EXPECT_TRUE(check_policy(d.policy).ok());
}

TEST(ReplicationTest, TrustedHostAlwaysCheckedGetsSecondOpinion) {
  Rng rng(1);
  auto d = decide_replication(kConfig, kBase, trusted(1.0), rng);
  EXPECT_FALSE(d.single);
  EXPECT_TRUE(d.check == CheckBy::kServer || d.check == CheckBy::kAnotherHost);
  EXPECT_EQ(d.policy.min_quorum, 2u);
  EXPECT_TRUE(check_policy(d.policy).ok());
}

TEST(ReplicationTest, SpotCheckNeedsTwoEvenWhenBaseQuorumIsOne) {
  Rng rng(1);
  auto d = decide_replication(kConfig, ReplicationPolicy{1, 1, 3, 1}, trusted(1.0), rng);
  EXPECT_EQ(d.policy.min_quorum, 2u);
  EXPECT_GE(d.policy.max_total_results, 2u);
  EXPECT_TRUE(check_policy(d.policy).ok());
}

TEST(ReplicationTest, SpotCheckRateMatchesProbability) {
  Rng rng(42);
  int checked = 0;
  for (int i = 0; i < 20000; ++i) checked += !decide_replication(kConfig, kBase, trusted(0.2), rng).single;
  EXPECT_NEAR(checked / 20000.0, 0.2, 0.015);
}

TEST(ReplicationTest, ServerShareOfSpotChecksFollowsConfig) {
  ReliabilityConfig c;
  c.server_check_fraction = 1.0;
  Rng rng(5);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(decide_replication(c, kBase, trusted(1.0), rng).check, CheckBy::kServer);
  c.server_check_fraction = 0.0;
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(decide_replication(c, kBase, trusted(1.0), rng).check, CheckBy::kAnotherHost);
}

TEST(ReplicationTest, SameSeedSameDecisions) {
  Rng a(9), b(9);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(decide_replication(kConfig, kBase, trusted(0.3), a).check,
              decide_replication(kConfig, kBase, trusted(0.3), b).check);
}

TEST(ReplicationTest, ProbationHostGetsOnlyRingers) {
  Rng rng(1);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(decide_ringer(kConfig, {Standing::kProbation, 1.0}, rng));
}

TEST(ReplicationTest, QuarantinedHostGetsNoRingers) {
  Rng rng(1);
  EXPECT_FALSE(decide_ringer(kConfig, {Standing::kQuarantined, 1.0}, rng));
}

TEST(ReplicationTest, RingerFractionFollowsConfig) {
  ReliabilityConfig c;
  c.ringer_fraction = 0.1;
  Rng rng(3);
  int ringers = 0;
  for (int i = 0; i < 20000; ++i) ringers += decide_ringer(c, {Standing::kTrusted, 0.1}, rng);
  EXPECT_NEAR(ringers / 20000.0, 0.1, 0.01);
}

TEST(ReplicationTest, CaughtHostHasEveryUnverifiedResultRechecked) {
  auto plan = plan_recheck(kConfig, {{11, 1, 5}, {12, 2, 9}, {13, 3, 7}});
  EXPECT_EQ(plan.recheck, (std::vector<uint64_t>{12, 13, 11}));  // newest first
  EXPECT_TRUE(plan.invalidate.empty());
}

TEST(ReplicationTest, RecheckBeyondBudgetInvalidatesOldest) {
  ReliabilityConfig c;
  c.max_recheck_results = 2;
  auto plan = plan_recheck(c, {{11, 1, 5}, {12, 2, 9}, {13, 3, 7}, {12, 2, 9}});
  EXPECT_EQ(plan.recheck, (std::vector<uint64_t>{12, 13}));
  EXPECT_EQ(plan.invalidate, (std::vector<uint64_t>{11}));
}

TEST(ReplicationTest, NothingUnverifiedNothingToRecheck) {
  auto plan = plan_recheck(kConfig, {});
  EXPECT_TRUE(plan.recheck.empty());
  EXPECT_TRUE(plan.invalidate.empty());
}

}  // namespace
}  // namespace p2c2r::validator
