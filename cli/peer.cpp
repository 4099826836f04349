// p2c2r peer: the volunteer's background service (foreground process, logs
// to stderr for systemd), and `p2c2r peer status`.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "kernels/registry.h"
#include "peer/http_link.h"
#include "peer/join.h"
#include "peer/journal.h"
#include "peer/work_loop.h"
#include "runtime/execute.h"

namespace p2c2r::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string default_state_dir() {
  // systemd's StateDirectory= sets this (docs/systemd/p2c2r-peer.service).
  if (const char* s = std::getenv("STATE_DIRECTORY"); s && *s) return s;
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/p2c2r/peer";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.local/state/p2c2r/peer";
  return "p2c2r-peer";
}

void log(const std::string& line) {
  // systemd adds its own timestamps; a plain line per event is the format.
  std::cerr << "p2c2r peer: " << line << std::endl;
}

Result<runtime::HostBenchmark> load_benchmark(const std::string& path,
                                              const runtime::DeviceInfo& device) {
  auto bytes = peer::read_file(path);
  if (!bytes.ok()) return bytes.status();
  auto json = Json::parse(bytes.value().begin(), bytes.value().end(), nullptr, false);
  if (json.is_discarded()) return invalid_argument(path + " is not JSON");
  try {
    auto b = json.get<runtime::HostBenchmark>();
    if (!b.describes(device))
      return failed_precondition(path + " was measured on " + b.device_name + " (driver " +
                                 b.driver_version + "), not on this device");
    return b;
  } catch (const std::exception& e) {
    return invalid_argument(path + " is not a host benchmark: " + e.what());
  }
}

// The benchmark this host registers with: the saved one while it still
// describes the device and driver, else a given file, else a fresh one.
Result<runtime::HostBenchmark> host_benchmark(const std::string& state_dir,
                                              const std::string& given, bool rerun,
                                              const DeviceFlags& flags,
                                              const kernels::Registry& registry) {
  P2C2R_ASSIGN_OR_RETURN(auto device, runtime::open_device(flags.device, flags.instance_options(),
                                                           flags.device_options()));
  const std::string saved = state_dir + "/benchmark.json";
  if (!rerun) {
    if (auto b = load_benchmark(saved, device->info()); b.ok())
      return b;
    else if (b.status().code() != Code::kNotFound)
      log("measuring again: " + b.status().message());
  }
  runtime::HostBenchmark bench;
  if (!given.empty()) {
    P2C2R_ASSIGN_OR_RETURN(bench, load_benchmark(given, device->info()));
    log("using the benchmark in " + given);
  } else {
    log("benchmarking " + device->info().name +
        " with the real kernels (once per device and driver)");
    auto measured = runtime::benchmark_host(
        *device, registry, [](size_t step, size_t steps, const std::string& what) {
          log("benchmark " + std::to_string(step + 1) + "/" + std::to_string(steps) + ": " + what);
        });
    if (!measured.ok()) return measured.status().with_context("benchmark");
    bench = std::move(measured.value());
  }
  const std::string text = Json(bench).dump(2) + "\n";
  P2C2R_RETURN_IF_ERROR(peer::write_file_durably(saved, bytes_of(text)));
  return bench;
}

Json status_json(const peer::PeerStatus& s) {
  return Json{{"pid", ::getpid()},
              {"state", s.state},
              {"units_done", s.units_done},
              {"units_failed", s.units_failed},
              {"units_refused", s.units_refused},
              {"reports_pending", s.reports_pending},
              {"running", s.running},
              {"last_error", s.last_error},
              {"updated_unix", std::time(nullptr)}};
}

int run_peer(const Args& args) {
  po::options_description options("peer options");
  peer::JoinOptions join;
  DeviceFlags device;
  peer::WorkLoopOptions loop;
  std::string window, benchmark_file;
  bool rebenchmark = false;
  uint64_t cache_mb = 1024;
  uint32_t poll_ms = 10000;
  uint32_t unit_timeout_s = 600;
  join.state_dir = default_state_dir();
  options.add_options()("server", po::value(&join.server_url)->required()->value_name("URL"),
                        "the project's server, https://HOST:PORT")(
      "state-dir", po::value(&join.state_dir)->default_value(join.state_dir)->value_name("DIR"),
      "identity key, server pin, benchmark, journal and input cache")(
      "ca-file", po::value(&join.ca_file)->value_name("PEM"),
      "trust the server through this CA bundle instead of pinning its key on first use")(
      "pin", po::value(&join.pin)->value_name("sha256//BASE64"),
      "expect exactly this server public key (as printed by 'p2c2r server' at start)")(
      "name", po::value(&join.name)->value_name("NAME"),
      "name shown in host lists (default: host name)")(
      "slots", po::value(&loop.slots)->default_value(1)->value_name("N"),
      "work units in flight at once, each in its own sandboxed executor")(
      "only-when-idle", po::bool_switch(&loop.availability.only_when_idle),
      "take work only while the rest of the machine is idle")(
      "window", po::value(&window)->value_name("HH:MM-HH:MM"),
      "take work only in this daily local time window (may wrap midnight)")(
      "max-cache-mb", po::value(&cache_mb)->default_value(cache_mb),
      "bound of the input blob cache")("poll-wait-ms", po::value(&poll_ms)->default_value(poll_ms),
                                       "long-poll bound when asking for work")(
      "unit-timeout",
      po::value(&unit_timeout_s)->default_value(unit_timeout_s)->value_name("SECONDS"),
      "kill a unit's executor after this long")("rebenchmark", po::bool_switch(&rebenchmark),
                                                "measure the device again even if nothing changed")(
      "benchmark-file", po::value(&benchmark_file)->value_name("JSON"),
      "register with this benchmark ('p2c2r bench host --json' on this device) instead of "
      "measuring")(
      "test-corrupt-outputs", po::bool_switch(&loop.corrupt_outputs),
      "TESTS ONLY: flip a byte of every output, to prove the validator catches a lying host");
  device.add_to(options);
  po::variables_map vm;
  if (auto code = parse("peer", "--server URL [--state-dir DIR] [options]   |   p2c2r peer status",
                        args, options, vm))
    return *code;
  if (!window.empty()) {
    auto w = peer::parse_window(window);
    if (!w.ok()) return fail("peer", w.status().with_context("--window"));
    loop.availability.window = w.value();
  }
  if (loop.slots < 1 || loop.slots > 64)
    return fail("peer", invalid_argument("--slots must be 1..64"));
  join.log = log;

  // SIGTERM/SIGINT are taken by sigtimedwait below, in this thread only.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto identity = peer::load_or_create_identity(join.state_dir);
  if (!identity.ok()) return fail("peer", identity.status());
  const kernels::Registry registry = kernels::builtin_registry();
  auto bench = host_benchmark(join.state_dir, benchmark_file, rebenchmark, device, registry);
  if (!bench.ok()) return fail("peer", bench.status());
  if (!bench.value().all_match())
    log("warning: some kernels did not match their CPU reference on this device; they are not "
        "offered");
  // An unreachable server is waited for (with backoff), not a reason to
  // exit: a volunteer's machine often boots before its network.
  auto joined = peer::join(join, bench.value());
  for (int delay_s = 1; !joined.ok() && (joined.status().code() == Code::kUnavailable ||
                                         joined.status().code() == Code::kDeadlineExceeded);
       delay_s = std::min(delay_s * 2, 60)) {
    log(joined.status().message() + "; retrying in " + std::to_string(delay_s) + " s");
    timespec wait{delay_s, 0};
    const int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) return 0;
    joined = peer::join(join, bench.value());
  }
  if (!joined.ok()) return fail("peer", joined.status());
  log("joined " + joined.value().server.url + " as host " +
      std::to_string(joined.value().server.host_id));

  auto journal = peer::Journal::open(join.state_dir + "/journal");
  if (!journal.ok()) return fail("peer", journal.status());
  auto cache = peer::BlobCache::open(join.state_dir + "/cache", cache_mb << 20);
  if (!cache.ok()) return fail("peer", cache.status());

  loop.poll_wait = std::chrono::milliseconds(poll_ms);
  loop.max_unit_time = std::chrono::seconds(unit_timeout_s);
  loop.sandbox.binary = fs::read_symlink("/proc/self/exe").string();
  loop.sandbox.device = device.device;
  peer::HttpLink link(joined.value().client, joined.value().key, joined.value().server.host_id);
  peer::WorkLoop work(link, joined.value().server_key, registry, journal.value(), cache.value(),
                      loop);
  work.start();
  log("working with " + std::to_string(loop.slots) + " slot(s); SIGTERM stops");

  // status.json for `p2c2r peer status`: rewritten when something changed,
  // and every 30 s as a heartbeat, not every tick (each write is fsync'd).
  const std::string status_path = join.state_dir + "/status.json";
  Json server_view;
  std::string last_written;
  auto last_write = std::chrono::steady_clock::time_point{};
  const auto write_status = [&](const peer::PeerStatus& st, const char* state_override) {
    Json s = status_json(st);
    if (state_override) s["state"] = state_override;
    s["server"] = joined.value().server.url;
    s["host_id"] = joined.value().server.host_id;
    s["server_view"] = server_view;
    Json compare = s;
    compare.erase("updated_unix");
    const std::string key = compare.dump();
    const auto now = std::chrono::steady_clock::now();
    if (key == last_written && now - last_write < std::chrono::seconds(30)) return;
    last_written = key;
    last_write = now;
    (void)peer::write_file_durably(status_path, bytes_of(s.dump(2) + "\n"));
  };
  auto last_host_info = std::chrono::steady_clock::time_point{};
  for (;;) {
    timespec tick{1, 0};
    const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      log(std::string("stopping (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ")");
      break;
    }
    if (std::chrono::steady_clock::now() - last_host_info > std::chrono::seconds(5)) {
      last_host_info = std::chrono::steady_clock::now();
      if (auto info = link.host_info(); info.ok()) server_view = wire::to_json(info.value());
    }
    write_status(work.status(), nullptr);
  }
  work.stop();
  const peer::PeerStatus end = work.status();
  write_status(end, "stopped");
  log("stopped: " + std::to_string(end.units_done) + " units done, " +
      std::to_string(end.reports_pending) + " result(s) journaled for the next start");
  return 0;
}

int peer_status(const Args& args) {
  po::options_description options("peer status options");
  std::string state_dir = default_state_dir();
  bool json = false;
  options.add_options()("state-dir",
                        po::value(&state_dir)->default_value(state_dir)->value_name("DIR"),
                        "the peer's state dir")("json", po::bool_switch(&json), "print JSON");
  po::variables_map vm;
  if (auto code = parse("peer status", "[--state-dir DIR] [--json]", args, options, vm))
    return *code;
  auto bytes = peer::read_file(state_dir + "/status.json");
  if (!bytes.ok())
    return fail("peer status",
                not_found("no peer has run with state dir " + state_dir + " (no status.json)"));
  auto s = Json::parse(bytes.value().begin(), bytes.value().end(), nullptr, false);
  if (!s.is_object())
    return fail("peer status", invalid_argument(state_dir + "/status.json is damaged"));
  const int pid = s.value("pid", 0);
  const bool alive = pid > 0 && ::kill(pid, 0) == 0 && s.value("state", "") != "stopped";
  const int64_t age = std::time(nullptr) - s.value("updated_unix", int64_t{0});
  if (!alive) s["state"] = "not running (last: " + s.value("state", std::string("?")) + ")";
  if (json) {
    std::cout << s.dump(2) << "\n";
    return 0;
  }
  std::cout << "state        " << s.value("state", "") << "\n"
            << "server       " << s.value("server", "") << " (host " << s.value("host_id", 0)
            << ")\n"
            << "updated      " << age << " s ago\n"
            << "units        " << s.value("units_done", 0) << " done, "
            << s.value("units_failed", 0) << " failed, " << s.value("units_refused", 0)
            << " refused\n"
            << "to report    " << s.value("reports_pending", 0) << "\n";
  for (const auto& r : s.value("running", Json::array()))
    std::cout << "running      " << r.get<std::string>() << "\n";
  if (!s.value("last_error", std::string()).empty())
    std::cout << "last error   " << s["last_error"].get<std::string>() << "\n";
  const Json view = s.value("server_view", Json());
  if (view.is_object()) {
    std::cout << "server view  " << view.value("valid_results", 0) << " valid, "
              << view.value("invalid_results", 0) << " invalid, " << view.value("error_results", 0)
              << " errors, credit " << view.value("credit", 0.0) << " (pending "
              << view.value("credit_pending", 0.0) << ")\n"
              << "standing     " << view.value("standing", std::string("?"));
    if (!view.value("quarantine_reason", std::string()).empty())
      std::cout << ": " << view["quarantine_reason"].get<std::string>();
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int peer_command(const Args& args) {
  if (!args.empty() && args[0] == "status") return peer_status(Args(args.begin() + 1, args.end()));
  return run_peer(args);
}

}  // namespace p2c2r::cli
