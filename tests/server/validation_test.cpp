// The validator wired into the coordinator: reliability, quarantine, adaptive
// replication, the server's trusted re-execution and credit.
#include <gtest/gtest.h>

#include "server/trusted_runner.h"
#include "tests/server/coordinator_fixture.h"

namespace p2c2r::server {
namespace {

class ValidationTest : public CoordinatorTest {
 protected:
  // One unit of quorum 2 run by `first` (reporting `first_digest`) and
  // `second` (reporting kA); returns whether the unit became valid.
  void run_pair(const Peer& first, const std::string& first_digest, const Peer& second) {
    auto w1 = request(first);
    auto w2 = request(second);
    ASSERT_TRUE(w1 && w2);
    ASSERT_EQ(w1->manifest.unit_id, w2->manifest.unit_id);
    EXPECT_EQ(report(first, w1->replica_id, first_digest).status, 200);
    EXPECT_EQ(report(second, w2->replica_id, kA).status, 200);
  }
  void open_lavapipe() {
    auto dev = runtime::open_device("");
    ASSERT_TRUE(dev.ok()) << dev.status().to_string();
    device_ = std::move(*dev);
  }
};

TEST_F(ValidationTest, LyingHostIsInvalidatedQuarantinedRefusedAndClearedAfterRestart) {
  reliability_.quarantine_min_results = 3;
  reliability_.probation_enabled = false;  // only an operator releases it (ringers: ringer_test)
  restart();
  Peer liar = register_peer("liar"), a = register_peer("a"), b = register_peer("b");
  const uint64_t wl = submit(3);
  for (int i = 0; i < 3; ++i) {
    run_pair(liar, kB, a);  // disagree: a third replica decides
    auto w3 = request(b);
    ASSERT_TRUE(w3);
    EXPECT_EQ(report(b, w3->replica_id, kA).status, 200);
  }
  EXPECT_EQ(status(wl).state, "done");
  auto h = info(liar);
  EXPECT_EQ(h.invalid_results, 3u);
  EXPECT_EQ(h.standing, "quarantined");
  EXPECT_NE(h.quarantine_reason.find("error rate"), std::string::npos) << h.quarantine_reason;
  EXPECT_EQ(info(a).valid_results, 3u);
  EXPECT_GT(info(a).credit, 0);
  EXPECT_EQ(info(liar).credit, 0);

  submit(1);
  Reply refused = raw_request(liar);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("quarantined"), std::string::npos) << refused.body;

  restart();  // reliability is rebuilt from the replica rows
  EXPECT_EQ(info(liar).standing, "quarantined");
  EXPECT_EQ(raw_request(liar).status, 403);
  Reply cleared = call([&](Respond done) { coord_->clear_host(liar.id, std::move(done)); });
  EXPECT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(raw_request(liar).status, 200);
  restart();  // the clear is durable too
  EXPECT_EQ(info(liar).standing, "untrusted");
}

TEST_F(ValidationTest, QuarantinedHostsReportIsTakenButBringsNoWork) {
  reliability_.quarantine_min_results = 3;
  reliability_.probation_enabled = false;
  restart();
  Peer liar = register_peer("liar"), a = register_peer("a"), b = register_peer("b");
  submit(3);
  auto decide = [&] {  // b's replica breaks the tie against the liar
    auto w3 = request(b);
    ASSERT_TRUE(w3);
    EXPECT_EQ(report(b, w3->replica_id, kA).status, 200);
  };
  for (int i = 0; i < 2; ++i) {
    run_pair(liar, kB, a);
    decide();
  }
  run_pair(liar, kB, a);
  submit(2);
  auto held = request(liar);  // taken while the liar is still in good standing
  ASSERT_TRUE(held);
  decide();  // the third invalid result quarantines the liar
  ASSERT_EQ(info(liar).standing, "quarantined");

  // Its report of the unit it holds is accepted, but brings no work although
  // work is ready; the next work request says why.
  Reply last = report(liar, held->replica_id, kA, /*want_work=*/true);
  ASSERT_EQ(last.status, 200) << last.body;
  auto reply = wire::parse<wire::ReportReply>(last.body);
  ASSERT_TRUE(reply.ok()) << last.body;
  EXPECT_FALSE(reply->work) << last.body;
  EXPECT_EQ(raw_request(liar).status, 403);
  // An honest host asking the same way gets the ready unit in its reply.
  auto w = request(a);
  ASSERT_TRUE(w);
  Reply honest = report(a, w->replica_id, kA, /*want_work=*/true);
  ASSERT_EQ(honest.status, 200) << honest.body;
  EXPECT_TRUE(wire::parse<wire::ReportReply>(honest.body)->work) << honest.body;
}

TEST_F(ValidationTest, HostTrustedAfterConsecutiveValidGetsSingleReplicaUnitsWithPendingCredit) {
  reliability_.trust_after_consecutive_valid = 3;
  reliability_.spot_check_floor = 0;
  reliability_.ringer_fraction = 0;
  restart();
  Peer t = register_peer("t"), a = register_peer("a");
  submit(3);
  for (int i = 0; i < 3; ++i) run_pair(t, kA, a);
  EXPECT_EQ(info(t).standing, "trusted");
  EXPECT_EQ(info(t).consecutive_valid, 3u);
  const uint64_t wl = submit(20);
  int singles = 0;
  for (int i = 0; i < 20; ++i) {
    auto w = request(t);
    ASSERT_TRUE(w);
    const auto before = status(wl).units.valid;
    EXPECT_EQ(report(t, w->replica_id, kA).status, 200);
    if (status(wl).units.valid == before + 1) {
      ++singles;  // accepted on t's word alone
    } else {
      auto check = request(a);  // a spot check by another host
      ASSERT_TRUE(check);
      EXPECT_EQ(check->manifest.unit_id, w->manifest.unit_id);
      EXPECT_EQ(report(a, check->replica_id, kA).status, 200);
    }
  }
  EXPECT_EQ(status(wl).state, "done");
  EXPECT_GT(singles, 10);
  EXPECT_LT(singles, 20);  // p >= 1/n: some units were checked
  // The last single results wait for t's next check; earlier ones were released by checks.
  EXPECT_GT(info(t).credit, 0);
}

TEST_F(ValidationTest, ServerSpotCheckCatchesATrustedLiarAndRevokesItsPendingCredit) {
  open_lavapipe();
  reliability_.trust_after_consecutive_valid = 2;
  reliability_.spot_check_floor = 0;
  reliability_.ringer_fraction = 0;
  restart();
  Peer t = register_peer("t"), a = register_peer("a");
  submit(2);
  for (int i = 0; i < 2; ++i) run_pair(t, kA, a);  // both lie alike: trusted by quorum
  ASSERT_EQ(info(t).standing, "trusted");
  // Trusted now: single-replica units until the server checks one.
  const uint64_t wl = submit(30);
  bool caught = false;
  for (int i = 0; i < 30 && !caught; ++i) {
    auto w = request(t);
    ASSERT_TRUE(w);
    EXPECT_EQ(report(t, w->replica_id, kA).status, 200);
    coord_->drain_trusted();
    caught = info(t).invalid_results > 0;
    if (!caught && status(wl).units.valid < static_cast<uint64_t>(i + 1)) {
      auto check = request(a);  // checked by another host: a agrees (a lies too)
      ASSERT_TRUE(check);
      EXPECT_EQ(report(a, check->replica_id, kA).status, 200);
    }
  }
  ASSERT_TRUE(caught) << "no server spot check in 30 units";
  coord_->drain_trusted();  // re-checks of t's unverified results
  auto h = info(t);
  EXPECT_NE(h.standing, "trusted");
  EXPECT_EQ(h.consecutive_valid, 0u);
  EXPECT_EQ(h.credit_pending, 0);
  EXPECT_GT(h.credit_revoked, 0);
  // Every unit t had settled on its word was re-run by the server: none is left on a wrong digest.
  auto s = status(wl);
  EXPECT_EQ(s.units.failed, 0u);
}

TEST_F(ValidationTest, OutputNeverUploadedIsProducedByTheTrustedRunnerAfterAGrace) {
  open_lavapipe();
  output_grace_ms_ = 60000;
  restart();
  Peer a = register_peer("a");
  const uint64_t wl = submit(1, 60000, /*quorum=*/1);
  auto w = request(a);
  ASSERT_TRUE(w);
  // a reports the right digest and vanishes before uploading.
  const kernels::Kernel* peak = *registry_.find("peak");
  const auto params = peak->resolve_params(w->manifest.seed, w->manifest.params).value();
  const Bytes out = peak->reference(params, {}, 1).value();
  ASSERT_EQ(report(a, w->replica_id, digest_of(out).hex()).status, 200);
  EXPECT_EQ(status(wl).state, "running");
  coord_->expire(now_ms() + 1000);  // within the grace: nothing yet
  coord_->drain_trusted();
  EXPECT_EQ(status(wl).state, "running");
  coord_->expire(now_ms() + output_grace_ms_ + 1000);
  coord_->drain_trusted();
  const auto s = status(wl);
  EXPECT_EQ(s.state, "done");
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0], digest_of(out).hex());
  auto stored = blobs_->get(digest_of(out).hex());
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  EXPECT_EQ(*stored, out);
  EXPECT_EQ(info(a).invalid_results, 0u);  // a was right: the server agreed
}

TEST_F(ValidationTest, TrustedRunnerMatchesTheCpuReferenceOnLavapipe) {
  open_lavapipe();
  auto kernel = registry_.find("peak");
  ASSERT_TRUE(kernel.ok());
  TrustedJob job;
  job.kernel = "peak";
  job.seed = 7;
  job.params = {{"invocations", 64}, {"iterations", 4}};
  auto result = TrustedRunner::run(*device_, registry_, *blobs_, job);
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  auto params = (*kernel)->resolve_params(7, job.params);
  ASSERT_TRUE(params.ok());
  auto ref = (*kernel)->reference(*params, {}, 1);
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(result->digest, digest_of(*ref));

  job.inputs = {std::string(64, 'c')};  // a missing input blob is an error, not a crash
  EXPECT_FALSE(TrustedRunner::run(*device_, registry_, *blobs_, job).ok());
  job.kernel = "no-such-kernel";
  EXPECT_FALSE(TrustedRunner::run(*device_, registry_, *blobs_, job).ok());
}

}  // namespace
}  // namespace p2c2r::server
