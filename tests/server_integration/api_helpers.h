// Test helpers for talking to a real `p2c2r server` (server_process.h) the
// way peers and the admin do: a signed simulated peer, submission, status,
// and the check that an error reply is the JSON error a client expects.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "common/crypto.h"
#include "common/digest.h"
#include "common/wire.h"
#include "tests/server_integration/server_process.h"

namespace p2c2r::testing {

// A simulated peer: its own key, host id and keep-alive connection.
struct Peer {
  crypto::KeyPair key = crypto::KeyPair::generate();
  uint64_t id = 0;
  http::Client client;

  // A host whose device runs `kernels` (by default only the tiny peak units).
  explicit Peer(const ServerProcess& server, const std::string& name = "peer",
                std::vector<wire::KernelSpeed> kernels = {{"peak", 1, 0.001}})
      : client(server.client()) {
    wire::RegisterHost req{
        key.public_key().hex(), name, {"test gpu", 1 << 30, {}, std::move(kernels)}};
    auto r = client.signed_request(key, 0, "POST", "/v1/hosts", bytes_of(wire::serialize(req)));
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->status, 200) << r->body;
    id = wire::parse<wire::Registered>(r->body)->host_id;
  }
  http::Response call(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& type = "application/json") {
    auto r = client.signed_request(key, id, method, path, bytes_of(body), type);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : http::Response{};
  }
  std::optional<wire::Assignment> work(uint32_t wait_ms = 0) {
    auto r = call("POST", "/v1/work", wire::serialize(wire::WorkRequest{wait_ms}));
    if (r.status == 204) return std::nullopt;
    EXPECT_EQ(r.status, 200) << r.body;
    auto a = wire::parse<wire::Assignment>(r.body);
    if (!a.ok()) return std::nullopt;
    return *a;
  }
  // With `want_work`, the report also asks for the next unit (ReportReply::work).
  http::Response report(uint64_t replica, const std::string& output, bool want_work = false) {
    wire::Report r{replica, true, digest_of(bytes_of(output)).hex(), "", 0.01};
    r.want_work = want_work;
    return call("POST", "/v1/reports", wire::serialize(r));
  }
  http::Response upload(uint64_t replica, const std::string& output) {
    return call("PUT", "/v1/replicas/" + std::to_string(replica) + "/output", output,
                "application/octet-stream");
  }
};

inline wire::WorkloadStatus submit(http::Client& admin, uint32_t units,
                                   int64_t deadline_ms = 600000, uint32_t quorum = 2) {
  wire::WorkloadSpec spec;
  spec.kind = "raw";
  spec.deadline_ms = deadline_ms;
  spec.replication.min_quorum = quorum;
  spec.raw = wire::RawSpec{"peak", {{"invocations", 64}, {"iterations", 4}}, 1, units, {}};
  auto body =
      http::ok_body(admin.request("POST", "/v1/workloads", bytes_of(wire::serialize(spec))));
  EXPECT_TRUE(body.ok()) << body.status().to_string();
  return body.ok() ? *wire::parse<wire::WorkloadStatus>(*body) : wire::WorkloadStatus{};
}

inline wire::WorkloadStatus status(http::Client& admin, uint64_t id) {
  auto body = http::ok_body(admin.request("GET", "/v1/workloads/" + std::to_string(id)));
  EXPECT_TRUE(body.ok()) << body.status().to_string();
  return body.ok() ? *wire::parse<wire::WorkloadStatus>(*body) : wire::WorkloadStatus{};
}

// A 4xx reply whose body is a wire::Error mentioning `words`.
inline void expect_error(const http::Response& r, long code, const std::string& words) {
  EXPECT_EQ(r.status, code) << r.body;
  auto e = wire::parse<wire::Error>(r.body);
  ASSERT_TRUE(e.ok()) << "not a JSON error: " << r.body;
  EXPECT_NE(e->error.find(words), std::string::npos) << e->error;
}

}  // namespace p2c2r::testing
