#include "sandbox/internal/seccomp_filter.h"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace p2c2r::sandbox::internal {
namespace {

// Measured with `strace -f -c p2c2r run ...` on lavapipe, plus what glibc's
// threads, abort(), the sanitizers and GPU drivers (ioctl on the render node)
// need. Anything else fails with ENOSYS — the answer glibc expects for a
// system call the kernel lacks, so callers fall back (clone3 → clone).
// clang-format off
constexpr const char* kAllowed[] = {
    // memory
    "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "mincore",
    // threads and synchronisation
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_getscheduler",
    "membarrier", "exit", "exit_group", "restart_syscall",
    // signals (kill and tgkill are limited to this process below)
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "rt_sigtimedwait",
    // already-open descriptors: the channel, stdio, the driver's files
    "read", "readv", "pread64", "preadv", "write", "writev", "close", "lseek", "fcntl", "dup",
    "dup3", "ioctl", "poll", "ppoll",
    // metadata lookups (Landlock bounds which paths they can reach)
    "fstat", "newfstatat", "statx", "stat", "lstat", "access", "faccessat", "faccessat2", "readlink",
    "readlinkat", "getdents64", "getcwd",
    // identity, time, randomness, accounting
    "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid",
    "getresgid", "getrandom", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
    "gettimeofday", "getrusage", "sysinfo", "uname", "times", "arch_prctl", "prctl", "getrlimit",
};

// Forbidden outright: a unit that reaches these is hostile or broken, and
// the executor dies with SIGSYS so the supervisor can say so.
constexpr const char* kKilled[] = {
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "sendmsg",
    "recvfrom", "recvmsg", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
    "fork", "vfork", "unshare", "setns", "mount", "pivot_root", "chroot", "bpf", "perf_event_open",
    "userfaultfd", "kexec_load", "init_module", "finit_module",
};
// clang-format on

struct CtxDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

Status add(scmp_filter_ctx ctx, uint32_t action, const char* name,
           std::initializer_list<scmp_arg_cmp> args = {}) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return Status::Ok();  // this architecture has no such call
  const int rc =
      seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.begin());
  if (rc != 0)
    return internal_error(std::string("seccomp rule for ") + name + ": " + std::strerror(-rc));
  return Status::Ok();
}

Status add_rules(scmp_filter_ctx ctx) {
  for (const char* name : kAllowed) P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ALLOW, name));
  for (const char* name : kKilled) P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_KILL_PROCESS, name));

  // Opening for reading only; any write, create, truncate or append is EPERM.
  constexpr scmp_datum_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
  P2C2R_RETURN_IF_ERROR(
      add(ctx, SCMP_ACT_ALLOW, "openat", {SCMP_A2(SCMP_CMP_MASKED_EQ, kWriteFlags, 0)}));
  P2C2R_RETURN_IF_ERROR(
      add(ctx, SCMP_ACT_ALLOW, "open", {SCMP_A1(SCMP_CMP_MASKED_EQ, kWriteFlags, 0)}));
  for (scmp_datum_t flag : {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND}) {
    P2C2R_RETURN_IF_ERROR(
        add(ctx, SCMP_ACT_ERRNO(EPERM), "openat", {SCMP_A2(SCMP_CMP_MASKED_EQ, flag, flag)}));
    P2C2R_RETURN_IF_ERROR(
        add(ctx, SCMP_ACT_ERRNO(EPERM), "open", {SCMP_A1(SCMP_CMP_MASKED_EQ, flag, flag)}));
  }
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ERRNO(EPERM), "creat"));
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ERRNO(EPERM), "openat2"));  // flags sit behind a pointer

  // Growing the driver's memory file (llvmpipe's memfd, opened before the
  // lockdown); never stdin/stdout/stderr, which may be the peer's log file.
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ALLOW, "ftruncate", {SCMP_A0(SCMP_CMP_GT, 2)}));
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ERRNO(EPERM), "ftruncate", {SCMP_A0(SCMP_CMP_LE, 2)}));

  // New threads only: clone without CLONE_THREAD would be a fork.
  P2C2R_RETURN_IF_ERROR(
      add(ctx, SCMP_ACT_ALLOW, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)}));
  P2C2R_RETURN_IF_ERROR(
      add(ctx, SCMP_ACT_KILL_PROCESS, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)}));

  // Reading limits, never raising them.
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ALLOW, "prlimit64", {SCMP_A2(SCMP_CMP_EQ, 0)}));
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ERRNO(EPERM), "prlimit64", {SCMP_A2(SCMP_CMP_NE, 0)}));
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ERRNO(EPERM), "setrlimit"));

  // Signals to this process only (abort(), raise(), sanitizers).
  const auto self = static_cast<scmp_datum_t>(getpid());
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ALLOW, "tgkill", {SCMP_A0(SCMP_CMP_EQ, self)}));
  P2C2R_RETURN_IF_ERROR(add(ctx, SCMP_ACT_ALLOW, "kill", {SCMP_A0(SCMP_CMP_EQ, self)}));
  return Status::Ok();
}

}  // namespace

Result<std::string> load_seccomp_filter() {
  Ctx ctx(seccomp_init(SCMP_ACT_ERRNO(ENOSYS)));
  if (!ctx) return internal_error("seccomp_init failed");
  // Every thread the driver started gets the filter too, atomically.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
    return internal_error(std::string("seccomp TSYNC: ") + std::strerror(-rc));
  }
  P2C2R_RETURN_IF_ERROR(add_rules(ctx.get()));
  if (int rc = seccomp_load(ctx.get()); rc != 0) {
    return internal_error(std::string("seccomp_load: ") + std::strerror(-rc));
  }
  return std::string(
      "on: allowlist; sockets, exec, ptrace, fork kill the process; opening for writing is EPERM; "
      "other calls ENOSYS");
}

}  // namespace p2c2r::sandbox::internal
