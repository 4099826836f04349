// Test probes: each tries one thing the sandbox must stop. Reachable only
// through an executor started with --allow-test-probes (see executor.h).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/executor.h"

namespace p2c2r::sandbox {
namespace {

Status refused(const char* what) { return permission_denied(std::string(what) + ": " + std::strerror(errno)); }

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

// Maps and touches memory in 64 MiB steps up to twice the address-space limit.
Status probe_memory() {
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return failed_precondition("memory probe: no address-space limit is set, refusing to exhaust the machine");
  }
  constexpr size_t kStep = 64u << 20;
  for (uint64_t total = 0; total <= 2 * static_cast<uint64_t>(limit.rlim_cur); total += kStep) {
    void* p = mmap(nullptr, kStep, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      return resource_exhausted("mmap after " + std::to_string(total >> 20) + " MiB: " + std::strerror(errno));
    }
    std::memset(p, 0xA5, kStep);  // touch it, so it is real memory; deliberately never unmapped
  }
  return Status::Ok();
}

[[noreturn]] void probe_spin() {
  volatile uint64_t counter = 0;
  for (;;) counter = counter + 1;
}

}  // namespace

Status run_test_probe(const std::string& probe) {
  if (probe == "socket") return probe_socket();
  if (probe == "open_write") return probe_open_write();
  if (probe == "exec") return probe_exec();
  if (probe == "memory") return probe_memory();
  if (probe == "spin") probe_spin();
  return invalid_argument("unknown test probe '" + probe + "' (socket, open_write, exec, memory, spin)");
}

}  // namespace p2c2r::sandbox
