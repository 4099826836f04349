// Probation by ringers against a real `p2c2r server` process (default
// reliability settings), killed with SIGKILL mid-probation and restarted.
#include <gtest/gtest.h>

#include <set>

#include "common/wire.h"
#include "tests/server/temp_dir.h"
#include "tests/server_integration/api_helpers.h"
#include "tests/server_integration/server_process.h"

namespace p2c2r {
namespace {

using testing::Peer;
using testing::ServerProcess;
using testing::TempDir;

uint64_t submit_seeded(http::Client& admin, uint32_t units, uint64_t seed) {
  wire::WorkloadSpec spec;
  spec.kind = "raw";
  spec.deadline_ms = 600000;
  spec.raw = wire::RawSpec{"peak", {{"invocations", 64}, {"iterations", 4}}, seed, units, {}};
  auto body =
      http::ok_body(admin.request("POST", "/v1/workloads", bytes_of(wire::serialize(spec))));
  EXPECT_TRUE(body.ok()) << body.status().to_string();
  return body.ok() ? wire::parse<wire::WorkloadStatus>(*body)->id : 0;
}

wire::HostInfo info(http::Client& admin, const Peer& p) {
  auto body = http::ok_body(admin.request("GET", "/v1/hosts/" + std::to_string(p.id)));
  EXPECT_TRUE(body.ok()) << body.status().to_string();
  return body.ok() ? *wire::parse<wire::HostInfo>(*body) : wire::HostInfo{};
}

// `first` and `second` each run one replica of the same unit; `first`
// reports `first_output`, `second` "right".
void run_pair(Peer& first, const std::string& first_output, Peer& second) {
  auto w1 = first.work(), w2 = second.work();
  ASSERT_TRUE(w1 && w2);
  ASSERT_EQ(w1->manifest.unit_id, w2->manifest.unit_id);
  EXPECT_EQ(first.report(w1->replica_id, first_output).status, 200);
  EXPECT_EQ(second.report(w2->replica_id, "right").status, 200);
}

TEST(RingerIntegrationTest, ProbationProgressSurvivesSigkillAndRingersRunOut) {
  TempDir dir;
  const std::string data = dir.file("data");
  const std::vector<std::string> flags = {"--no-trusted-device"};
  // Default reliability: five lies (error rate 0.47 > 0.3 after 5 results) quarantine.
  constexpr int kLies = 5, kSources = 4;
  std::set<uint64_t> ringer_seeds;
  uint64_t held_replica = 0;
  crypto::KeyPair liar_key = crypto::KeyPair::generate();
  uint64_t liar_id = 0;
  {
    ServerProcess server(data, flags);
    auto admin = server.admin_client();
    Peer liar(server, "liar"), a(server, "a"), b(server, "b");
    liar_key = liar.key;
    liar_id = liar.id;
    submit_seeded(admin, kLies, 100);
    for (int i = 0; i < kLies; ++i) {
      run_pair(liar, "wrong", a);
      auto w3 = b.work();  // breaks the tie
      ASSERT_TRUE(w3);
      EXPECT_EQ(b.report(w3->replica_id, "right").status, 200);
    }
    ASSERT_EQ(info(admin, liar).standing, "probation") << info(admin, liar).quarantine_reason;
    submit_seeded(admin, kSources, 200);  // units the liar never sees: ringer sources
    for (int i = 0; i < kSources; ++i) run_pair(a, "right", b);
    for (int i = 0; i < 2; ++i) {
      auto w = liar.work();
      ASSERT_TRUE(w);
      EXPECT_GE(w->manifest.seed, 200u);
      EXPECT_TRUE(ringer_seeds.insert(w->manifest.seed).second);
      EXPECT_EQ(liar.report(w->replica_id, "right").status, 200);
    }
    auto held = liar.work();  // reported after the restart
    ASSERT_TRUE(held);
    EXPECT_TRUE(ringer_seeds.insert(held->manifest.seed).second);
    held_replica = held->replica_id;
    server.kill(SIGKILL);
  }
  ServerProcess server(data, flags);
  auto admin = server.admin_client();
  // A connection to the restarted server (its port is new; registering it
  // adds a throwaway host), used with the liar's key and id.
  Peer liar(server, "connection");
  liar.key = liar_key;
  liar.id = liar_id;
  auto h = info(admin, liar);
  EXPECT_EQ(h.standing, "probation");
  EXPECT_NE(h.quarantine_reason.find("2 of 10"), std::string::npos) << h.quarantine_reason;
  EXPECT_EQ(liar.report(held_replica, "right").status, 200);
  EXPECT_NE(info(admin, liar).quarantine_reason.find("3 of 10"), std::string::npos)
      << info(admin, liar).quarantine_reason;
  // One source left that the liar has not had, then none: 403, never real work.
  auto last = liar.work();
  ASSERT_TRUE(last);
  EXPECT_TRUE(ringer_seeds.insert(last->manifest.seed).second) << last->manifest.seed;
  EXPECT_EQ(liar.report(last->replica_id, "right").status, 200);
  submit_seeded(admin, 2, 300);  // real work is ready
  testing::expect_error(liar.call("POST", "/v1/work", "{}"), 403, "none is available");
  EXPECT_EQ(info(admin, liar).standing, "probation");
}

}  // namespace
}  // namespace p2c2r
