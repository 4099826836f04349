#include "validator/credit.h"

#include <gtest/gtest.h>

namespace p2c2r::validator {
namespace {

TEST(CreditTest, GrantedCreditCountsForHostAndSubmitter) {
  CreditLedger l;
  ASSERT_TRUE(l.grant(1, 10, 100, 500).ok());
  ASSERT_TRUE(l.grant(2, 11, 100, 500).ok());
  EXPECT_EQ(l.host(10).granted, 500u);
  EXPECT_EQ(l.host(11).granted, 500u);
  EXPECT_EQ(l.submitter(100).granted, 1000u);
}

TEST(CreditTest, ResultIsCreditedOnlyOnce) {
  CreditLedger l;
  ASSERT_TRUE(l.grant(1, 10, 100, 500).ok());
  EXPECT_EQ(l.grant(1, 10, 100, 500).code(), Code::kAlreadyExists);
  EXPECT_EQ(l.add_pending(1, 10, 100, 500).code(), Code::kAlreadyExists);
  EXPECT_EQ(l.host(10).granted, 500u);
}

TEST(CreditTest, UnverifiedCreditIsPendingUntilHostPassesACheck) {
  CreditLedger l;
  ASSERT_TRUE(l.add_pending(1, 10, 100, 300).ok());
  ASSERT_TRUE(l.add_pending(2, 10, 100, 200).ok());
  EXPECT_EQ(l.host(10).pending, 500u);
  EXPECT_EQ(l.host(10).granted, 0u);
  EXPECT_EQ(l.release_pending(10), 500u);
  EXPECT_EQ(l.host(10).pending, 0u);
  EXPECT_EQ(l.host(10).granted, 500u);
  EXPECT_EQ(l.submitter(100).granted, 500u);
}

TEST(CreditTest, CaughtCheaterLosesPendingCredit) {
  CreditLedger l;
  ASSERT_TRUE(l.grant(1, 10, 100, 1000).ok());
  ASSERT_TRUE(l.add_pending(2, 10, 100, 300).ok());
  ASSERT_TRUE(l.add_pending(3, 10, 101, 200).ok());
  ASSERT_TRUE(l.add_pending(4, 11, 100, 50).ok());
  auto revoked = l.revoke_pending(10);
  EXPECT_EQ(revoked, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(l.host(10).granted, 1000u);  // checked work stays paid
  EXPECT_EQ(l.host(10).pending, 0u);
  EXPECT_EQ(l.host(10).revoked, 500u);
  EXPECT_EQ(l.host(11).pending, 50u);  // other hosts untouched
  EXPECT_EQ(l.submitter(101).pending, 0u);
  EXPECT_EQ(l.release_pending(10), 0u);  // nothing left to release
}

TEST(CreditTest, ResultFoundWrongLaterLosesGrantedCredit) {
  CreditLedger l;
  ASSERT_TRUE(l.grant(1, 10, 100, 1000).ok());
  ASSERT_TRUE(l.revoke(1).ok());
  EXPECT_EQ(l.host(10).granted, 0u);
  EXPECT_EQ(l.host(10).revoked, 1000u);
  EXPECT_TRUE(l.revoke(1).ok());  // idempotent
  EXPECT_EQ(l.host(10).revoked, 1000u);
}

TEST(CreditTest, RevokingUnknownResultIsNotFound) {
  CreditLedger l;
  EXPECT_EQ(l.revoke(99).code(), Code::kNotFound);
}

TEST(CreditTest, RevokedPendingResultIsNotReleasedLater) {
  CreditLedger l;
  ASSERT_TRUE(l.add_pending(1, 10, 100, 300).ok());
  ASSERT_TRUE(l.revoke(1).ok());
  EXPECT_EQ(l.release_pending(10), 0u);
  EXPECT_EQ(l.host(10).granted, 0u);
}

TEST(CreditTest, LedgerRestoresFromItsEntries) {
  CreditLedger l;
  ASSERT_TRUE(l.grant(1, 10, 100, 1000).ok());
  ASSERT_TRUE(l.add_pending(2, 10, 100, 300).ok());
  auto restored = CreditLedger::restore(l.entries());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->host(10).granted, 1000u);
  EXPECT_EQ(restored->host(10).pending, 300u);
  EXPECT_EQ(restored->release_pending(10), 300u);
}

TEST(CreditTest, RestoreRefusesDuplicateResults) {
  std::vector<CreditEntry> e = {{1, 10, 100, 5, CreditState::kGranted}, {1, 11, 100, 5, CreditState::kGranted}};
  EXPECT_EQ(CreditLedger::restore(e).status().code(), Code::kAlreadyExists);
}

TEST(CreditTest, CobblestonesFollowBoincsDefinition) {
  EXPECT_DOUBLE_EQ(cobblestones(432'000'000'000ull), 1.0);
}

}  // namespace
}  // namespace p2c2r::validator
