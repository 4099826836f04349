// The executor's lock-down: the kernel-enforced walls around the process that
// runs work units.
//
// The order matters and is fixed by what the kernel and the drivers allow:
//   1. close_inherited_fds     single-threaded, before anything opens files
//   2. enter_network_namespace unshare(CLONE_NEWUSER|CLONE_NEWNET) needs a
//                              single-threaded caller, so before the driver
//                              starts its threads
//   3. restrict_filesystem     no_new_privs + Landlock; Landlock binds the
//                              calling thread and the threads it creates later,
//                              so it must come before the driver's threads too.
//                              Read-only to what Vulkan loads; only GPU render
//                              nodes (/dev/dri) may be opened read-write.
//   4. (the caller opens the Vulkan device: drivers open files and start
//      threads during initialisation)
//   5. finish_lockdown         clears the environment, sets rlimits, loads the
//                              seccomp allowlist on every thread (TSYNC).
// A protection the kernel does not offer (Landlock disabled, user namespaces
// forbidden in a container) is recorded in Protections, not fatal; seccomp,
// no_new_privs and rlimits are required and their failure is an error.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace p2c2r::sandbox {

// What the executor actually got; every field reads "on: ..." or
// "unavailable: <why>" so a supervisor can show it to the volunteer.
struct Protections {
  std::string fds;
  std::string network;
  std::string landlock;
  std::string no_new_privs;
  std::string environment;
  std::string rlimits;
  std::string seccomp;

  nlohmann::json to_json() const;
  static Protections from_json(const nlohmann::json& j);
};

struct LockdownOptions {
  uint64_t address_space_bytes = 0;  // RLIMIT_AS; 0 leaves it unlimited
  uint64_t cpu_seconds = 0;          // RLIMIT_CPU over the executor's life; 0 = unlimited
  uint32_t max_open_files = 64;      // RLIMIT_NOFILE
};

// Moves `channel_fd` to fd 3 and closes every fd above it; stdin/stdout/stderr
// (set up by the supervisor) stay. Returns the channel's new fd.
Result<int> close_inherited_fds(int channel_fd, Protections& protections);

// New user + network namespace (no interfaces but a down loopback). Never fails:
// when the kernel refuses, says so in protections.network.
void enter_network_namespace(Protections& protections);

// no_new_privs (required) then Landlock (recorded when unavailable).
Status restrict_filesystem(Protections& protections);

// Environment, rlimits and the seccomp filter; after the device is open.
Status finish_lockdown(const LockdownOptions& options, Protections& protections);

}  // namespace p2c2r::sandbox
