// p2c2r bench dispatch: N simulated peers, each a thread with its own key and
// keep-alive HTTPS connection, doing request -> report cycles against one
// in-process `p2c2r server` (SQLite, fsync'ed group commits, so every
// acknowledged report is durable). Prints cycles per second and the p50/p99
// latency of one cycle. A cycle is one unit: its assignment and its report;
// like `p2c2r peer`, a report also asks for the next unit (one round trip),
// `--separate-requests` measures a POST /v1/work per unit instead.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/bench.h"
#include "cli/options.h"
#include "common/http_client.h"
#include "common/wire.h"
#include "kernels/registry.h"
#include "server/server.h"

namespace p2c2r::bench {
namespace {

using Clock = std::chrono::steady_clock;

Result<Bytes> honest_output(const wire::Manifest& m) {
  static const kernels::Registry registry = kernels::builtin_registry();
  P2C2R_ASSIGN_OR_RETURN(const kernels::Kernel* kernel, registry.find(m.kernel));
  P2C2R_ASSIGN_OR_RETURN(kernels::Params params, kernel->resolve_params(m.seed, m.params));
  P2C2R_ASSIGN_OR_RETURN(std::vector<Bytes> inputs, kernel->generate_inputs(params));
  return kernel->reference(params, inputs, 1);
}

struct PeerResult {
  std::vector<double> cycle_ms;
  uint64_t errors = 0, idle = 0;
  std::string first_error;
};

void run_peer(const std::string& url, const std::string& ca, bool separate,
              const std::atomic<bool>& go, const std::atomic<bool>& stop, std::atomic<int>& ready,
              PeerResult& out) {
  auto fail = [&](const std::string& what) {
    ++out.errors;
    if (out.first_error.empty()) out.first_error = what;
  };
  auto client = http::Client::create({.base_url = url, .ca_file = ca});
  if (!client.ok()) return fail(client.status().message()), void(++ready);
  const auto key = crypto::KeyPair::generate();
  wire::RegisterHost reg{
      key.public_key().hex(), "bench", {"bench", 1ull << 32, {}, {{"peak", 1, 0.001}}}};
  auto r = http::ok_body(
      client->signed_request(key, 0, "POST", "/v1/hosts", bytes_of(wire::serialize(reg))));
  ++ready;
  if (!r.ok()) return fail(r.status().message());
  const uint64_t id = wire::parse<wire::Registered>(*r)->host_id;
  const std::string request = wire::serialize(wire::WorkRequest{0});
  std::optional<wire::Assignment> next;  // handed out with the previous report
  while (!go) std::this_thread::yield();
  while (!stop) {
    const auto start = Clock::now();
    if (!next) {
      auto w = client->signed_request(key, id, "POST", "/v1/work", bytes_of(request));
      if (!w.ok() || (w->status != 200 && w->status != 204)) {
        fail(w.ok() ? http::status_of(*w).message() : w.status().message());
        continue;
      }
      if (w->status == 204) {
        ++out.idle;
        continue;
      }
      auto a = wire::parse<wire::Assignment>(w->body);
      if (!a.ok()) {
        fail(a.status().message());
        continue;
      }
      next = std::move(*a);
    }
    const wire::Assignment a = std::move(*next);
    next.reset();
    // Honest peers: the unit's real output, from the CPU reference (a tiny
    // peak unit, microseconds), so the server's own spot checks agree.
    auto output = honest_output(a.manifest);
    if (!output.ok()) {
      fail(output.status().message());
      continue;
    }
    wire::Report rep{a.replica_id, true, digest_of(*output).hex(), "", 0.001};
    rep.want_work = !separate;
    auto body = http::ok_body(
        client->signed_request(key, id, "POST", "/v1/reports", bytes_of(wire::serialize(rep))));
    auto reply = body.ok() ? wire::parse<wire::ReportReply>(*body)
                           : Result<wire::ReportReply>(body.status());
    if (!reply.ok()) {
      fail(reply.status().message());
      continue;
    }
    next = std::move(reply->work);
    out.cycle_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

}  // namespace

int dispatch_benchmark(const Args& args) {
  unsigned peers = 8, server_threads = 2;
  double seconds = 10;
  uint32_t quorum = 2;
  std::string data_dir;
  bool json = false, no_fsync = false, no_trusted = false, separate = false;
  cli::po::options_description options("bench dispatch options");
  options.add_options()("peers", cli::po::value(&peers)->default_value(peers),
                        "simulated peers (threads)")(
      "seconds", cli::po::value(&seconds)->default_value(seconds), "measured duration")(
      "quorum", cli::po::value(&quorum)->default_value(quorum),
      "min_quorum of the benchmark's units")(
      "server-threads", cli::po::value(&server_threads)->default_value(server_threads),
      "server HTTP threads")("data-dir", cli::po::value(&data_dir),
                             "server data dir (default: a temporary one, removed after)")(
      "no-fsync", cli::po::bool_switch(&no_fsync),
      "commit without fsync (survives a crash, not a power loss)")(
      "no-trusted-device", cli::po::bool_switch(&no_trusted),
      "the server re-executes nothing itself (spot checks go to other peers)")(
      "separate-requests", cli::po::bool_switch(&separate),
      "a POST /v1/work and a POST /v1/reports per cycle, instead of reports that also ask "
      "for the next unit (what `p2c2r peer` does)")("json", cli::po::bool_switch(&json),
                                                    "print one JSON document");
  cli::po::variables_map vm;
  if (auto code =
          cli::parse("bench dispatch", "[--peers N] [--seconds S] [--json]", args, options, vm))
    return *code;
  if (peers == 0 || seconds <= 0)
    return cli::fail("bench dispatch", invalid_argument("--peers and --seconds must be positive"));

  bool temporary = data_dir.empty();
  if (temporary) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "p2c2r-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      return cli::fail("bench dispatch", internal_error("cannot create a temp dir"));
    data_dir = tmpl;
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{temporary ? data_dir : ""};

  std::ostringstream log;
  server::ServerOptions so{.data_dir = data_dir,
                           .listen = "127.0.0.1:0",
                           .threads = server_threads,
                           .synchronous_full = !no_fsync};
  so.trusted_device = !no_trusted;
  auto srv = server::Server::start(so, log);
  if (!srv.ok()) return cli::fail("bench dispatch", srv.status());
  const std::string url = (*srv)->url(), ca = (*srv)->cert_file();

  // Enough units for the whole run at well above the target rate, submitted before the clock
  // starts.
  auto admin =
      http::Client::create({.base_url = url, .ca_file = ca, .bearer_token = (*srv)->admin_token()});
  if (!admin.ok()) return cli::fail("bench dispatch", admin.status());
  const uint64_t replicas = static_cast<uint64_t>(seconds * 20000) + 10000;
  for (uint64_t units = 0; units * quorum < replicas;) {
    wire::WorkloadSpec spec;
    spec.kind = "raw";
    spec.name = "bench dispatch";
    spec.replication.min_quorum = quorum;
    spec.replication.target_nresults = quorum;
    const uint32_t n = 50000;
    spec.raw = wire::RawSpec{"peak", {{"invocations", 64}, {"iterations", 4}}, units, n, {}};
    auto r =
        http::ok_body(admin->request("POST", "/v1/workloads", bytes_of(wire::serialize(spec))));
    if (!r.ok())
      return cli::fail("bench dispatch",
                       r.status().with_context("submitting the benchmark's units"));
    units += n;
  }

  std::atomic<bool> go{false}, stop{false};
  std::atomic<int> ready{0};
  std::vector<PeerResult> results(peers);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < peers; ++i)
    threads.emplace_back(run_peer, url, ca, separate, std::cref(go), std::cref(stop),
                         std::ref(ready), std::ref(results[i]));
  while (ready < static_cast<int>(peers)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto start = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  auto metrics = admin->request("GET", "/metrics");
  (*srv)->stop();

  std::vector<double> all;
  uint64_t errors = 0, idle = 0;
  std::string first_error;
  for (auto& r : results) {
    all.insert(all.end(), r.cycle_ms.begin(), r.cycle_ms.end());
    errors += r.errors;
    idle += r.idle;
    if (first_error.empty()) first_error = r.first_error;
  }
  const double cps = static_cast<double>(all.size()) / elapsed;
  const double p50 = percentile(all, 0.50), p99 = percentile(all, 0.99);
  uint64_t commits = 0;
  if (metrics.ok()) {
    const std::string key = "\np2c2r_store_commits_total ";
    const auto pos = metrics->body.find(key);
    if (pos != std::string::npos) commits = std::stoull(metrics->body.substr(pos + key.size()));
  }
  if (json) {
    nlohmann::json j = {{"peers", peers},
                        {"seconds", elapsed},
                        {"cycles", all.size()},
                        {"cycles_per_second", cps},
                        {"p50_ms", p50},
                        {"p99_ms", p99},
                        {"errors", errors},
                        {"idle_polls", idle},
                        {"store_commits", commits},
                        {"fsync", !no_fsync},
                        {"quorum", quorum},
                        {"first_error", first_error},
                        {"work_with_reports", !separate}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("dispatch: %u peers, %.1f s, min_quorum %u, %s, %s\n", peers, elapsed, quorum,
                no_fsync ? "commits without fsync" : "every acknowledged report fsync'ed",
                separate ? "separate work requests" : "the next unit comes with each report");
    std::printf(
        "  cycles      %zu (request + report)\n  cycles/s    %.0f\n  p50         %.2f ms\n  p99    "
        "     %.2f ms\n"
        "  errors      %llu\n  idle polls  %llu\n  commits     %llu (%.1f cycles per commit)\n",
        all.size(), cps, p50, p99, static_cast<unsigned long long>(errors),
        static_cast<unsigned long long>(idle), static_cast<unsigned long long>(commits),
        commits ? static_cast<double>(all.size()) / static_cast<double>(commits) : 0.0);
    if (!first_error.empty()) std::printf("  first error: %s\n", first_error.c_str());
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace p2c2r::bench
