#include "sandbox/lockdown.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sandbox/internal/seccomp_filter.h"

// Landlock rights newer than Debian 12's kernel headers; the values are kernel ABI.
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

namespace p2c2r::sandbox {
namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

constexpr uint64_t kReadRights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

// What the executor may reach by path once Landlock is on: the loader, the
// ICD and layer manifests, driver libraries and their configuration, CPU
// topology; and GPU render nodes, which a hardware driver opens read-write.
struct PathRule {
  const char* path;
  uint64_t rights;
};
constexpr PathRule kPathRules[] = {
    {"/usr", kReadRights},         {"/lib", kReadRights},
    {"/lib64", kReadRights},       {"/etc", kReadRights},
    {"/sys/devices", kReadRights}, {"/sys/dev", kReadRights},
    {"/proc/self", kReadRights},   {"/dev/dri", kReadRights | LANDLOCK_ACCESS_FS_WRITE_FILE},
};

// Every right of this ABI version is "handled", so anything not granted above
// (writing, creating, removing, executing, truncating) is denied everywhere.
uint64_t handled_rights(int abi) {
  uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  return rights;
}

std::string apply_landlock() {
  const long abi =
      syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0)
    return "unavailable: " + errno_text("landlock_create_ruleset") + " (kernel without Landlock)";
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = handled_rights(static_cast<int>(abi));
  Fd ruleset(static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)));
  if (ruleset.get() < 0) return "unavailable: " + errno_text("landlock_create_ruleset");
  std::string granted;
  for (const PathRule& rule : kPathRules) {
    Fd dir(::open(rule.path, O_PATH | O_CLOEXEC));
    if (dir.get() < 0) continue;  // e.g. no /lib64 or no GPU: nothing to grant
    landlock_path_beneath_attr beneath{};
    beneath.allowed_access = rule.rights & attr.handled_access_fs;
    beneath.parent_fd = dir.get();
    if (syscall(SYS_landlock_add_rule, ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) !=
        0) {
      return "unavailable: " + errno_text("landlock_add_rule");
    }
    granted += std::string(granted.empty() ? "" : " ") + rule.path;
  }
  if (syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    return "unavailable: " + errno_text("landlock_restrict_self");
  }
  return "on: ABI " + std::to_string(abi) + ", read-only " + granted +
         " (render nodes read-write), nothing else";
}

Status set_limit(int resource, const char* name, rlim_t value, std::string& summary) {
  const rlimit limit{value, value};
  if (setrlimit(resource, &limit) != 0)
    return internal_error(errno_text((std::string("setrlimit ") + name).c_str()));
  summary += std::string(summary.empty() ? "" : ", ") + name + "=" +
             (value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value));
  return Status::Ok();
}

}  // namespace

nlohmann::json Protections::to_json() const {
  return {{"fds", fds},
          {"network", network},
          {"landlock", landlock},
          {"no_new_privs", no_new_privs},
          {"environment", environment},
          {"rlimits", rlimits},
          {"seccomp", seccomp}};
}

Protections Protections::from_json(const nlohmann::json& j) {
  auto get = [&](const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                  : std::string("unknown");
  };
  return {get("fds"),         get("network"), get("landlock"), get("no_new_privs"),
          get("environment"), get("rlimits"), get("seccomp")};
}

Result<int> close_inherited_fds(int channel_fd, Protections& protections) {
  constexpr int kChannel = 3;
  if (channel_fd < 0) return invalid_argument("bad channel fd " + std::to_string(channel_fd));
  if (channel_fd != kChannel) {
    if (::dup2(channel_fd, kChannel) < 0) return internal_error(errno_text("dup2 of the channel"));
  }
  if (close_range(kChannel + 1, ~0u, 0) != 0) return internal_error(errno_text("close_range"));
  protections.fds = "on: only stdin/stdout/stderr and the channel are open";
  return kChannel;
}

void enter_network_namespace(Protections& protections) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
    protections.network = "on: new user and network namespace (no interfaces)";
    return;
  }
  const std::string user_error = errno_text("unshare(CLONE_NEWUSER|CLONE_NEWNET)");
  // Root without user namespaces (some containers) can still get a network namespace.
  if (unshare(CLONE_NEWNET) == 0) {
    protections.network = "on: new network namespace (no interfaces)";
    return;
  }
  protections.network = "unavailable: " + user_error + "; " + errno_text("unshare(CLONE_NEWNET)") +
                        " (sockets are still refused by seccomp)";
}

Status restrict_filesystem(Protections& protections) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return internal_error(errno_text("prctl(PR_SET_NO_NEW_PRIVS)"));
  protections.no_new_privs = "on";
  protections.landlock = apply_landlock();
  return Status::Ok();
}

Status finish_lockdown(const LockdownOptions& options, Protections& protections) {
  // The supervisor already started us with a minimal environment; what the
  // driver needed is read, so nothing of it stays reachable to a unit.
  if (clearenv() != 0) return internal_error("clearenv failed");
  protections.environment = "on: cleared after the device was opened";

  // RLIMIT_FSIZE also bounds memfds, and Mesa 24+ llvmpipe backs all device
  // memory with one it grows by ftruncate: a limit of 0 made every buffer
  // allocation a SIGBUS. Files cannot be opened for writing (seccomp,
  // Landlock), so the limit only bounds the driver's memory file and an
  // inherited stderr; it is the address-space limit. Past it, a write fails
  // with EFBIG rather than killing the executor.
  signal(SIGXFSZ, SIG_IGN);
  std::string limits;
  const rlim_t file_size =
      options.address_space_bytes > 0 ? options.address_space_bytes : RLIM_INFINITY;
  P2C2R_RETURN_IF_ERROR(set_limit(RLIMIT_FSIZE, "fsize", file_size, limits));
  P2C2R_RETURN_IF_ERROR(set_limit(RLIMIT_CORE, "core", 0, limits));
  P2C2R_RETURN_IF_ERROR(set_limit(RLIMIT_NOFILE, "nofile", options.max_open_files, limits));
  if (options.cpu_seconds > 0)
    P2C2R_RETURN_IF_ERROR(set_limit(RLIMIT_CPU, "cpu", options.cpu_seconds, limits));
  if (options.address_space_bytes > 0) {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer's shadow memory already takes terabytes of address space.
    limits += ", as=not applied (AddressSanitizer build)";
#else
    P2C2R_RETURN_IF_ERROR(set_limit(RLIMIT_AS, "as", options.address_space_bytes, limits));
#endif
  }
  protections.rlimits = "on: " + limits;

  P2C2R_ASSIGN_OR_RETURN(protections.seccomp, internal::load_seccomp_filter());
  return Status::Ok();
}

}  // namespace p2c2r::sandbox
