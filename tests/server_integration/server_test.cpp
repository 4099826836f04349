// Against a real `p2c2r server` process over HTTPS on 127.0.0.1.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "common/wire.h"
#include "tests/server/temp_dir.h"
#include "tests/server_integration/api_helpers.h"
#include "tests/server_integration/server_process.h"
#include "tests/support/subprocess.h"

namespace p2c2r {
namespace {

using testing::expect_error;
using testing::Peer;
using testing::ServerProcess;
using testing::status;
using testing::submit;
using testing::TempDir;
using wire::Json;
using namespace std::chrono_literals;

class ServerIntegrationTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string data() const { return dir_.file("data"); }
};

TEST_F(ServerIntegrationTest, FirstStartCreatesSecretsWithMode0600) {
  ServerProcess server(data());
  for (const char* f : {"server.key", "admin.token", "tls.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat((data() + "/" + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  EXPECT_NE(server.output().find("created the admin token"), std::string::npos) << server.output();
  auto health = server.client().request("GET", "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

TEST_F(ServerIntegrationTest, TwoPeersValidateAUnitAndUploadItsOutput) {
  ServerProcess server(data());
  auto admin = server.admin_client();
  Peer a(server, "a"), b(server, "b");
  const auto w = submit(admin, 1);
  auto ra = a.work(), rb = b.work();
  ASSERT_TRUE(ra && rb);
  const std::string output = "the output bytes";
  auto rep = a.report(ra->replica_id, output);
  ASSERT_EQ(rep.status, 200) << rep.body;
  EXPECT_TRUE(wire::parse<wire::ReportReply>(rep.body)->want_output);
  ASSERT_EQ(b.report(rb->replica_id, output).status, 200);
  auto up = a.call("PUT", "/v1/replicas/" + std::to_string(ra->replica_id) + "/output", output,
                   "application/octet-stream");
  EXPECT_EQ(up.status, 200) << up.body;
  const auto s = status(admin, w.id);
  EXPECT_EQ(s.state, "done");
  ASSERT_EQ(s.outputs.size(), 1u);
  auto blob = admin.request("GET", "/v1/blobs/" + s.outputs[0]);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(blob->body, output);
  auto hosts = Json::parse(*http::ok_body(admin.request("GET", "/v1/hosts")));
  EXPECT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0]["valid_results"], 1);
}

TEST_F(ServerIntegrationTest, BadInputGetsAJsonErrorAndChangesNothing) {
  ServerProcess server(data());
  auto admin = server.admin_client();
  Peer a(server, "a"), b(server, "b");
  const auto w = submit(admin, 1);
  auto ra = a.work();
  ASSERT_TRUE(ra);
  auto post = [&](const std::string& path, const std::string& body) {
    auto r = admin.request("POST", path, bytes_of(body));
    EXPECT_TRUE(r.ok()) << path << ": " << r.status().to_string();
    return r.ok() ? *r : http::Response{};
  };
  expect_error(post("/v1/workloads", "{\"kind\": \"raw\", "), 400, "malformed JSON");
  expect_error(post("/v1/workloads", R"({"kind":"raw","raw":{"kernel":"peak"},"colour":"red"})"),
               400, "colour");
  expect_error(post("/v1/workloads", R"({"kind":"raw","raw":{"kernel":"peak","units":"three"}})"),
               400, "raw.units");
  expect_error(post("/v1/workloads", R"({"kind":"quantum"})"), 400, "quantum");
  expect_error(post("/v1/workloads", std::string(2 << 20, ' ')), 413, "exceeds");
  expect_error(*server.client().request("POST", "/v1/workloads", bytes_of("{}")), 403,
               "admin token");
  expect_error(*server.client().request("POST", "/v1/work", bytes_of("{}")), 403,
               "missing signature");
  // Signed by a key that is not host a's.
  auto forged = a.client.signed_request(crypto::KeyPair::generate(), a.id, "POST", "/v1/work",
                                        bytes_of("{}"));
  expect_error(*forged, 403, "bad signature");
  // The same signed request twice.
  const std::string body = "{}";
  const auto h = crypto::sign_request(a.key, a.id, "POST", "/v1/work",
                                      std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count(),
                                      bytes_of(body));
  const http::Headers headers = {{crypto::kHostHeader, h.host_id},
                                 {crypto::kTimestampHeader, h.timestamp},
                                 {crypto::kNonceHeader, h.nonce},
                                 {crypto::kSignatureHeader, h.signature}};
  auto first = a.client.request("POST", "/v1/work", bytes_of(body), "application/json", headers);
  EXPECT_EQ(first->status, 204) << first->body;
  expect_error(*a.client.request("POST", "/v1/work", bytes_of(body), "application/json", headers),
               403, "replayed nonce");
  expect_error(a.call("POST", "/v1/work", R"({"wait_ms":-5})"), 400, "wait_ms");
  expect_error(b.report(ra->replica_id, "x"), 403, "was not sent to host");
  expect_error(a.call("POST", "/v1/reports", R"({"replica_id":1,"ok":true,"digest":"zz"})"), 400,
               "digest");
  ASSERT_EQ(a.report(ra->replica_id, "good").status, 200);
  expect_error(a.report(ra->replica_id, "good"), 409, "already reported");
  expect_error(a.call("PUT", "/v1/replicas/" + std::to_string(ra->replica_id) + "/output",
                      "not good", "application/octet-stream"),
               400, "does not match");
  expect_error(*admin.request("GET", "/v1/blobs/" + digest_of(bytes_of("good")).hex()), 404,
               "not stored");
  expect_error(*admin.request("GET", "/v1/nowhere"), 404, "no such route");
  expect_error(*admin.request("DELETE", "/v1/workloads"), 405, "not allowed");
  // Nothing of the above changed the workload or added one.
  auto list = Json::parse(*http::ok_body(admin.request("GET", "/v1/workloads")));
  EXPECT_EQ(list.size(), 1u);
  const auto s = status(admin, w.id);
  EXPECT_EQ(s.state, "running");
  EXPECT_EQ(s.units.running + s.units.ready, 1u);
}

TEST_F(ServerIntegrationTest, LateReplicaTimesOutAndIsReissuedToAWaitingPeer) {
  ServerProcess server(data());
  auto admin = server.admin_client();
  Peer a(server, "a"), b(server, "b"), c(server, "c");
  submit(admin, 1, /*deadline_ms=*/300);
  auto ra = a.work(), rb = b.work();
  ASSERT_TRUE(ra && rb);
  // c long-polls; the reissue after the 300 ms delay bound wakes it.
  auto rc = c.work(/*wait_ms=*/20000);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->manifest.unit_id, ra->manifest.unit_id);
  expect_error(a.report(ra->replica_id, "late"), 409, "timed_out");
}

TEST_F(ServerIntegrationTest, SigtermEndsLongPollsAndExitsCleanly) {
  ServerProcess server(data());
  Peer a(server, "a");
  std::optional<wire::Assignment> got = wire::Assignment{};
  std::thread poller([&] { got = a.work(/*wait_ms=*/30000); });
  // Wait (bounded) until the server holds the poll.
  auto metrics = server.client();
  for (int i = 0; i < 2000; ++i) {
    auto m = metrics.request("GET", "/metrics");
    if (m.ok() && m->body.find("p2c2r_long_polls 1") != std::string::npos) break;
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(server.kill(SIGTERM), 0) << server.output();
  poller.join();
  EXPECT_FALSE(got);  // a 204, not an error
  EXPECT_NE(server.output().find("stopped"), std::string::npos);
}

TEST_F(ServerIntegrationTest, SigkillDuringReportsLosesNoAcknowledgedReportAndNoUnit) {
  constexpr uint32_t kUnits = 1000;
  std::set<uint64_t> acked_replicas;
  uint64_t workload = 0;
  {
    auto server = std::make_unique<ServerProcess>(data());
    auto admin = server->admin_client();
    workload = submit(admin, kUnits, 600000, /*quorum=*/1).id;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::thread> peers;
    for (int p = 0; p < 3; ++p)
      peers.emplace_back([&, p] {
        Peer peer(*server, "p" + std::to_string(p));
        for (;;) {
          auto r =
              peer.client.signed_request(peer.key, peer.id, "POST", "/v1/work", bytes_of("{}"));
          if (!r.ok() || r->status != 200) return;
          auto a = wire::parse<wire::Assignment>(r->body);
          const std::string out = "out" + std::to_string(a->manifest.unit_id);
          auto rep = peer.client.signed_request(
              peer.key, peer.id, "POST", "/v1/reports",
              bytes_of(wire::serialize(
                  wire::Report{a->replica_id, true, digest_of(bytes_of(out)).hex(), "", 0})));
          if (!rep.ok() || rep->status != 200) return;
          std::lock_guard lock(mu);
          acked_replicas.insert(a->replica_id);
          cv.notify_all();
        }
      });
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, 60s, [&] { return acked_replicas.size() >= 60; });
    }
    server->kill(SIGKILL);
    for (auto& t : peers) t.join();
  }
  ASSERT_GE(acked_replicas.size(), 60u);
  ASSERT_LT(acked_replicas.size(), kUnits)
      << "the kill came too late to be in the middle of the stream";

  ServerProcess server(data());
  auto admin = server.admin_client();
  auto s = status(admin, workload);
  EXPECT_EQ(s.units.waiting + s.units.ready + s.units.running + s.units.valid, kUnits);
  EXPECT_GE(s.units.valid, acked_replicas.size());
  // Every acknowledged report is stored: reporting it again is a duplicate.
  auto hosts = Json::parse(*http::ok_body(admin.request("GET", "/v1/hosts")));
  uint64_t valid_results = 0;
  for (const auto& h : hosts) valid_results += h["valid_results"].get<uint64_t>();
  EXPECT_GE(valid_results, acked_replicas.size());
  // The rest of the work still gets done after the restart.
  Peer fresh(server, "fresh");
  for (uint32_t i = 0; i < kUnits; ++i) {
    auto a = fresh.work();
    if (!a) break;
    ASSERT_EQ(fresh.report(a->replica_id, "x").status, 200);
  }
  // Replicas in flight at the kill time out later; all others are done.
  s = status(admin, workload);
  EXPECT_EQ(s.units.valid + s.units.running, kUnits);
}

TEST_F(ServerIntegrationTest, ReportThatAsksForWorkBringsTheNextUnitDurably) {
  uint64_t workload = 0, host = 0, second = 0;
  std::optional<crypto::KeyPair> key;
  {
    ServerProcess server(data());
    auto admin = server.admin_client();
    workload = submit(admin, 3, 600000, /*quorum=*/1).id;
    Peer p(server, "p");
    key = p.key;
    host = p.id;
    auto first = p.work();
    ASSERT_TRUE(first);
    // Without asking, a report brings no work.
    auto plain = p.report(first->replica_id, "out");
    ASSERT_EQ(plain.status, 200) << plain.body;
    EXPECT_FALSE(wire::parse<wire::ReportReply>(plain.body)->work);
    auto again = p.work();
    ASSERT_TRUE(again);
    auto rep = p.report(again->replica_id, "out", /*want_work=*/true);
    ASSERT_EQ(rep.status, 200) << rep.body;
    auto reply = wire::parse<wire::ReportReply>(rep.body);
    ASSERT_TRUE(reply.ok()) << rep.body;
    ASSERT_TRUE(reply->work) << rep.body;
    EXPECT_NE(reply->work->replica_id, again->replica_id);
    EXPECT_FALSE(reply->work->manifest_signature.empty());
    second = reply->work->replica_id;
    // Killed right after the reply: the assignment it carried must be durable.
    server.kill(SIGKILL);
  }
  ServerProcess server(data());
  auto admin = server.admin_client();
  auto s = status(admin, workload);
  EXPECT_EQ(s.units.valid, 2u);
  EXPECT_EQ(s.units.running, 1u);
  // The same host reports the unit it was handed; nothing is left to hand out.
  Peer p(server, "p");
  p.key = *key;
  p.id = host;
  auto last = p.report(second, "out", /*want_work=*/true);
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_FALSE(wire::parse<wire::ReportReply>(last.body)->work) << last.body;
  s = status(admin, workload);
  EXPECT_EQ(s.units.valid, 3u);
  EXPECT_EQ(s.state, "running");  // until the output ("out", all three units') is stored
  ASSERT_EQ(p.upload(second, "out").status, 200);
  EXPECT_EQ(status(admin, workload).state, "done");
}

TEST_F(ServerIntegrationTest, CliSubmitStatusCancelAndHosts) {
  ServerProcess server(data());
  Peer a(server, "cli-peer");
  const std::string env = "P2C2R_SERVER=" + server.url() + " P2C2R_TOKEN=" + server.token() +
                          " P2C2R_CA=" + server.cert() + " HOME=" + dir_.path() + " ";
  const std::string bin = env + testing::p2c2r_command();
  auto sub = testing::run_command(
      bin + " submit --kernel peak --units 2 --param iterations=4 --min-quorum 1 2>&1");
  EXPECT_EQ(sub.exit_code, 0) << sub.out;
  EXPECT_NE(sub.out.find("submitted workload 1 (2 units)"), std::string::npos) << sub.out;
  auto st = testing::run_command(bin + " status 1 2>&1");
  EXPECT_NE(st.out.find("workload 1: running"), std::string::npos) << st.out;
  auto bad = testing::run_command(bin + " submit --kernel nope 2>&1");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("unknown kernel 'nope'"), std::string::npos) << bad.out;
  auto cancel = testing::run_command(bin + " cancel 1 2>&1");
  EXPECT_EQ(cancel.exit_code, 0) << cancel.out;
  EXPECT_NE(cancel.out.find("workload 1 cancelled"), std::string::npos) << cancel.out;
  // --wait ends once a peer has done both units of workload 2 and uploaded
  // their outputs (a workload is done only when they are stored).
  std::thread worker([&] {
    for (int done = 0, polls = 0; done < 2 && polls < 20; ++polls) {
      auto w = a.work(20000);
      if (!w || a.report(w->replica_id, "r").status != 200) continue;
      if (a.upload(w->replica_id, "r").status == 200) ++done;
    }
  });
  auto waited = testing::run_command(
      bin + " submit --kernel peak --units 2 --param iterations=4 --min-quorum 1 --wait 2>&1");
  worker.join();
  EXPECT_EQ(waited.exit_code, 0) << waited.out;
  EXPECT_NE(waited.out.find("workload 2: done"), std::string::npos) << waited.out;
  EXPECT_NE(waited.out.find("2/2 valid"), std::string::npos) << waited.out;
  auto list = testing::run_command(bin + " status 2>&1");
  EXPECT_NE(list.out.find("cancelled"), std::string::npos) << list.out;
  auto hosts = testing::run_command(bin + " hosts 2>&1");
  EXPECT_NE(hosts.out.find("cli-peer"), std::string::npos) << hosts.out;
  auto cancel_missing = testing::run_command(bin + " cancel 99 2>&1");
  EXPECT_EQ(cancel_missing.exit_code, 1);
  EXPECT_NE(cancel_missing.out.find("workload 99 does not exist"), std::string::npos)
      << cancel_missing.out;
}

}  // namespace
}  // namespace p2c2r
