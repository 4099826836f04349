// The supervisor: runs work units in a sandboxed executor process and
// survives whatever happens to it.
//
// One Supervisor owns at most one executor (`p2c2r executor`, started with
// posix_spawn over a socketpair) for one Vulkan device. The executor is
// started on first use and kept for later units. Each unit has a wall-clock
// deadline: when it passes, the executor is killed with SIGKILL and the unit
// fails with kDeadlineExceeded. An executor that dies (crash, SIGSYS from
// seccomp, memory or CPU limit) fails the unit it was running with the reason;
// either way the next unit starts a fresh executor. The supervisor never
// trusts the executor's bytes: frames are size-checked (sandbox/protocol.h)
// and the output digest is recomputed here.
//
// Thread-safe: units are serialised (one executor runs one unit at a time);
// use one Supervisor per device for parallelism. The destructor kills the
// executor.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "runtime/device.h"
#include "sandbox/lockdown.h"
#include "sandbox/protocol.h"

namespace p2c2r::sandbox {

// RLIMIT_AS default: lavapipe's LLVM JIT and its worker threads peak near
// 1 GiB of address space on small units (measured; see docs/security.md), so
// 8 GiB leaves room for large buffers while still stopping a runaway unit.
constexpr uint64_t kDefaultAddressSpaceBytes = 8ull << 30;
// RLIMIT_CPU for one executor's life; the supervisor restarts the executor
// once it has used half, so every unit gets at least the other half.
constexpr uint64_t kDefaultCpuSeconds = 3600;

struct SupervisorOptions {
  std::string binary;  // path of the p2c2r executable
  std::string device;  // --device for the executor ("" = best)
  std::chrono::milliseconds start_timeout{std::chrono::seconds(60)};
  uint64_t address_space_bytes = kDefaultAddressSpaceBytes;  // 0 = no RLIMIT_AS
  uint64_t cpu_seconds = kDefaultCpuSeconds;
  // Only tests set this: lets run_test_probe reach the executor (executor.h).
  bool allow_test_probes = false;
  int stderr_fd = 2;  // the executor's stderr (driver messages); -1 = /dev/null
};

struct Unit {
  std::string kernel;
  uint32_t version = 0;
  uint64_t seed = 0;
  std::map<std::string, int64_t> params;
  std::vector<Bytes> inputs;
  uint32_t local_size = 64;
  std::chrono::milliseconds deadline{std::chrono::seconds(60)};
};

struct UnitOutcome {
  Bytes output;
  Digest digest;
  runtime::RunStats stats;
};

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs one unit; any failure, including the executor's death, is a Status.
  Result<UnitOutcome> run(const Unit& unit);

  // Starts the executor now if none is running (run() does it lazily).
  Status start();

  // Test only (needs allow_test_probes): asks the executor to attempt a
  // forbidden action. Ok means the action succeeded, i.e. the sandbox leaked.
  Status run_test_probe(const std::string& probe, std::chrono::milliseconds deadline,
                        const std::string& argument = "");

  // What the current (or last) executor reported about its lock-down.
  Protections protections() const;
  std::string device_name() const;
  // How many executors were started so far.
  uint64_t executor_starts() const;
  // The running executor's pid, or -1; readable while a unit runs.
  pid_t executor_pid() const { return pid_.load(); }

 private:
  Status start_locked();
  void kill_locked();
  // Sends a request and waits for its result frame; kills the executor on
  // deadline or protocol error and explains its death.
  Result<Frame> exchange_locked(Frame& request, std::chrono::milliseconds deadline);
  Status death_reason_locked(const std::string& context);

  const SupervisorOptions options_;
  mutable std::mutex mutex_;
  std::atomic<pid_t> pid_{-1};
  int channel_ = -1;
  double executor_cpu_seconds_ = 0;
  uint64_t next_id_ = 1;
  uint64_t starts_ = 0;
  Protections protections_;
  std::string device_name_;
};

}  // namespace p2c2r::sandbox
