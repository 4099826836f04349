#include "server/coordinator.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/server/coordinator_fixture.h"
#include "tests/support/game_params.h"

namespace p2c2r::server {
namespace {

using testing::TempDir;
using wire::Json;

TEST_F(CoordinatorTest, ManifestIsSignedByTheServerKey) {
  Peer a = register_peer("a");
  submit(1);
  auto work = request(a);
  ASSERT_TRUE(work);
  auto sig = crypto::Signature::from_hex(work->manifest_signature);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(
      crypto::verify(server_key_.public_key(), wire::manifest_signing_bytes(work->manifest), *sig));
  EXPECT_EQ(work->manifest.kernel, "peak");
  EXPECT_EQ(work->manifest.params.at("invocations"), 64);
}

TEST_F(CoordinatorTest, AgreeingPairValidatesTheUnitAndFinishesTheWorkload) {
  Peer a = register_peer("a"), b = register_peer("b");
  const uint64_t w = submit(1);
  auto ra = request(a), rb = request(b);
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra->manifest.unit_id, rb->manifest.unit_id);
  EXPECT_EQ(report(a, ra->replica_id, kA).status, 200);
  EXPECT_EQ(status(w).state, "running");
  EXPECT_EQ(report(b, rb->replica_id, kA).status, 200);
  const auto s = status(w);
  EXPECT_EQ(s.state, "done");
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0], kA);
}

TEST_F(CoordinatorTest, WorkloadIsDoneOnlyOnceItsOutputsAreStored) {
  Peer a = register_peer("a");
  const uint64_t w = submit(1, 60000, /*quorum=*/1);
  auto ra = request(a);
  ASSERT_TRUE(ra);
  const Bytes out = to_bytes("an output uploaded late");
  Reply r = report(a, ra->replica_id, digest_of(out).hex());  // not uploaded by report()
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(wire::parse<wire::ReportReply>(r.body)->want_output);
  const auto unit_state = [&] {
    return wire::parse<wire::UnitReport>(coord_->unit_report(ra->manifest.unit_id).body)->state;
  };
  EXPECT_EQ(unit_state(), "valid");
  EXPECT_EQ(status(w).state, "running") << "done before its output can be fetched";
  restart();  // the missing output is counted again from the store
  EXPECT_EQ(status(w).state, "running");
  ASSERT_EQ(upload(a, ra->replica_id, out).status, 200);
  const auto s = status(w);
  EXPECT_EQ(s.state, "done");
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0], digest_of(out).hex());
  restart();
  EXPECT_EQ(status(w).state, "done");
}

TEST_F(CoordinatorTest, NeverSendsTwoReplicasOfOneUnitToOneHost) {
  Peer a = register_peer("a");
  submit(1);
  ASSERT_TRUE(request(a));
  EXPECT_FALSE(request(a));
}

TEST_F(CoordinatorTest, DisagreementSendsAThirdReplica) {
  Peer a = register_peer("a"), b = register_peer("b"), c = register_peer("c");
  const uint64_t w = submit(1);
  auto ra = request(a), rb = request(b);
  ASSERT_TRUE(ra && rb);
  EXPECT_FALSE(request(c));
  report(a, ra->replica_id, kA);
  report(b, rb->replica_id, kB);
  auto rc = request(c);
  ASSERT_TRUE(rc);
  report(c, rc->replica_id, kB);
  const auto s = status(w);
  EXPECT_EQ(s.state, "done");
  EXPECT_EQ(s.outputs.at(0), kB);
  auto hosts = Json::parse(coord_->list_hosts().body);
  EXPECT_EQ(hosts[0]["invalid_results"], 1);
  EXPECT_EQ(hosts[1]["valid_results"], 1);
}

TEST_F(CoordinatorTest, TimedOutReplicaIsReissuedToAnotherHost) {
  Peer a = register_peer("a"), b = register_peer("b"), c = register_peer("c");
  const uint64_t w = submit(1, /*deadline_ms=*/60000);
  auto ra = request(a), rb = request(b);
  ASSERT_TRUE(ra && rb);
  EXPECT_FALSE(request(c));
  coord_->expire(ra->report_by_ms + 1);  // both replicas are now late
  auto rc = request(c);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->manifest.unit_id, ra->manifest.unit_id);
  // A late report is refused, saying why.
  Reply late = report(a, ra->replica_id, kA);
  EXPECT_EQ(late.status, 409);
  EXPECT_NE(late.body.find("timed_out"), std::string::npos) << late.body;
  EXPECT_EQ(status(w).state, "running");
}

TEST_F(CoordinatorTest, UnitPastItsErrorLimitFailsTheWorkloadSayingWhy) {
  std::vector<Peer> peers;
  for (int i = 0; i < 4; ++i) peers.push_back(register_peer("p" + std::to_string(i)));
  const uint64_t w = submit(1, 60000, /*quorum=*/1);
  // max_error_results is 3: the fourth timeout fails the unit. Each round goes
  // to a new host, since a host never gets a unit twice.
  for (const Peer& p : peers) {
    auto r = request(p);
    ASSERT_TRUE(r);
    coord_->expire(r->report_by_ms + 1);
  }
  const auto s = status(w);
  EXPECT_EQ(s.state, "failed");
  EXPECT_NE(s.reason.find("max_error_results"), std::string::npos) << s.reason;
}

TEST_F(CoordinatorTest, UnfitUnitGoesToAnotherHostAndCountsAgainstNobody) {
  std::vector<Peer> peers;
  for (int i = 0; i < 5; ++i) peers.push_back(register_peer("p" + std::to_string(i)));
  const uint64_t w = submit(1, 60000, /*quorum=*/1);
  // More unfit answers than max_error_results (3): none of them is an error.
  uint64_t unit_id = 0;
  for (int i = 0; i < 4; ++i) {
    auto r = request(peers[i]);
    ASSERT_TRUE(r) << i;
    unit_id = r->manifest.unit_id;
    EXPECT_EQ(
        report_error(peers[i], r->replica_id, "buffer 0 exceeds the device's limit", true).status,
        200);
    EXPECT_EQ(status(w).state, "running");
    EXPECT_FALSE(request(peers[i])) << "a host never gets the same unit twice";
  }
  auto last = request(peers[4]);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->manifest.unit_id, unit_id);
  EXPECT_EQ(report(peers[4], last->replica_id, kA).status, 200);
  EXPECT_EQ(status(w).state, "done");

  const auto check = [&] {
    for (int i = 0; i < 4; ++i) EXPECT_EQ(info(peers[i]).error_results, 0u) << i;
    // The operator sees them, though.
    for (const auto& j : Json::parse(coord_->hosts_report().body)) {
      const auto h = wire::from_json<wire::HostReport>(j);
      ASSERT_TRUE(h.ok()) << h.status().to_string();
      EXPECT_EQ(h->unfit_results, h->host.id == peers[4].id ? 0u : 1u) << h->host.name;
    }
    const auto u = *wire::parse<wire::UnitReport>(coord_->unit_report(unit_id).body);
    ASSERT_EQ(u.replicas.size(), 5u);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(u.replicas[i].state, "unfit");
      EXPECT_NE(u.replicas[i].error.find("exceeds the device's limit"), std::string::npos);
    }
    EXPECT_EQ(u.state, "valid");
  };
  check();
  restart();  // the unfit replicas replay as nothing
  check();
  EXPECT_EQ(status(w).state, "done");
}

TEST_F(CoordinatorTest, HostGetsNoMoreUnitsOfAShapeItReportedUnfit) {
  Peer a = register_peer("a"), b = register_peer("b");
  submit(2, 60000, /*quorum=*/1);  // two units of one shape
  auto first = request(a);
  ASSERT_TRUE(first);
  EXPECT_EQ(report_error(a, first->replica_id, "out of device memory", true).status, 200);
  const auto excluded = [&] {
    EXPECT_EQ(raw_request(a).status, 204) << "the other unit has the same shape";
  };
  excluded();
  restart();  // rebuilt from the unfit replica
  excluded();
  register_as(a, "a", {{"peak", 1, 0.001}});  // the peer restarted and registered again
  excluded();
  // b runs both: the one a could not, and the other.
  auto again = request(b), other = request(b);
  ASSERT_TRUE(again && other);
  EXPECT_EQ(again->manifest.unit_id, first->manifest.unit_id);
  EXPECT_NE(other->manifest.unit_id, first->manifest.unit_id);
  // A different shape of the same kernel still goes to a.
  submit(1, 60000, /*quorum=*/1, /*invocations=*/32);
  auto smaller = request(a);
  ASSERT_TRUE(smaller);
  EXPECT_EQ(smaller->manifest.params.at("invocations"), 32);
}

TEST_F(CoordinatorTest, ErrorReportCountsAgainstTheHostAndAnUnfitOneCannotBeOk) {
  Peer a = register_peer("a");
  submit(1, 60000, /*quorum=*/1);
  auto r = request(a);
  ASSERT_TRUE(r);
  EXPECT_EQ(report_error(a, r->replica_id, "VK_ERROR_DEVICE_LOST", false).status, 200);
  EXPECT_EQ(info(a).error_results, 1u);
  // The wire refuses a successful report that claims to be unfit.
  auto bad = wire::parse<wire::Report>(R"({"replica_id":1,"ok":true,"digest":")" + kA +
                                       R"(","unfit":true})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unfit"), std::string::npos) << bad.status().message();
}

TEST_F(CoordinatorTest, ReportsForReplicasNotSentAreDeniedAndDuplicatesConflict) {
  Peer a = register_peer("a"), b = register_peer("b");
  submit(1);
  auto ra = request(a);
  ASSERT_TRUE(ra);
  EXPECT_EQ(report(b, ra->replica_id, kA).status, 403);
  EXPECT_EQ(report(b, 9999, kA).status, 403);
  EXPECT_EQ(report(a, ra->replica_id, kA).status, 200);
  Reply dup = report(a, ra->replica_id, kA);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(wire::parse<wire::Error>(dup.body)->code, "already exists");
}

TEST_F(CoordinatorTest, ReplayedNonceAndBadSignatureAreRefused) {
  Peer a = register_peer("a");
  const std::string body = "{}";
  const auto h = crypto::sign_request(a.key, a.id, "POST", "/v1/work", now_ms(), bytes_of(body));
  EXPECT_TRUE(coord_
                  ->authenticate("POST", "/v1/work", h.host_id, h.timestamp, h.nonce, h.signature,
                                 bytes_of(body))
                  .ok());
  auto again = coord_->authenticate("POST", "/v1/work", h.host_id, h.timestamp, h.nonce,
                                    h.signature, bytes_of(body));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("replayed"), std::string::npos);
  const auto h2 = crypto::sign_request(a.key, a.id, "POST", "/v1/work", now_ms(), bytes_of(body));
  auto tampered = coord_->authenticate("POST", "/v1/work", h2.host_id, h2.timestamp, h2.nonce,
                                       h2.signature, bytes_of(std::string("{\"wait_ms\":1}")));
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.status().code(), Code::kPermissionDenied);
  const auto stale =
      crypto::sign_request(a.key, a.id, "POST", "/v1/work", now_ms() - 3600000, bytes_of(body));
  auto old = coord_->authenticate("POST", "/v1/work", stale.host_id, stale.timestamp, stale.nonce,
                                  stale.signature, bytes_of(body));
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("stale"), std::string::npos);
}

TEST_F(CoordinatorTest, UnknownKernelIsRefusedAndStoresNothing) {
  wire::WorkloadSpec spec;
  spec.kind = "raw";
  spec.raw = wire::RawSpec{"no-such-kernel", {}, 0, 1, {}};
  Reply r = call([&](Respond done) { coord_->submit(spec, std::move(done)); });
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("no-such-kernel"), std::string::npos) << r.body;
  spec.raw = wire::RawSpec{"peak", {{"iterations", 0}}, 0, 1, {}};
  r = call([&](Respond done) { coord_->submit(spec, std::move(done)); });
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("iterations"), std::string::npos) << r.body;
  EXPECT_EQ(coord_->list_workloads().body, "[]");
  commit_->flush();
  EXPECT_TRUE(store_->load()->workloads.empty());
}

TEST_F(CoordinatorTest, CancelEndsTheWorkloadAndItsReplicas) {
  Peer a = register_peer("a");
  const uint64_t w = submit(3);
  auto ra = request(a);
  ASSERT_TRUE(ra);
  Reply r = call([&](Respond done) { coord_->cancel(w, std::move(done)); });
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(status(w).state, "cancelled");
  EXPECT_EQ(status(w).units.cancelled, 3u);
  EXPECT_EQ(report(a, ra->replica_id, kA).status, 409);
  EXPECT_EQ(call([&](Respond done) { coord_->cancel(w, std::move(done)); }).status, 409);
  EXPECT_EQ(call([&](Respond done) { coord_->cancel(777, std::move(done)); }).status, 404);
}

TEST_F(CoordinatorTest, RestartKeepsAcknowledgedReportsAndReplicasInFlight) {
  Peer a = register_peer("a"), b = register_peer("b");
  const uint64_t w = submit(2);
  auto ra = request(a), rb = request(b);
  ASSERT_TRUE(ra && rb);
  ASSERT_EQ(report(a, ra->replica_id, kA).status, 200);
  restart();
  // b's replica is still in flight and reportable; a's report counts towards the quorum.
  EXPECT_EQ(report(b, rb->replica_id, kA).status, 200);
  EXPECT_EQ(status(w).units.valid, 1u);
  // The second unit is still queued for both hosts, and host ids survived.
  auto ra2 = request(a);
  ASSERT_TRUE(ra2);
  EXPECT_NE(ra2->manifest.unit_id, ra->manifest.unit_id);
  EXPECT_EQ(report(a, ra->replica_id, kA).status, 409);  // duplicate still detected
  Peer again = a;
  again.id = 0;
  wire::RegisterHost req{a.key.public_key().hex(), "a", {"gpu", 1 << 30, {}, {{"peak", 1, 0.001}}}};
  auto auth = sign(again, "POST", "/v1/hosts", wire::serialize(req));
  Reply r = call([&](Respond done) { coord_->register_host(req, *auth, std::move(done)); });
  EXPECT_EQ(wire::parse<wire::Registered>(r.body)->host_id, a.id);
}

TEST_F(CoordinatorTest, GeneratedInputsAreNamedInTheManifestAndOnlyItsHostsMayFetchThem) {
  Peer a = register_peer("a"), b = register_peer("b");
  wire::RegisterHost req{
      a.key.public_key().hex(),
      "a",
      {"gpu", 1 << 30, {}, testing::kernel_speeds(registry_, {"raytrace"}, 0.1)}};
  a.id = 0;
  auto auth = sign(a, "POST", "/v1/hosts", wire::serialize(req));
  a.id = wire::parse<wire::Registered>(
             call([&](Respond done) { coord_->register_host(req, *auth, std::move(done)); }).body)
             ->host_id;
  wire::WorkloadSpec spec;
  spec.kind = "raw";
  spec.replication.min_quorum = 1;
  spec.raw = wire::RawSpec{"raytrace",
                           {{"width", 16}, {"height", 16}, {"tile_width", 16}, {"tile_height", 16}},
                           3,
                           1,
                           {}};
  ASSERT_EQ(call([&](Respond done) { coord_->submit(spec, std::move(done)); }).status, 200);
  auto work = request(a);
  ASSERT_TRUE(work);
  ASSERT_EQ(work->manifest.inputs.size(), 1u);
  const std::string digest = work->manifest.inputs[0];
  Reply blob =
      call([&](Respond done) { coord_->fetch_blob(a.id, digest, nullptr, std::move(done)); });
  ASSERT_EQ(blob.status, 200) << blob.body;
  EXPECT_EQ(digest_of(bytes_of(blob.body)).hex(), digest);
  EXPECT_EQ(call([&](Respond done) {
              coord_->fetch_blob(b.id, digest, nullptr, std::move(done));
            }).status,
            403);
  // The input list survives a restart.
  restart();
  EXPECT_EQ(call([&](Respond done) {
              coord_->fetch_blob(a.id, digest, nullptr, std::move(done));
            }).status,
            200);
}

TEST_F(CoordinatorTest, MetricsCountUnitsByState) {
  Peer a = register_peer("a");
  submit(2, 60000, /*quorum=*/1);
  request(a);
  const std::string m = coord_->metrics_text();
  EXPECT_NE(m.find("p2c2r_units{state=\"running\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("p2c2r_units{state=\"ready\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("p2c2r_dispatch_latency_seconds_count 1"), std::string::npos) << m;
}

}  // namespace
}  // namespace p2c2r::server
