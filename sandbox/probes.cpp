// Test probes: each tries one thing the sandbox must stop. Reachable only
// through an executor started with --allow-test-probes (see executor.h).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "sandbox/executor.h"

namespace p2c2r::sandbox {
namespace {

Status refused(const char* what) {
  return permission_denied(std::string(what) + ": " + std::strerror(errno));
}

Status probe_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return refused("socket");
  ::close(fd);
  return Status::Ok();
}

Status probe_open_write() {
  const int fd = ::open("/tmp/p2c2r-sandbox-probe", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return refused("open for writing");
  ::close(fd);
  ::unlink("/tmp/p2c2r-sandbox-probe");
  return Status::Ok();
}

Status probe_exec() {
  char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
  char* const envp[] = {nullptr};
  ::execve("/bin/true", argv, envp);
  return refused("execve");
}

// Maps and touches memory in 64 MiB steps up to twice the address-space
// limit, then gives it all back so the executor stays usable.
Status probe_memory() {
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return failed_precondition(
        "memory probe: no address-space limit is set, refusing to exhaust the machine");
  }
  constexpr size_t kStep = 64u << 20;
  std::vector<void*> mappings;
  Status status = Status::Ok();
  for (uint64_t total = 0; total <= 2 * static_cast<uint64_t>(limit.rlim_cur); total += kStep) {
    void* p = mmap(nullptr, kStep, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      status = resource_exhausted("mmap after " + std::to_string(total >> 20) +
                                  " MiB: " + std::strerror(errno));
      break;
    }
    mappings.push_back(p);
    std::memset(p, 0xA5, kStep);  // touch it, so it is real memory
  }
  for (void* p : mappings) munmap(p, kStep);
  return status;
}

// Opens `path` for reading; Landlock should refuse anything outside the
// read-only list (lockdown.cpp).
Status probe_read(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return refused(("open " + path + " for reading").c_str());
  ::close(fd);
  return Status::Ok();
}

// Every thread, including those the driver started before the filter was
// loaded, must run under seccomp (TSYNC). Ok = some thread escaped.
Status probe_unfiltered_thread() {
  DIR* tasks = opendir("/proc/self/task");
  if (!tasks) return refused("opendir /proc/self/task");
  int threads = 0;
  std::string escaped;
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream status(std::string("/proc/self/task/") + entry->d_name + "/status");
    std::string line;
    bool filtered = false;
    while (std::getline(status, line)) filtered = filtered || line == "Seccomp:\t2";
    ++threads;
    if (!filtered) escaped += std::string(" ") + entry->d_name;
  }
  closedir(tasks);
  if (!escaped.empty()) return Status::Ok();
  return permission_denied("all " + std::to_string(threads) +
                           " threads run under the seccomp filter");
}

[[noreturn]] void probe_spin() {
  volatile uint64_t counter = 0;
  for (;;) counter = counter + 1;
}

}  // namespace

Status run_test_probe(const std::string& probe, const std::string& argument) {
  if (probe == "socket") return probe_socket();
  if (probe == "open_write") return probe_open_write();
  if (probe == "exec") return probe_exec();
  if (probe == "memory") return probe_memory();
  if (probe == "read") return probe_read(argument);
  if (probe == "unfiltered_thread") return probe_unfiltered_thread();
  if (probe == "spin") probe_spin();
  if (probe == "crash") raise(SIGSEGV);
  return invalid_argument(
      "unknown test probe '" + probe +
      "' (socket, open_write, exec, memory, read, unfiltered_thread, spin, crash)");
}

}  // namespace p2c2r::sandbox
