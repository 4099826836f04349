// A real server and real `p2c2r peer` processes on loopback: workloads of
// every kernel family complete with outputs equal to the CPU reference, a
// peer killed mid-unit comes back and nothing is reported twice, and
// `p2c2r peer status` shows what a peer is doing.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "common/wire.h"
#include "kernels/registry.h"
#include "tests/peer_integration/peer_process.h"
#include "tests/server/temp_dir.h"
#include "tests/server_integration/server_process.h"
#include "tests/support/slowdown.h"
#include "tests/support/subprocess.h"

namespace p2c2r {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::PeerConfig;
using testing::PeerProcess;
using testing::ServerProcess;
using testing::TempDir;
using wire::Json;

const kernels::Registry& registry() {
  static const kernels::Registry r = kernels::builtin_registry();
  return r;
}

// Polls until `done` holds, bounded; no sleeps as synchronisation.
bool wait_for(const std::function<bool()>& done, std::chrono::seconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound * testing::kSlowdown;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// The CPU reference output of raw unit `index` of a workload of `kernel`.
Bytes reference_output(const std::string& kernel, const wire::ParamMap& params, uint64_t seed) {
  const kernels::Kernel* k = registry().find(kernel).value();
  const auto p = k->resolve_params(seed, params).value();
  const auto inputs = k->generate_inputs(p).value();
  return k->reference(p, inputs, 2).value();
}

class PeerIntegrationTest : public ::testing::Test {
 protected:
  PeerIntegrationTest() : server_(dir_.file("server")), admin_(server_.admin_client()) {
    const std::string& out = server_.output();
    const auto pos = out.find("server key pin ");
    if (pos != std::string::npos) pin_ = out.substr(pos + 15, out.find('\n', pos) - pos - 15);
  }

  // One host benchmark for every peer of the test (they share the device).
  const std::string& benchmark_file() {
    if (benchmark_.empty()) {
      benchmark_ = dir_.file("bench.json");
      const auto r = testing::run_command(testing::p2c2r_command() + " bench host --json > " +
                                          benchmark_ + " 2>" + dir_.file("bench.log"));
      EXPECT_EQ(r.exit_code, 0) << "p2c2r bench host failed";
    }
    return benchmark_;
  }

  std::unique_ptr<PeerProcess> start_peer(const std::string& name) {
    return std::make_unique<PeerProcess>(
        PeerConfig{server_.url(), pin_, dir_.file(name), benchmark_file(), name});
  }

  wire::WorkloadStatus submit(const std::string& kernel, const wire::ParamMap& params,
                              uint64_t seed, uint32_t units, uint32_t quorum,
                              int64_t deadline_ms = 600000) {
    wire::WorkloadSpec spec;
    spec.kind = "raw";
    spec.name = kernel;
    spec.deadline_ms = deadline_ms;
    spec.replication.min_quorum = quorum;
    spec.replication.target_nresults = quorum;
    spec.raw = wire::RawSpec{kernel, params, seed, units, {}};
    auto body =
        http::ok_body(admin_.request("POST", "/v1/workloads", bytes_of(wire::serialize(spec))));
    EXPECT_TRUE(body.ok()) << body.status().to_string();
    return body.ok() ? wire::parse<wire::WorkloadStatus>(*body).value() : wire::WorkloadStatus{};
  }

  wire::WorkloadStatus workload(uint64_t id) {
    auto body = http::ok_body(admin_.request("GET", "/v1/workloads/" + std::to_string(id)));
    EXPECT_TRUE(body.ok()) << body.status().to_string();
    return body.ok() ? wire::parse<wire::WorkloadStatus>(*body).value() : wire::WorkloadStatus{};
  }

  bool finished(const std::vector<uint64_t>& ids) {
    for (uint64_t id : ids) {
      const auto s = workload(id);
      if (s.state == "running") return false;
    }
    return true;
  }

  // Whether every output of the done workloads among `ids` is stored: the
  // server promises it (a workload is "done" only once they are).
  bool outputs_stored(const std::vector<uint64_t>& ids) {
    for (uint64_t id : ids) {
      const auto w = workload(id);
      if (w.state != "done") continue;
      for (const auto& digest : w.outputs) {
        auto r = admin_.request("GET", "/v1/blobs/" + digest);
        if (!r.ok() || r->status != 200) return false;
      }
    }
    return true;
  }

  Bytes blob(const std::string& digest) {
    auto body = http::ok_body(admin_.request("GET", "/v1/blobs/" + digest));
    EXPECT_TRUE(body.ok()) << body.status().to_string();
    return body.ok() ? Bytes(body->begin(), body->end()) : Bytes{};
  }

  std::vector<wire::HostInfo> hosts() {
    auto body = http::ok_body(admin_.request("GET", "/v1/hosts"));
    EXPECT_TRUE(body.ok()) << body.status().to_string();
    std::vector<wire::HostInfo> list;
    if (!body.ok()) return list;
    for (const auto& h : Json::parse(*body))
      list.push_back(wire::from_json<wire::HostInfo>(h).value());
    return list;
  }

  std::string diagnostics(const std::vector<PeerProcess*>& peers) {
    std::string s = "server:\n" + server_.output();
    for (auto* p : peers)
      s += "\n" + p->state_dir() + ":\n" + p->log() + "status " + p->status().dump() + "\n";
    if (auto list = admin_.request("GET", "/v1/workloads"); list.ok())
      s += "workloads " + list->body + "\n";
    return s;
  }

  TempDir dir_;
  ServerProcess server_;
  http::Client admin_;
  std::string pin_;
  std::string benchmark_;
};

TEST_F(PeerIntegrationTest, EveryKernelFamilyCompletesOnTwoPeersAndMatchesTheCpuReference) {
  ASSERT_FALSE(pin_.empty()) << server_.output();
  auto a = start_peer("a");
  auto b = start_peer("b");
  struct Submitted {
    std::string kernel;
    wire::ParamMap params;
    uint64_t seed;
    uint64_t id;
  };
  std::vector<Submitted> submitted;
  std::vector<uint64_t> ids;
  uint64_t seed = 100;
  for (const kernels::Kernel* k : registry().all()) {
    if (k->family() == "peak") continue;
    const auto w = submit(k->name(), k->small_params(), seed, 1, 2);
    ASSERT_NE(w.id, 0u) << k->name();
    submitted.push_back({k->name(), k->small_params(), seed, w.id});
    ids.push_back(w.id);
    seed += 10;
  }
  ASSERT_GE(submitted.size(), 5u);  // nn_mlp, nn_cnn, physics, raytrace, video
  ASSERT_TRUE(wait_for([&] { return finished(ids); }, 120s)) << diagnostics({a.get(), b.get()});
  EXPECT_TRUE(outputs_stored(ids)) << "a workload was done before its outputs were stored";
  for (const auto& s : submitted) {
    SCOPED_TRACE(s.kernel);
    const auto w = workload(s.id);
    ASSERT_EQ(w.state, "done") << w.reason;
    EXPECT_EQ(w.units.valid, 1u);
    ASSERT_EQ(w.outputs.size(), 1u);
    const Bytes expected = reference_output(s.kernel, s.params, s.seed);
    EXPECT_EQ(w.outputs[0], digest_of(expected).hex());
    const Bytes got = blob(w.outputs[0]);
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected) << "canonical output differs from the CPU reference";
  }
  // Quorum 2: both peers ran every unit and agreed on it.
  const auto hs = hosts();
  ASSERT_EQ(hs.size(), 2u);
  for (const auto& h : hs) {
    EXPECT_EQ(h.valid_results, submitted.size()) << h.name;
    EXPECT_EQ(h.invalid_results, 0u) << h.name;
    EXPECT_EQ(h.error_results, 0u) << h.name;
  }
}

TEST_F(PeerIntegrationTest, PeerKilledMidUnitRestartsAndNothingIsReportedTwice) {
  ASSERT_FALSE(pin_.empty()) << server_.output();
  // A unit in flight is its "killed while running" journal entry, written just before the
  // unit starts. status.json is no witness: it is rewritten only once a second, and shows a
  // unit as running from the assignment on, while its inputs are fetched and before the
  // entry exists, and for up to a second after its result was delivered.
  wire::ParamMap params = registry().find("physics").value()->small_params();
  params["steps"] = 1024;
  constexpr uint32_t kUnits = 3;
  auto a = start_peer("a");
  auto b = start_peer("b");
  const auto w = submit("physics", params, 500, kUnits, 1);
  const auto in_flight = [&] {
    std::error_code ec;  // no journal dir yet before the peer joined
    for (const auto& e : fs::directory_iterator(a->state_dir() + "/journal", ec))
      if (e.path().extension() == ".json") return true;
    return false;
  };
  // Looked at again with the peer frozen: the unit cannot end between the look and the kill.
  const auto frozen_in_flight = [&] {
    if (!in_flight()) return false;
    a->freeze();
    if (in_flight()) return true;
    a->thaw();
    return false;
  };
  ASSERT_TRUE(wait_for(frozen_in_flight, 60s)) << diagnostics({a.get(), b.get()});
  EXPECT_EQ(a->kill(SIGKILL), 128 + SIGKILL);
  // The killed unit's journal entry is what the restarted peer must send.
  EXPECT_FALSE(fs::is_empty(a->state_dir() + "/journal"));
  a->start();
  // No replica times out here (the deadline is ten minutes): the workload
  // completes only because the restarted peer reports what it lost.
  ASSERT_TRUE(wait_for([&] { return finished({w.id}); }, 60s)) << diagnostics({a.get(), b.get()});
  const auto done = workload(w.id);
  ASSERT_EQ(done.state, "done") << done.reason;
  EXPECT_EQ(done.units.valid, kUnits);
  EXPECT_EQ(done.units.failed, 0u);
  ASSERT_EQ(done.outputs.size(), kUnits);
  for (uint32_t i = 0; i < kUnits; ++i)
    EXPECT_EQ(done.outputs[i], digest_of(reference_output("physics", params, 500 + i)).hex())
        << "unit " << i;
  EXPECT_TRUE(wait_for([&] { return fs::is_empty(a->state_dir() + "/journal"); }, 30s));
  // Quorum 1: each unit was accepted from exactly one replica, so a result
  // reported twice would count twice here. The killed replica is at most
  // one error (none if it had finished and journaled its result).
  uint64_t valid = 0, errors = 0;
  for (const auto& h : hosts()) {
    valid += h.valid_results;
    errors += h.error_results;
    EXPECT_EQ(h.invalid_results, 0u) << h.name;
  }
  EXPECT_EQ(valid, kUnits);
  EXPECT_LE(errors, 1u);
  // The validator's view: every unit has exactly one valid replica, and no
  // replica was reported twice.
  auto report =
      http::ok_body(admin_.request("GET", "/v1/reports/workloads/" + std::to_string(w.id)));
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  auto wr = wire::parse<wire::WorkloadReport>(*report);
  ASSERT_TRUE(wr.ok()) << wr.status().to_string();
  ASSERT_EQ(wr->units.size(), kUnits);
  std::set<uint64_t> replica_ids;
  for (const auto& line : wr->units) {
    EXPECT_EQ(line.valid, 1u) << "unit " << line.id;
    auto unit =
        http::ok_body(admin_.request("GET", "/v1/reports/units/" + std::to_string(line.id)));
    ASSERT_TRUE(unit.ok()) << unit.status().to_string();
    auto ur = wire::parse<wire::UnitReport>(*unit);
    ASSERT_TRUE(ur.ok()) << ur.status().to_string();
    for (const auto& r : ur->replicas)
      EXPECT_TRUE(replica_ids.insert(r.id).second) << "replica " << r.id;
  }
}

// The validator end to end: three real peers, one of which corrupts every
// output (a test-only flag). Every accepted result is still the CPU
// reference, the liar ends up quarantined (on probation, failing its ringers
// until no probation is left), and `p2c2r report hosts` says so.
TEST_F(PeerIntegrationTest, LyingPeerIsOutvotedQuarantinedAndReported) {
  ASSERT_FALSE(pin_.empty()) << server_.output();
  auto a = start_peer("honest-a");
  auto b = start_peer("honest-b");
  auto liar = std::make_unique<PeerProcess>(PeerConfig{server_.url(),
                                                       pin_,
                                                       dir_.file("liar"),
                                                       benchmark_file(),
                                                       "liar",
                                                       {"--test-corrupt-outputs"}});
  const wire::ParamMap params = registry().find("raytrace").value()->small_params();
  constexpr uint32_t kUnits = 16;
  // Batches until the liar has been judged often enough to be quarantined
  // (how many units it gets depends on timing; every batch must be right).
  const auto refused = [](const std::string& standing) {
    return standing == "quarantined" || standing == "probation";
  };
  const auto liar_quarantined = [&] {
    for (const auto& h : hosts())
      if (h.name == "liar") return refused(h.standing);
    return false;
  };
  for (uint64_t batch = 0; batch < 4 && !liar_quarantined(); ++batch) {
    const uint64_t seed = 900 + 100 * batch;
    const auto w = submit("raytrace", params, seed, kUnits, 2);
    ASSERT_TRUE(wait_for([&] { return finished({w.id}); }, 180s))
        << diagnostics({a.get(), b.get(), liar.get()});
    const auto done = workload(w.id);
    ASSERT_EQ(done.state, "done") << done.reason;
    ASSERT_EQ(done.outputs.size(), kUnits);
    for (uint32_t i = 0; i < kUnits; ++i)
      EXPECT_EQ(done.outputs[i], digest_of(reference_output("raytrace", params, seed + i)).hex())
          << "unit " << i;
  }

  uint64_t liar_id = 0;
  for (const auto& h : hosts()) {
    if (h.name == "liar") {
      liar_id = h.id;
      EXPECT_EQ(h.valid_results, 0u);
      EXPECT_GE(h.invalid_results, 1u);
      EXPECT_EQ(h.credit, 0.0);
      EXPECT_TRUE(refused(h.standing)) << h.standing << ": " << h.quarantine_reason;
    } else {
      EXPECT_EQ(h.invalid_results, 0u) << h.name;
      EXPECT_FALSE(refused(h.standing)) << h.name;
    }
  }
  ASSERT_NE(liar_id, 0u);
  const auto table =
      testing::run_command(testing::p2c2r_command() + " report hosts --server " + server_.url() +
                           " --ca " + server_.cert() + " --token " + server_.token());
  ASSERT_EQ(table.exit_code, 0) << table.out;
  const auto line_at = table.out.find(std::to_string(liar_id) + " ");
  ASSERT_NE(line_at, std::string::npos) << table.out;
  bool found = false;
  std::istringstream lines(table.out);
  for (std::string line; std::getline(lines, line);)
    if (line.find(" liar ") != std::string::npos)
      found = line.find("quarantined") != std::string::npos ||
              line.find("probation") != std::string::npos;
  EXPECT_TRUE(found) << table.out;

  // The operator releases it; it must earn trust again. The liar process is
  // ended first: as an untrusted host it may be sent a ringer by the very
  // clear (which wakes its long poll), and fail it before this reads its standing.
  liar.reset();
  const auto cleared = testing::run_command(
      testing::p2c2r_command() + " hosts --clear " + std::to_string(liar_id) + " --server " +
      server_.url() + " --ca " + server_.cert() + " --token " + server_.token() + " 2>&1");
  ASSERT_EQ(cleared.exit_code, 0) << cleared.out;
  for (const auto& h : hosts())
    if (h.id == liar_id) {
      EXPECT_EQ(h.standing, "untrusted") << h.quarantine_reason;
    }
}

TEST_F(PeerIntegrationTest, PeerStatusShowsWhatTheRunningPeerIsDoing) {
  ASSERT_FALSE(pin_.empty()) << server_.output();
  auto a = start_peer("a");
  ASSERT_TRUE(wait_for(
      [&] {
        const Json s = a->status();
        return s.is_object() && s.value("host_id", 0) != 0;
      },
      60s))
      << diagnostics({a.get()});
  const std::string status =
      testing::p2c2r_command() + " peer status --state-dir " + a->state_dir();
  const auto text = testing::run_command(status);
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("server       " + server_.url()), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("units        0 done"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("not running"), std::string::npos) << text.out;

  const auto json = testing::run_command(status + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  const Json j = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << json.out;
  EXPECT_EQ(j.value("server", ""), server_.url());
  EXPECT_NE(j.value("host_id", 0), 0);
  EXPECT_EQ(j.value("units_done", -1), 0);
  EXPECT_EQ(j.value("reports_pending", -1), 0);
  EXPECT_TRUE(j.value("state", "").rfind("waiting for work", 0) == 0 ||
              j.value("state", "") == "starting")
      << j.dump();

  // After SIGTERM the peer stops cleanly and status says so.
  EXPECT_EQ(a->kill(SIGTERM), 0) << a->log();
  const auto after = testing::run_command(status + " --json");
  ASSERT_EQ(after.exit_code, 0) << after.out;
  EXPECT_EQ(Json::parse(after.out).value("state", ""), "not running (last: stopped)");
  const auto missing = testing::run_command(testing::p2c2r_command() + " peer status --state-dir " +
                                            dir_.file("nowhere") + " 2>&1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("no peer has run"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace p2c2r
