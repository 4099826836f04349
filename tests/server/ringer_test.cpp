// Ringers wired into the coordinator: a host on probation gets only replicas
// of units whose answer is known, under fresh ids, and earns its way back (or
// fails) on them; they survive a restart and never touch canonical results
// or credit.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/server/coordinator_fixture.h"

namespace p2c2r::server {
namespace {

class RingerTest : public CoordinatorTest {
 protected:
  RingerTest() {
    reliability_.quarantine_min_results = 3;            // three lies quarantine a host
    reliability_.ringer_fraction = 0;                   // only probation makes ringers here
    reliability_.trust_after_consecutive_valid = 1000;  // every unit replicated to a and b
    restart();
  }

  wire::HostReport host_report(const Peer& p) {
    for (const auto& j : wire::Json::parse(coord_->hosts_report().body))
      if (j["host"]["id"] == p.id) return *wire::from_json<wire::HostReport>(j);
    ADD_FAILURE() << "host " << p.id << " not in the hosts report";
    return {};
  }
  wire::UnitReport unit(uint64_t id) {
    return *wire::parse<wire::UnitReport>(coord_->unit_report(id).body);
  }
  uint64_t submit_seeded(uint32_t units, uint64_t seed, int64_t invocations = 64) {
    wire::WorkloadSpec spec;
    spec.kind = "raw";
    spec.name = "test";
    spec.deadline_ms = 60000;
    spec.replication.min_quorum = 2;
    spec.raw =
        wire::RawSpec{"peak", {{"invocations", invocations}, {"iterations", 4}}, seed, units, {}};
    Reply r = call([&](Respond done) { coord_->submit(spec, std::move(done)); });
    EXPECT_EQ(r.status, 200) << r.body;
    return wire::parse<wire::WorkloadStatus>(r.body)->id;
  }

  // `liar` lies on three units that `a` and `b` get right: it is quarantined,
  // on probation (the first of max_probations).
  void put_on_probation(const Peer& liar, const Peer& a, const Peer& b) {
    submit_seeded(3, 100);
    for (int i = 0; i < 3; ++i) {
      auto w1 = request(liar), w2 = request(a);
      ASSERT_TRUE(w1 && w2);
      ASSERT_EQ(w1->manifest.unit_id, w2->manifest.unit_id);
      EXPECT_EQ(report(liar, w1->replica_id, kB).status, 200);
      EXPECT_EQ(report(a, w2->replica_id, kA).status, 200);
      auto w3 = request(b);  // breaks the tie
      ASSERT_TRUE(w3);
      EXPECT_EQ(report(b, w3->replica_id, kA).status, 200);
    }
    ASSERT_EQ(info(liar).standing, "probation") << info(liar).quarantine_reason;
  }

  // `n` units validated by `a` and `b` (all agreeing on kA); returns the
  // validated units by seed.
  std::map<uint64_t, uint64_t> validate(const Peer& a, const Peer& b, uint32_t n, uint64_t seed,
                                        int64_t invocations = 64) {
    const uint64_t wl = submit_seeded(n, seed, invocations);
    std::map<uint64_t, uint64_t> by_seed;
    for (uint32_t i = 0; i < n; ++i) {
      auto wa = request(a), wb = request(b);
      EXPECT_TRUE(wa && wb);
      if (!wa || !wb) return by_seed;
      EXPECT_EQ(report(a, wa->replica_id, kA).status, 200);
      EXPECT_EQ(report(b, wb->replica_id, kA).status, 200);
      by_seed[wa->manifest.seed] = wa->manifest.unit_id;
    }
    EXPECT_EQ(status(wl).state, "done");
    return by_seed;
  }

  // The assignment is a ringer: a replica of a validated unit in `sources`
  // (same kernel, seed and parameters), under unit and workload ids that
  // belong to no unit or workload, signed like any manifest. Returns the
  // source unit.
  uint64_t expect_ringer(const wire::Assignment& w, const std::map<uint64_t, uint64_t>& sources) {
    auto src = sources.find(w.manifest.seed);
    EXPECT_NE(src, sources.end()) << "seed " << w.manifest.seed << " is no validated unit's";
    if (src == sources.end()) return 0;
    const auto u = unit(src->second);
    EXPECT_EQ(u.state, "valid");
    EXPECT_EQ(u.canonical, kA);
    EXPECT_EQ(w.manifest.kernel, u.kernel);
    EXPECT_EQ(w.manifest.params, u.params);
    EXPECT_NE(w.manifest.unit_id, src->second);
    EXPECT_EQ(coord_->unit_report(w.manifest.unit_id).status, 404);
    EXPECT_EQ(coord_->workload_status(w.manifest.workload_id).status, 404);
    EXPECT_GT(w.manifest.deadline_ms, now_ms());
    auto sig = crypto::Signature::from_hex(w.manifest_signature);
    EXPECT_TRUE(sig.ok() && crypto::verify(server_key_.public_key(),
                                           wire::manifest_signing_bytes(w.manifest), *sig));
    return src->second;
  }
};

TEST_F(RingerTest, ProbationHostGetsOnlyRingersAndIsReleasedAfterEnoughRightOnes) {
  Peer liar = register_peer("liar"), a = register_peer("a"), b = register_peer("b");
  put_on_probation(liar, a, b);
  const auto sources = validate(a, b, 12, 200);
  const uint64_t real = submit_seeded(4, 300);  // real work is ready all along
  const uint32_t needed = reliability_.probation_valid_results;
  std::set<uint64_t> seen_units, seen_sources;
  std::optional<wire::Assignment> next = request(liar);
  for (uint32_t i = 0; i < needed; ++i) {
    ASSERT_TRUE(next) << "ringer " << i;
    EXPECT_TRUE(seen_units.insert(next->manifest.unit_id).second);
    EXPECT_TRUE(seen_sources.insert(expect_ringer(*next, sources)).second)
        << "the same unit twice as a ringer";
    EXPECT_EQ(info(liar).standing, "probation") << "released after " << i;
    EXPECT_NE(
        info(liar).quarantine_reason.find(std::to_string(i) + " of " + std::to_string(needed)),
        std::string::npos)
        << info(liar).quarantine_reason;
    // Every other ringer comes in the report's reply, as real work would.
    Reply r = report(liar, next->replica_id, kA, /*want_work=*/i % 2 == 0);
    ASSERT_EQ(r.status, 200) << r.body;
    auto reply = wire::parse<wire::ReportReply>(r.body);
    ASSERT_TRUE(reply.ok()) << r.body;
    if (i + 1 < needed) next = reply->work ? reply->work : request(liar);
  }
  EXPECT_EQ(info(liar).standing, "untrusted");
  EXPECT_EQ(info(liar).quarantine_reason, "");
  EXPECT_EQ(host_report(liar).ringers_passed, needed);
  EXPECT_EQ(host_report(liar).ringers_failed, 0u);
  auto work = request(liar);  // real work again
  ASSERT_TRUE(work);
  EXPECT_EQ(work->manifest.workload_id, real);
  EXPECT_EQ(unit(work->manifest.unit_id).workload_id, real);
}

TEST_F(RingerTest, WrongRingersFailProbationUntilOnlyAnOperatorReleasesTheHost) {
  Peer liar = register_peer("liar"), a = register_peer("a"), b = register_peer("b");
  put_on_probation(liar, a, b);
  const auto sources = validate(a, b, 5, 200);
  submit_seeded(2, 300);
  const uint32_t max = reliability_.max_probations;
  // The first quarantine was probation 1; each wrong ringer fails one more.
  for (uint32_t failed = 1; failed <= max; ++failed) {
    auto w = request(liar);
    ASSERT_TRUE(w) << "failed " << failed;
    expect_ringer(*w, sources);
    EXPECT_EQ(report(liar, w->replica_id, kB).status, 200);
    EXPECT_EQ(info(liar).standing, failed < max ? "probation" : "quarantined") << failed;
  }
  EXPECT_EQ(info(liar).invalid_results, 3u + max);
  EXPECT_EQ(host_report(liar).ringers_failed, max);
  EXPECT_EQ(host_report(liar).ringers_passed, 0u);
  Reply refused = raw_request(liar);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("until an operator clears it"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("probations allowed"), std::string::npos) << refused.body;

  Reply cleared = call([&](Respond done) { coord_->clear_host(liar.id, std::move(done)); });
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  auto work = request(liar);
  ASSERT_TRUE(work);
  EXPECT_EQ(unit(work->manifest.unit_id).kernel, "peak");  // a real unit: it exists
}

TEST_F(RingerTest, UnfitRingerNeitherPassesNorFailsAndAnotherRingerFollows) {
  Peer liar = register_peer("liar"), a = register_peer("a"), b = register_peer("b");
  put_on_probation(liar, a, b);
  const auto sources = validate(a, b, 12, 200);
  auto w = request(liar);
  ASSERT_TRUE(w);
  expect_ringer(*w, sources);
  EXPECT_EQ(report_error(liar, w->replica_id, "out of device memory", true).status, 200);
  const auto check = [&] {
    EXPECT_EQ(info(liar).standing, "probation");
    EXPECT_NE(info(liar).quarantine_reason.find("0 of 10"), std::string::npos)
        << info(liar).quarantine_reason;
    EXPECT_EQ(info(liar).error_results, 0u);
    EXPECT_EQ(host_report(liar).ringers_passed, 0u);
    EXPECT_EQ(host_report(liar).ringers_failed, 0u);
  };
  check();
  restart();
  check();
  // Ringers of that shape are over: none goes to the host again. Units of
  // another shape make the next one.
  EXPECT_NE(raw_request(liar).status, 200);
  const auto smaller = validate(a, b, 2, 300, /*invocations=*/32);
  auto next = request(liar);
  ASSERT_TRUE(next);
  expect_ringer(*next, smaller);
  EXPECT_EQ(next->manifest.params.at("invocations"), 32);
  EXPECT_EQ(report(liar, next->replica_id, kA).status, 200);
  EXPECT_NE(info(liar).quarantine_reason.find("1 of 10"), std::string::npos)
      << info(liar).quarantine_reason;
}

TEST_F(RingerTest, ProbationProgressAndARingerInFlightSurviveARestart) {
  Peer liar = register_peer("liar"), a = register_peer("a"), b = register_peer("b");
  put_on_probation(liar, a, b);
  const auto sources = validate(a, b, 12, 200);
  std::set<uint64_t> seen_units;
  for (int i = 0; i < 4; ++i) {
    auto w = request(liar);
    ASSERT_TRUE(w);
    seen_units.insert(w->manifest.unit_id);
    expect_ringer(*w, sources);
    EXPECT_EQ(report(liar, w->replica_id, kA).status, 200);
  }
  auto held = request(liar);  // the fifth, reported after the restart
  ASSERT_TRUE(held);
  seen_units.insert(held->manifest.unit_id);
  restart();
  EXPECT_EQ(info(liar).standing, "probation");
  EXPECT_NE(info(liar).quarantine_reason.find("4 of 10"), std::string::npos)
      << info(liar).quarantine_reason;
  EXPECT_EQ(report(liar, held->replica_id, kA).status, 200);
  std::set<uint64_t> seen_sources;
  for (int i = 5; i < 10; ++i) {
    EXPECT_EQ(info(liar).standing, "probation") << i;
    auto w = request(liar);
    ASSERT_TRUE(w);
    // Ids after the restart are fresh too.
    EXPECT_TRUE(seen_units.insert(w->manifest.unit_id).second) << w->manifest.unit_id;
    expect_ringer(*w, sources);
    EXPECT_EQ(report(liar, w->replica_id, kA).status, 200);
  }
  EXPECT_EQ(info(liar).standing, "untrusted");
  restart();
  EXPECT_EQ(info(liar).standing, "untrusted");
  // New real units never reuse a ringer's ids.
  const uint64_t wl = submit_seeded(1, 400);
  auto work = request(liar);
  ASSERT_TRUE(work);
  EXPECT_EQ(work->manifest.workload_id, wl);
  EXPECT_FALSE(seen_units.count(work->manifest.unit_id));
}

TEST_F(RingerTest, NoValidatedUnitToMakeARingerOfMeans403NeverRealWork) {
  Peer liar = register_peer("liar"), a = register_peer("a"), b = register_peer("b");
  put_on_probation(liar, a, b);  // the only validated units are ones it ran itself
  submit_seeded(2, 300);         // real work is ready
  Reply refused = raw_request(liar);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("on probation"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("none is available"), std::string::npos) << refused.body;
  auto w = request(a);
  ASSERT_TRUE(w);
  auto held = request(b);
  ASSERT_TRUE(held);
  EXPECT_EQ(report(a, w->replica_id, kA).status, 200);
  EXPECT_EQ(report(b, held->replica_id, kA).status, 200);
  // A unit the liar never ran is validated now: the first ringer source.
  auto ringer = request(liar);
  ASSERT_TRUE(ringer);
  EXPECT_EQ(ringer->manifest.seed, w->manifest.seed);
  EXPECT_EQ(coord_->unit_report(ringer->manifest.unit_id).status, 404);
}

TEST_F(RingerTest, RingerResultsNeverChangeCanonicalResultsCreditOrReplicas) {
  Peer liar = register_peer("liar"), a = register_peer("a"), b = register_peer("b");
  put_on_probation(liar, a, b);
  const auto sources = validate(a, b, 6, 200);
  std::map<uint64_t, wire::UnitReport> before;
  for (const auto& [seed, id] : sources) before[id] = unit(id);
  const double credit_a = info(a).credit, credit_b = info(b).credit;
  for (int i = 0; i < 6; ++i) {
    auto w = request(liar);
    ASSERT_TRUE(w);
    expect_ringer(*w, sources);
    // Right and wrong answers alike (two wrong ones: still on probation).
    const std::string& digest = i == 0 || i == 2 ? kB : kA;
    EXPECT_EQ(report(liar, w->replica_id, digest).status, 200);
  }
  for (const auto& [id, u] : before) {
    const auto now = unit(id);
    EXPECT_EQ(now.state, "valid");
    EXPECT_EQ(now.canonical, u.canonical);
    EXPECT_EQ(now.replicas.size(), u.replicas.size()) << "a ringer joined unit " << id;
  }
  EXPECT_EQ(info(liar).credit, 0);
  EXPECT_EQ(info(liar).credit_pending, 0);
  EXPECT_EQ(info(a).credit, credit_a);
  EXPECT_EQ(info(b).credit, credit_b);
  restart();  // replaying the ringers' rows changes nothing either
  for (const auto& [id, u] : before) EXPECT_EQ(unit(id).canonical, u.canonical);
  EXPECT_EQ(info(liar).credit, 0);
  EXPECT_EQ(info(a).credit, credit_a);
}

// ringer_fraction of the dispatches to hosts in good standing are ringers
// too (here all of them), while a source exists; then real work.
TEST_F(RingerTest, HostsInGoodStandingGetARingerFractionAndEarnNothingForIt) {
  reliability_.ringer_fraction = 1.0;
  restart();
  Peer a = register_peer("a"), b = register_peer("b");
  // a and b ran every unit, so none is a ringer for them: they get real work.
  const auto sources = validate(a, b, 3, 200);
  Peer c = register_peer("c");
  const uint64_t real = submit_seeded(1, 300);
  std::set<uint64_t> seen_sources;
  for (int i = 0; i < 3; ++i) {
    auto w = request(c);
    ASSERT_TRUE(w);
    EXPECT_TRUE(seen_sources.insert(expect_ringer(*w, sources)).second);
    EXPECT_EQ(report(c, w->replica_id, kA).status, 200);
  }
  EXPECT_EQ(info(c).valid_results, 3u);
  EXPECT_EQ(info(c).standing, "untrusted");
  EXPECT_EQ(info(c).credit, 0);
  EXPECT_EQ(info(c).credit_pending, 0);
  EXPECT_EQ(host_report(c).ringers_passed, 3u);
  auto work = request(c);  // every source used up: real work
  ASSERT_TRUE(work);
  EXPECT_EQ(work->manifest.workload_id, real);
}

}  // namespace
}  // namespace p2c2r::server
