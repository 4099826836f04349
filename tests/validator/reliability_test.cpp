#include "validator/reliability.h"

#include <gtest/gtest.h>

#include <cmath>

namespace p2c2r::validator {
namespace {

const ReliabilityConfig kConfig;

HostReliability after(std::initializer_list<Verdict> verdicts, bool checked = true,
                      HostReliability r = new_host_reliability(kConfig)) {
  for (Verdict v : verdicts) r = record_verdict(kConfig, r, v, checked);
  return r;
}

HostReliability valid_run(uint64_t n, HostReliability r = new_host_reliability(kConfig)) {
  for (uint64_t i = 0; i < n; ++i) r = record_verdict(kConfig, r, Verdict::kValid, true);
  return r;
}

TEST(ReliabilityTest, DefaultConfigIsValid) { EXPECT_TRUE(check_config(kConfig).ok()); }

TEST(ReliabilityTest, BadConfigIsRefusedByName) {
  ReliabilityConfig c;
  c.spot_check_floor = 1.5;
  EXPECT_NE(check_config(c).message().find("spot_check_floor"), std::string::npos);
  c = {};
  c.error_rate_alpha = 0;
  EXPECT_NE(check_config(c).message().find("error_rate_alpha"), std::string::npos);
  c = {};
  c.trust_after_consecutive_valid = 0;
  EXPECT_EQ(check_config(c).code(), Code::kInvalidArgument);
  c = {};
  c.initial_error_rate = 0.5;  // above the quarantine threshold: every new host quarantined
  EXPECT_EQ(check_config(c).code(), Code::kInvalidArgument);
}

TEST(ReliabilityTest, NewHostIsUntrusted) {
  EXPECT_EQ(standing_of(kConfig, new_host_reliability(kConfig)), Standing::kUntrusted);
}

TEST(ReliabilityTest, CountsEachVerdictKind) {
  auto r = after({Verdict::kValid, Verdict::kInvalid, Verdict::kError, Verdict::kTimedOut, Verdict::kValid});
  EXPECT_EQ(r.valid, 2u);
  EXPECT_EQ(r.invalid, 1u);
  EXPECT_EQ(r.errors, 1u);
  EXPECT_EQ(r.timeouts, 1u);
  EXPECT_EQ(r.consecutive_valid, 1u);
}

TEST(ReliabilityTest, TrustedAfterTenConsecutiveValid) {
  EXPECT_EQ(standing_of(kConfig, valid_run(9)), Standing::kUntrusted);
  EXPECT_EQ(standing_of(kConfig, valid_run(10)), Standing::kTrusted);
}

TEST(ReliabilityTest, InvalidResultResetsTrust) {
  auto r = after({Verdict::kInvalid}, true, valid_run(50));
  EXPECT_EQ(r.consecutive_valid, 0u);
  EXPECT_EQ(standing_of(kConfig, r), Standing::kUntrusted);
}

TEST(ReliabilityTest, ErrorAndTimeoutAlsoEndTheValidRun) {
  EXPECT_EQ(after({Verdict::kError}, true, valid_run(50)).consecutive_valid, 0u);
  EXPECT_EQ(after({Verdict::kTimedOut}, true, valid_run(50)).consecutive_valid, 0u);
}

TEST(ReliabilityTest, ErrorRateDecaysWithValidResults) {
  auto r = valid_run(10);
  EXPECT_NEAR(r.error_rate, 0.1 * std::pow(0.9, 10), 1e-12);
}

TEST(ReliabilityTest, ErrorRateRisesWithBadResults) {
  auto r = after({Verdict::kError});
  EXPECT_NEAR(r.error_rate, 0.9 * 0.1 + 0.1, 1e-12);
}

TEST(ReliabilityTest, HostAboveErrorRateThresholdIsQuarantined) {
  auto r = after({Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid});
  EXPECT_TRUE(r.quarantined);
  EXPECT_EQ(r.quarantines, 1u);
  EXPECT_EQ(standing_of(kConfig, r), Standing::kProbation);
}

TEST(ReliabilityTest, NoQuarantineBeforeMinimumResults) {
  ReliabilityConfig c;
  c.quarantine_error_rate = 0.15;
  auto r = record_verdict(c, new_host_reliability(c), Verdict::kError, true);
  EXPECT_GT(r.error_rate, c.quarantine_error_rate);
  EXPECT_FALSE(r.quarantined);
}

TEST(ReliabilityTest, OccasionalErrorsOfAGoodHostDoNotQuarantine) {
  HostReliability r = new_host_reliability(kConfig);
  for (int i = 0; i < 1000; ++i) r = record_verdict(kConfig, r, i % 20 == 0 ? Verdict::kTimedOut : Verdict::kValid, true);
  EXPECT_FALSE(r.quarantined);
}

TEST(ReliabilityTest, ProbationOfCheckedValidResultsReleases) {
  auto r = after({Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid});
  ASSERT_TRUE(r.quarantined);
  r = valid_run(9, r);
  EXPECT_TRUE(r.quarantined);
  r = valid_run(1, r);
  EXPECT_FALSE(r.quarantined);
  EXPECT_EQ(r.error_rate, kConfig.initial_error_rate);
  EXPECT_EQ(standing_of(kConfig, r), Standing::kUntrusted);  // trust is earned again
}

TEST(ReliabilityTest, UncheckedResultsDoNotCountForProbation) {
  auto r = after({Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid});
  r = after({Verdict::kValid, Verdict::kValid, Verdict::kValid, Verdict::kValid, Verdict::kValid,
             Verdict::kValid, Verdict::kValid, Verdict::kValid, Verdict::kValid, Verdict::kValid},
            false, r);
  EXPECT_TRUE(r.quarantined);
}

TEST(ReliabilityTest, LieOnProbationRestartsItAndCountsAnotherQuarantine) {
  auto r = after({Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid});
  r = after({Verdict::kValid, Verdict::kValid, Verdict::kInvalid}, true, r);
  EXPECT_EQ(r.probation_valid, 0u);
  EXPECT_EQ(r.quarantines, 2u);
}

TEST(ReliabilityTest, TimeoutOnProbationFailsIt) {
  auto r = after({Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid});
  r = after({Verdict::kValid, Verdict::kTimedOut}, true, r);
  EXPECT_EQ(r.probation_valid, 0u);
  EXPECT_EQ(r.quarantines, 2u);
}

TEST(ReliabilityTest, RepeatOffenderNeedsAnOperator) {
  auto r = after({Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid,
                  Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid, Verdict::kInvalid});
  EXPECT_EQ(r.quarantines, 4u);
  EXPECT_EQ(standing_of(kConfig, r), Standing::kQuarantined);
  r = valid_run(20, r);
  EXPECT_TRUE(r.quarantined);  // probation no longer releases it
  r = clear_quarantine(kConfig, r);
  EXPECT_EQ(standing_of(kConfig, r), Standing::kUntrusted);
}

TEST(ReliabilityTest, WithoutProbationOnlyAnOperatorReleases) {
  ReliabilityConfig c;
  c.probation_enabled = false;
  HostReliability r = new_host_reliability(c);
  for (int i = 0; i < 5; ++i) r = record_verdict(c, r, Verdict::kInvalid, true);
  EXPECT_EQ(standing_of(c, r), Standing::kQuarantined);
}

TEST(ReliabilityTest, SpotCheckProbabilityIsOneForUntrusted) {
  EXPECT_EQ(spot_check_probability(kConfig, valid_run(5), 0.0), 1.0);
}

TEST(ReliabilityTest, SpotCheckProbabilityFollowsFormula) {
  auto r = valid_run(20);
  EXPECT_NEAR(spot_check_probability(kConfig, r, 0.01), 0.03 + 1.0 / 20 + 0.01, 1e-12);
}

TEST(ReliabilityTest, SpotCheckProbabilityIsAtLeastBoincsOneOverN) {
  for (uint64_t n : {10u, 11u, 100u, 100000u}) {
    auto r = valid_run(n);
    EXPECT_GE(spot_check_probability(kConfig, r, 0.0), 1.0 / double(n));
    EXPECT_GE(spot_check_probability(kConfig, r, 0.0), kConfig.spot_check_floor);
  }
}

TEST(ReliabilityTest, SpotCheckProbabilityRisesAsTrustFalls) {
  auto more = valid_run(100), fewer = valid_run(12);
  EXPECT_GT(spot_check_probability(kConfig, fewer, 0.0), spot_check_probability(kConfig, more, 0.0));
  EXPECT_GT(spot_check_probability(kConfig, more, 0.2), spot_check_probability(kConfig, more, 0.0));
}

TEST(ReliabilityTest, BookTracksFamiliesSeparately) {
  ReliabilityBook book(kConfig);
  for (int i = 0; i < 10; ++i) book.record(7, "raytrace", Verdict::kValid, true);
  EXPECT_EQ(book.standing(7, "raytrace").standing, Standing::kTrusted);
  EXPECT_EQ(book.standing(7, "physics").standing, Standing::kUntrusted);
  EXPECT_EQ(book.host(7).valid, 10u);
  EXPECT_EQ(book.family(7, "raytrace").valid, 10u);
  EXPECT_EQ(book.family(7, "physics").valid, 0u);
}

TEST(ReliabilityTest, BookQuarantinesHostAcrossFamilies) {
  ReliabilityBook book(kConfig);
  const char* families[] = {"raytrace", "physics", "nn", "video", "raytrace"};
  for (const char* f : families) book.record(3, f, Verdict::kInvalid, true);
  EXPECT_TRUE(book.host(3).quarantined);
  EXPECT_EQ(book.standing(3, "video").standing, Standing::kProbation);
}

TEST(ReliabilityTest, BookOperatorClearReleasesEveryFamily) {
  ReliabilityBook book(kConfig);
  for (int i = 0; i < 5; ++i) book.record(3, "nn", Verdict::kInvalid, true);
  ASSERT_TRUE(book.family(3, "nn").quarantined);
  book.clear_quarantine(3);
  EXPECT_EQ(book.standing(3, "nn").standing, Standing::kUntrusted);
}

TEST(ReliabilityTest, BookUsesWorseErrorRateForSpotChecks) {
  ReliabilityBook book(kConfig);
  for (int i = 0; i < 30; ++i) book.record(1, "nn", Verdict::kValid, true);
  const double clean = book.standing(1, "nn").spot_check_probability;
  for (int i = 0; i < 2; ++i) book.record(1, "video", Verdict::kError, true);
  EXPECT_GT(book.standing(1, "nn").spot_check_probability, clean);
}

TEST(ReliabilityTest, UniformDrawIsInUnitInterval) {
  Rng rng(1);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    double u = uniform01(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

}  // namespace
}  // namespace p2c2r::validator
