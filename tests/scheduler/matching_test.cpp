#include "scheduler/matching.h"

#include <gtest/gtest.h>

namespace p2c2r::scheduler {
namespace {

HostView host(uint64_t id, double seconds = 0.01, uint64_t memory = 1 << 30) {
  HostView h;
  h.id = id;
  h.memory_bytes = memory;
  h.kernels["peak"] = {1, seconds};
  return h;
}

ReadyUnit unit(uint64_t id, int64_t deadline, const std::string& submitter = "alice",
               Priority p = Priority::kBatch, uint32_t wanted = 1) {
  ReadyUnit u;
  u.unit_id = id;
  u.workload_id = 1;
  u.submitter = submitter;
  u.priority = p;
  u.deadline_ms = deadline;
  u.kernel = "peak";
  u.kernel_version = 1;
  u.replicas_wanted = wanted;
  return u;
}

TEST(MatchingTest, HostWithoutKernelOrWrongVersionGetsNothing) {
  ReadyQueue q;
  q.add(unit(1, 100));
  HostView h = host(1);
  h.kernels.clear();
  EXPECT_FALSE(q.take(h, 0));
  h.kernels["peak"] = {2, 0.01};
  EXPECT_NE(why_not(h, unit(1, 100), 0).find("version"), std::string::npos);
  EXPECT_FALSE(q.take(h, 0));
  EXPECT_TRUE(q.take(host(1), 0));
}

TEST(MatchingTest, MemoryAndFeaturesAreRequired) {
  auto u = unit(1, 100);
  u.requires_.memory_bytes = 2048;
  u.requires_.features = {"int64"};
  HostView small = host(1, 0.01, 1024);
  small.features = {"int64"};
  EXPECT_NE(why_not(small, u, 0).find("memory"), std::string::npos);
  HostView nofeat = host(2);
  EXPECT_NE(why_not(nofeat, u, 0).find("int64"), std::string::npos);
  HostView ok = host(3);
  ok.features = {"int64"};
  EXPECT_EQ(why_not(ok, u, 0), "");
}

TEST(MatchingTest, HostSkipsShapesItReportedUnfitAndTakesOthers) {
  ReadyQueue q;
  ReadyUnit big = unit(1, 100), small = unit(2, 200);
  big.shape = 11;
  small.shape = 22;
  q.add(big);
  q.add(small);
  HostView h = host(1);
  h.unfit_shapes.insert(11);
  EXPECT_NE(why_not(h, big, 0).find("unfit"), std::string::npos) << why_not(h, big, 0);
  auto taken = q.take(h, 0);  // the big unit's deadline is earlier, yet it is skipped
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->unit_id, 2u);
  EXPECT_FALSE(q.take(h, 0));
  EXPECT_TRUE(q.take(host(2), 0));
}

TEST(MatchingTest, NeverTwoReplicasOfOneUnitToOneHost) {
  ReadyQueue q;
  q.add(unit(1, 100, "alice", Priority::kBatch, 2));
  auto a = q.take(host(7), 0);
  ASSERT_TRUE(a);
  EXPECT_FALSE(q.take(host(7), 0)) << "second replica must go to another host";
  auto b = q.take(host(8), 0);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->unit_id, 1u);
  EXPECT_EQ(q.size(), 0u);
}

TEST(MatchingTest, ReissueAvoidsHostsThatAlreadyHadTheUnit) {
  ReadyQueue q;
  auto u = unit(1, 100);
  u.hosts = {7};  // e.g. host 7's replica timed out
  q.add(u);
  EXPECT_FALSE(q.take(host(7), 0));
  EXPECT_TRUE(q.take(host(8), 0));
}

TEST(MatchingTest, InteractiveOnlyToHostsThatCanMeetTheDeadline) {
  ReadyQueue q;
  q.add(unit(1, 1000, "alice", Priority::kInteractive));
  EXPECT_FALSE(q.take(host(1, /*seconds=*/2.0), 0)) << "2 s per unit cannot meet a 1 s deadline";
  HostView unmeasured = host(2, 0);
  EXPECT_FALSE(q.take(unmeasured, 0)) << "no benchmark, no interactive work";
  EXPECT_FALSE(q.take(host(3, 0.5), 600)) << "too late now";
  EXPECT_TRUE(q.take(host(3, 0.5), 0));
}

TEST(MatchingTest, BatchUnitsIgnoreSpeed) {
  ReadyQueue q;
  q.add(unit(1, 1000));
  EXPECT_TRUE(q.take(host(1, 100.0), 0));
}

TEST(MatchingTest, EarliestDeadlineFirstAcrossWorkloads) {
  ReadyQueue q;
  auto late = unit(1, 500);
  late.workload_id = 1;
  auto early = unit(2, 100);
  early.workload_id = 2;
  q.add(late);
  q.add(early);
  EXPECT_EQ(q.take(host(1), 0)->unit_id, 2u);
  EXPECT_EQ(q.take(host(1), 0)->unit_id, 1u);
}

TEST(MatchingTest, InteractiveBeforeBatch) {
  ReadyQueue q;
  q.add(unit(1, 10));
  q.add(unit(2, 10000, "alice", Priority::kInteractive));
  EXPECT_EQ(q.take(host(1), 0)->unit_id, 2u);
}

TEST(MatchingTest, FairShareBetweenSubmitters) {
  ReadyQueue q;
  for (uint64_t i = 0; i < 4; ++i) q.add(unit(i, 10 + i, "alice"));
  for (uint64_t i = 10; i < 14; ++i) q.add(unit(i, 1000 + i, "bob"));
  std::map<std::string, int> got;
  for (uint64_t h = 0; h < 4; ++h) {
    auto u = q.take(host(h), 0);
    ASSERT_TRUE(u);
    ++got[u->submitter];
  }
  EXPECT_EQ(got["alice"], 2);
  EXPECT_EQ(got["bob"], 2) << "bob's later deadlines must not starve him";
  EXPECT_EQ(q.in_flight("alice"), 2u);
  q.replica_ended("alice");
  q.replica_ended("alice");
  EXPECT_EQ(q.take(host(9), 0)->submitter, "alice");
}

TEST(MatchingTest, SkipsUnitsThisHostCannotRun) {
  ReadyQueue q;
  auto other = unit(1, 1);
  other.kernel = "raytrace";
  q.add(other);
  q.add(unit(2, 5));
  auto u = q.take(host(1), 0);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->unit_id, 2u);
  EXPECT_TRUE(q.contains(1));
}

TEST(MatchingTest, WantedCountsAddUpAndRemoveDropsAUnit) {
  ReadyQueue q;
  q.add(unit(1, 1, "a", Priority::kBatch, 2));
  q.add(unit(2, 1, "a", Priority::kBatch, 1));
  EXPECT_EQ(q.replicas_wanted(), 3u);
  auto more = unit(2, 1);
  more.submitter = "a";
  more.hosts = {5};
  q.add(more);
  EXPECT_EQ(q.replicas_wanted(), 4u);
  EXPECT_EQ(q.find(2)->replicas_wanted, 2u);
  q.remove(1);
  EXPECT_EQ(q.replicas_wanted(), 2u);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_FALSE(q.take(host(5), 0));
  q.take(host(6), 0);
  q.take(host(7), 0);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.replicas_wanted(), 0u);
}

TEST(DeadlineQueueTest, PopsOnlyExpiredInOrder) {
  DeadlineQueue d;
  d.add(1, 300);
  d.add(2, 100);
  d.add(3, 200);
  EXPECT_EQ(*d.next(), 100);
  EXPECT_TRUE(d.pop_expired(100).empty()) << "due at 100 is not yet late at 100";
  EXPECT_EQ(d.pop_expired(201), (std::vector<uint64_t>{2, 3}));
  d.remove(1);
  EXPECT_FALSE(d.next());
  EXPECT_EQ(d.size(), 0u);
}

TEST(DeadlineQueueTest, ReAddMovesTheDeadline) {
  DeadlineQueue d;
  d.add(1, 100);
  d.add(1, 500);
  EXPECT_TRUE(d.pop_expired(200).empty());
  EXPECT_EQ(d.pop_expired(501), std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace p2c2r::scheduler
