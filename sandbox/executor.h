// The executor: the locked-down child process that runs work units for one
// Vulkan device. `p2c2r executor` (started only by the Supervisor) calls
// run_executor.
//
// It opens the device first (drivers open files and start threads while
// initialising), locks itself down (sandbox/lockdown.h), sends a hello frame
// listing the protections it got, then serves unit frames one at a time until
// the channel closes. It runs only kernels of the built-in registry, after
// Kernel::resolve_params and check_inputs, and every shader passes SPIR-V
// validation and the interface check inside Device::run.
//
// Test probes (socket, open_write, exec, memory, read, unfiltered_thread,
// spin, crash) deliberately attempt
// what the sandbox forbids. They are honoured only when the executor was
// started with --allow-test-probes (ExecutorOptions::allow_test_probes);
// otherwise a probe frame gets a permission-denied error. Production code
// never sets it.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "sandbox/lockdown.h"

namespace p2c2r::sandbox {

struct ExecutorOptions {
  std::string device;   // as for --device: "" = best, index, or name substring
  int channel_fd = -1;  // the socketpair end from the supervisor
  LockdownOptions lockdown;
  bool allow_test_probes = false;
};

// Serves units until the channel closes; returns the process exit code.
int run_executor(const ExecutorOptions& options);

// Runs one test probe by name; ok means the forbidden action SUCCEEDED (the
// sandbox leaked), an error says how it was refused. Only run_executor calls
// it, and only with allow_test_probes.
Status run_test_probe(const std::string& probe, const std::string& argument);

}  // namespace p2c2r::sandbox
