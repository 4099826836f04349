// The coordinator test fixture: one server's worth of state over a temp data
// dir; restart() rebuilds it from the store. Shared by the coordinator tests.
#pragma once

#include <gtest/gtest.h>

#include <future>

#include "runtime/execute.h"
#include "server/coordinator.h"
#include "tests/server/temp_dir.h"

namespace p2c2r::server {

// One server's worth of state over a temp data dir; restart() rebuilds it from the store.
class CoordinatorTest : public ::testing::Test {
 protected:
  struct Peer {
    crypto::KeyPair key = crypto::KeyPair::generate();
    uint64_t id = 0;
  };

  CoordinatorTest()
      : registry_(kernels::builtin_registry()), server_key_(crypto::KeyPair::generate()) {
    open();
  }
  ~CoordinatorTest() override { close(); }

  void open() {
    store_ = std::move(open_sqlite_store(dir_.file("db")).value());
    commit_ = std::make_unique<GroupCommit>(*store_, nullptr);
    blobs_ = std::make_unique<BlobStore>(dir_.file("blobs"));
    coord_ = std::make_unique<Coordinator>(CoordinatorOptions{.registry = &registry_,
                                                              .server_key = &server_key_,
                                                              .reliability = reliability_,
                                                              .trusted_device = device_.get(),
                                                              .seed = 1,
                                                              .output_grace_ms = output_grace_ms_},
                                           *commit_, *blobs_);
    auto snap = store_->load();
    ASSERT_TRUE(snap.ok());
    ASSERT_TRUE(coord_->load(*snap).ok());
  }
  void close() {
    coord_.reset();
    commit_.reset();
    store_.reset();
  }
  void restart() {
    close();
    open();
  }

  template <typename F>
  Reply call(F&& f) {
    auto p = std::make_shared<std::promise<Reply>>();
    f([p](Reply r) { p->set_value(std::move(r)); });
    auto fut = p->get_future();
    EXPECT_EQ(fut.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return fut.get();
  }

  Result<Coordinator::Auth> sign(const Peer& peer, const std::string& method,
                                 const std::string& path, const std::string& body) {
    const auto h = crypto::sign_request(peer.key, peer.id, method, path, now_ms(), bytes_of(body));
    const std::string pub = peer.key.public_key().hex();
    return coord_->authenticate(method, path, h.host_id, h.timestamp, h.nonce, h.signature,
                                bytes_of(body), peer.id == 0 ? &pub : nullptr);
  }

  // A host whose device runs `kernels` (by default only the tiny peak units).
  Peer register_peer(const std::string& name,
                     std::vector<wire::KernelSpeed> kernels = {{"peak", 1, 0.001}}) {
    Peer p;
    register_as(p, name, std::move(kernels));
    return p;
  }
  // Registers `p` (again, if it has an id: what a peer does at every start).
  void register_as(Peer& p, const std::string& name, std::vector<wire::KernelSpeed> kernels) {
    wire::RegisterHost req{
        p.key.public_key().hex(), name, {"gpu", 1 << 30, {}, std::move(kernels)}};
    auto auth = sign(p, "POST", "/v1/hosts", wire::serialize(req));
    EXPECT_TRUE(auth.ok()) << auth.status().to_string();
    Reply r = call([&](Respond done) { coord_->register_host(req, *auth, std::move(done)); });
    EXPECT_EQ(r.status, 200) << r.body;
    p.id = wire::parse<wire::Registered>(r.body)->host_id;
  }

  uint64_t submit(uint32_t units, int64_t deadline_ms = 60000, uint32_t quorum = 2,
                  int64_t invocations = 64) {
    wire::WorkloadSpec spec;
    spec.kind = "raw";
    spec.name = "test";
    spec.deadline_ms = deadline_ms;
    spec.replication.min_quorum = quorum;
    spec.raw =
        wire::RawSpec{"peak", {{"invocations", invocations}, {"iterations", 4}}, 7, units, {}};
    Reply r = call([&](Respond done) { coord_->submit(spec, std::move(done)); });
    EXPECT_EQ(r.status, 200) << r.body;
    return wire::parse<wire::WorkloadStatus>(r.body)->id;
  }

  // A work request's reply as it comes (403 and 204 included).
  Reply raw_request(const Peer& p) {
    auto auth = sign(p, "POST", "/v1/work", "{}");
    EXPECT_TRUE(auth.ok()) << auth.status().to_string();
    return call([&](Respond done) { coord_->request_work(*auth, {0}, std::move(done)); });
  }

  std::optional<wire::Assignment> request(const Peer& p) {
    Reply r = raw_request(p);
    if (r.status == 204) return std::nullopt;
    EXPECT_EQ(r.status, 200) << r.body;
    auto a = wire::parse<wire::Assignment>(r.body);
    EXPECT_TRUE(a.ok()) << a.status().to_string() << r.body;
    return *a;
  }

  // With `want_work`, the report also asks for the next unit. Like a peer,
  // uploads the output when the server asks for it and the test knows its
  // bytes (kA, kB); a workload is done only once its outputs are stored.
  Reply report(const Peer& p, uint64_t replica, const std::string& digest, bool want_work = false) {
    wire::Report rep{replica, true, digest, "", 0.01};
    rep.want_work = want_work;
    auto auth = sign(p, "POST", "/v1/reports", wire::serialize(rep));
    EXPECT_TRUE(auth.ok());
    Reply r = call([&](Respond done) { coord_->report(*auth, rep, std::move(done)); });
    if (r.status != 200 || !wire::parse<wire::ReportReply>(r.body)->want_output) return r;
    if (digest == kA) {
      EXPECT_EQ(upload(p, replica, kOutA).status, 200);
    } else if (digest == kB) {
      EXPECT_EQ(upload(p, replica, kOutB).status, 200);
    }
    return r;
  }

  Reply upload(const Peer& p, uint64_t replica, const Bytes& output) {
    const std::string path = "/v1/replicas/" + std::to_string(replica) + "/output";
    auto auth = sign(p, "PUT", path, std::string(output.begin(), output.end()));
    EXPECT_TRUE(auth.ok()) << auth.status().to_string();
    return call(
        [&](Respond done) { coord_->upload_output(*auth, replica, output, std::move(done)); });
  }

  // A failed report; with `unfit`, the host says the unit is too big for it.
  Reply report_error(const Peer& p, uint64_t replica, const std::string& error, bool unfit) {
    wire::Report rep{replica, false, std::nullopt, error, 0.01};
    rep.unfit = unfit;
    auto auth = sign(p, "POST", "/v1/reports", wire::serialize(rep));
    EXPECT_TRUE(auth.ok());
    return call([&](Respond done) { coord_->report(*auth, rep, std::move(done)); });
  }

  wire::HostInfo info(const Peer& p) {
    return *wire::parse<wire::HostInfo>(coord_->host_info(p.id).body);
  }

  wire::WorkloadStatus status(uint64_t id) {
    return *wire::parse<wire::WorkloadStatus>(coord_->workload_status(id).body);
  }

  // Outputs the tests report, and their digests.
  const Bytes kOutA = to_bytes("output A"), kOutB = to_bytes("output B");
  static Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
  const std::string kA = digest_of(kOutA).hex(), kB = digest_of(kOutB).hex();
  testing::TempDir dir_;
  validator::ReliabilityConfig reliability_;
  int64_t output_grace_ms_ = 5 * 60000;
  std::unique_ptr<runtime::Device> device_;  // the trusted runner's; null: none
  kernels::Registry registry_;
  crypto::KeyPair server_key_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<GroupCommit> commit_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<Coordinator> coord_;
};

}  // namespace p2c2r::server
