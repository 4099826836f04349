#include "validator/comparator.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "validator/quorum.h"

namespace p2c2r::validator {
namespace {

// A toy tolerance kernel's comparator: outputs agree when every byte differs
// by at most 2 and the lengths match.
class ByteTolerance final : public ToleranceComparator {
 protected:
  bool within_tolerance(ByteView a, ByteView b) const override {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (std::abs(int(a[i]) - int(b[i])) > 2) return false;
    return true;
  }
};

ReplicaView with_output(uint64_t id, const Bytes& out) {
  ReplicaView r;
  r.replica_id = r.host_id = id;
  r.state = ReplicaState::kReported;
  r.digest = digest_of(out);
  r.output = out;
  return r;
}

TEST(ComparatorTest, BitwiseComparesDigestsOnly) {
  const Bytes a{1, 2, 3}, b{1, 2, 4};
  EXPECT_TRUE(bitwise_comparator().equivalent(digest_of(a), a, digest_of(a), {}));
  EXPECT_FALSE(bitwise_comparator().equivalent(digest_of(a), a, digest_of(b), b));
  EXPECT_FALSE(bitwise_comparator().needs_outputs());
}

TEST(ComparatorTest, ToleranceAcceptsCloseOutputs) {
  ByteTolerance tol;
  const Bytes a{10, 20, 30}, b{11, 18, 30};
  EXPECT_TRUE(tol.needs_outputs());
  EXPECT_TRUE(tol.equivalent(digest_of(a), a, digest_of(b), b));
}

TEST(ComparatorTest, ToleranceRejectsFarOutputs) {
  ByteTolerance tol;
  const Bytes a{10, 20, 30}, b{10, 20, 40};
  EXPECT_FALSE(tol.equivalent(digest_of(a), a, digest_of(b), b));
}

TEST(ComparatorTest, ToleranceWithoutOutputsSaysDifferent) {
  ByteTolerance tol;
  const Bytes a{10, 20, 30}, b{11, 20, 30};
  EXPECT_FALSE(tol.equivalent(digest_of(a), a, digest_of(b), {}));
  EXPECT_TRUE(tol.equivalent(digest_of(a), {}, digest_of(a), {}));  // equal digests always agree
}

TEST(ComparatorTest, QuorumWithToleranceAcceptsCloseResults) {
  ByteTolerance tol;
  const Bytes a{10, 20, 30}, b{11, 21, 29}, far{90, 90, 90};
  auto d = decide_quorum(ReplicationPolicy{}, {with_output(1, a), with_output(2, far), with_output(3, b)}, tol);
  ASSERT_EQ(d.outcome, Outcome::kAccepted);
  EXPECT_EQ(d.canonical_replica, 1u);
  EXPECT_EQ(d.valid, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(d.invalid, (std::vector<uint64_t>{2}));
  // Bitwise, the same three results have no quorum.
  EXPECT_EQ(decide_quorum(ReplicationPolicy{}, {with_output(1, a), with_output(2, far), with_output(3, b)}).outcome,
            Outcome::kNeedMore);
}

TEST(ComparatorTest, LateResultJudgedWithTolerance) {
  ByteTolerance tol;
  const Bytes canon{10, 20, 30}, close{12, 20, 30}, far{20, 20, 30};
  EXPECT_EQ(judge_late_result(digest_of(canon), canon, digest_of(close), close, tol), LateVerdict::kValid);
  EXPECT_EQ(judge_late_result(digest_of(canon), canon, digest_of(far), far, tol), LateVerdict::kInvalid);
}

TEST(ComparatorTest, RegistryDefaultsToBitwise) {
  ComparatorRegistry reg;
  ASSERT_TRUE(reg.add("toy", std::make_shared<ByteTolerance>()).ok());
  EXPECT_TRUE(reg.for_kernel("toy").needs_outputs());
  EXPECT_FALSE(reg.for_kernel("raytrace").needs_outputs());
}

TEST(ComparatorTest, RegistryRefusesDuplicateEmptyAndNull) {
  ComparatorRegistry reg;
  ASSERT_TRUE(reg.add("toy", std::make_shared<ByteTolerance>()).ok());
  EXPECT_EQ(reg.add("toy", std::make_shared<ByteTolerance>()).code(), Code::kAlreadyExists);
  EXPECT_EQ(reg.add("", std::make_shared<ByteTolerance>()).code(), Code::kInvalidArgument);
  EXPECT_EQ(reg.add("x", nullptr).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace p2c2r::validator
