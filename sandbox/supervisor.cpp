#include "sandbox/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace p2c2r::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// The executor's environment: only what selects and configures the Vulkan
// driver (and the sanitizers of a sanitizer build); never HOME, tokens or
// paths of the peer's state. Mesa's on-disk shader cache is turned off:
// nothing is writable inside the sandbox.
std::vector<std::string> executor_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string var = *e;
    if (starts_with(var, "MESA_SHADER_CACHE") || starts_with(var, "MESA_DISK_CACHE")) continue;
    if (starts_with(var, "VK_") || starts_with(var, "LP_") || starts_with(var, "MESA_") ||
        starts_with(var, "GALLIUM_") || starts_with(var, "LD_LIBRARY_PATH=") ||
        starts_with(var, "UBSAN_OPTIONS=")) {
      env.push_back(var);
    }
  }
  env.push_back("MESA_SHADER_CACHE_DISABLE=true");
#if defined(__SANITIZE_ADDRESS__)
  // LeakSanitizer's exit-time check and the external symbolizer fork (and
  // LSan ptraces), which the seccomp filter kills; leaks are checked in the
  // unsandboxed tests instead, and reports carry raw addresses.
  const char* asan = std::getenv("ASAN_OPTIONS");
  env.push_back(std::string("ASAN_OPTIONS=") + (asan ? std::string(asan) + ":" : "") +
                "detect_leaks=0:symbolize=0");
#endif
  return env;
}

std::string signal_text(int sig) {
  switch (sig) {
    case SIGSYS:
      return "killed by seccomp (SIGSYS): the executor made a forbidden system call";
    case SIGXCPU:
      return "exceeded its CPU time limit (SIGXCPU)";
    case SIGKILL:
      return "killed by SIGKILL (the out-of-memory killer or the CPU time hard limit)";
    default:
      return std::string("killed by signal ") + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
}

Code signal_code(int sig) {
  if (sig == SIGSYS) return Code::kPermissionDenied;
  if (sig == SIGXCPU || sig == SIGKILL) return Code::kResourceExhausted;
  return Code::kInternal;
}

// The spawned executor's file actions: the channel at fd 3, stdin and stdout
// on /dev/null, stderr where the options say.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

Supervisor::Supervisor(SupervisorOptions options) : options_(std::move(options)) {}

Supervisor::~Supervisor() {
  std::lock_guard lock(mutex_);
  kill_locked();
}

Status Supervisor::start() {
  std::lock_guard lock(mutex_);
  return pid_ > 0 ? Status::Ok() : start_locked();
}

Protections Supervisor::protections() const {
  std::lock_guard lock(mutex_);
  return protections_;
}

std::string Supervisor::device_name() const {
  std::lock_guard lock(mutex_);
  return device_name_;
}

uint64_t Supervisor::executor_starts() const {
  std::lock_guard lock(mutex_);
  return starts_;
}

Status Supervisor::start_locked() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return internal_error(std::string("socketpair: ") + std::strerror(errno));
  }
  // The child's end goes to fd 3 through dup2, which clears close-on-exec;
  // keep it off 3 itself so that the dup2 is never a no-op.
  int child_end = fds[1];
  if (child_end == 3) {
    child_end = fcntl(fds[1], F_DUPFD_CLOEXEC, 4);
    ::close(fds[1]);
  }
  std::vector<std::string> args = {options_.binary,
                                   "executor",
                                   "--fd",
                                   "3",
                                   "--device",
                                   options_.device,
                                   "--address-space-mb",
                                   std::to_string(options_.address_space_bytes >> 20),
                                   "--cpu-seconds",
                                   std::to_string(options_.cpu_seconds)};
  if (options_.allow_test_probes) args.push_back("--allow-test-probes");
  std::vector<std::string> env = executor_environment();
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  FileActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(actions.get(), 1, "/dev/null", O_WRONLY, 0);
  if (options_.stderr_fd >= 0) {
    posix_spawn_file_actions_adddup2(actions.get(), options_.stderr_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(actions.get(), 2, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(actions.get(), child_end, 3);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, options_.binary.c_str(), actions.get(), nullptr, argv.data(), envp.data());
  ::close(child_end);
  if (rc != 0) {
    ::close(fds[0]);
    return internal_error("cannot start the executor " + options_.binary + ": " +
                          std::strerror(rc));
  }
  pid_ = pid;
  channel_ = fds[0];
  executor_cpu_seconds_ = 0;
  ++starts_;

  auto hello = read_frame(channel_, {}, Clock::now() + options_.start_timeout);
  if (!hello.ok()) {
    if (hello.status().code() == Code::kDeadlineExceeded) {
      kill_locked();
      return deadline_exceeded("the executor did not start within the start timeout");
    }
    return death_reason_locked("the executor failed to start");
  }
  const auto& h = hello->header;
  if (h["type"] == "fatal") {
    const std::string message =
        h.contains("message") && h["message"].is_string() ? h["message"].get<std::string>() : "";
    kill_locked();
    return internal_error("the executor failed to start: " + message);
  }
  if (h["type"] != "hello") {
    kill_locked();
    return internal_error("the executor sent a " + h["type"].get<std::string>() +
                          " frame instead of hello");
  }
  protections_ =
      Protections::from_json(h.contains("protections") ? h["protections"] : nlohmann::json());
  device_name_ =
      h.contains("device") && h["device"].is_string() ? h["device"].get<std::string>() : "";
  return Status::Ok();
}

void Supervisor::kill_locked() {
  if (channel_ >= 0) ::close(channel_);
  channel_ = -1;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

Status Supervisor::death_reason_locked(const std::string& context) {
  // SIGKILL cannot change the status of a process that is already exiting,
  // so this reports how it really died; a live one (it closed the channel or
  // sent garbage) is ended here.
  if (channel_ >= 0) ::close(channel_);
  channel_ = -1;
  const pid_t pid = pid_.exchange(-1);
  if (pid <= 0) return internal_error(context + ": no executor");
  ::kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return internal_error(context + ": waitpid: " + std::strerror(errno));
  }
  if (WIFSIGNALED(status)) {
    return Status(signal_code(WTERMSIG(status)),
                  context + ": the executor was " + signal_text(WTERMSIG(status)));
  }
  return internal_error(context + ": the executor exited with status " +
                        std::to_string(WEXITSTATUS(status)));
}

Result<Frame> Supervisor::exchange_locked(Frame& request, std::chrono::milliseconds deadline) {
  // An executor that died while idle is replaced; that death is no unit's fault.
  if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    kill_locked();
  }
  if (pid_ > 0 && options_.cpu_seconds > 0 && executor_cpu_seconds_ > options_.cpu_seconds / 2.0)
    kill_locked();
  if (pid_ <= 0) P2C2R_RETURN_IF_ERROR(start_locked());
  const uint64_t id = next_id_++;
  request.header["id"] = id;
  if (Status s = write_frame(channel_, request); !s.ok()) {
    // Usually the executor died after its previous unit; the kill reveals how.
    return death_reason_locked("sending the unit");
  }
  auto reply = read_frame(channel_, {}, Clock::now() + deadline);
  if (!reply.ok()) {
    if (reply.status().code() == Code::kDeadlineExceeded) {
      kill_locked();
      return deadline_exceeded("the unit did not finish within its deadline of " +
                               std::to_string(deadline.count()) +
                               " ms; the executor was killed and will be restarted");
    }
    if (reply.status().code() == Code::kUnavailable) return death_reason_locked("running the unit");
    Status bad = reply.status();
    kill_locked();
    return bad.with_context("the executor sent a malformed frame and was killed");
  }
  const auto& h = reply->header;
  if (h.contains("cpu_seconds") && h["cpu_seconds"].is_number())
    executor_cpu_seconds_ = h["cpu_seconds"].get<double>();
  if (h["type"] != "result" || !h.contains("id") || h["id"] != id) {
    kill_locked();
    return internal_error("the executor answered out of turn; it was killed");
  }
  if (!h.contains("status") || h["status"] != "ok") return status_from_json(h);
  return std::move(*reply);
}

Result<UnitOutcome> Supervisor::run(const Unit& unit) {
  std::lock_guard lock(mutex_);
  Frame request;
  request.header = {{"type", "unit"},
                    {"kernel", unit.kernel},
                    {"version", unit.version},
                    {"seed", unit.seed},
                    {"params", unit.params},
                    {"local_size", unit.local_size},
                    {"timeout_ms", unit.deadline.count()}};
  request.blobs = unit.inputs;
  P2C2R_ASSIGN_OR_RETURN(Frame reply, exchange_locked(request, unit.deadline));
  const auto& h = reply.header;
  if (reply.blobs.size() != 1 || !h.contains("digest") || !h["digest"].is_string()) {
    return internal_error("the executor's result lacks its output or digest");
  }
  UnitOutcome outcome;
  outcome.output = std::move(reply.blobs[0]);
  outcome.digest = digest_of(outcome.output);
  if (outcome.digest.hex() != h["digest"].get<std::string>()) {
    return internal_error("the executor's digest does not match the output it sent");
  }
  auto number = [&](const char* key) {
    return h.contains(key) && h[key].is_number() ? h[key].get<double>() : 0.0;
  };
  outcome.stats.gpu_seconds = number("gpu_seconds");
  outcome.stats.wall_seconds = number("wall_seconds");
  outcome.stats.dispatches = static_cast<uint32_t>(number("dispatches"));
  return outcome;
}

Status Supervisor::run_test_probe(const std::string& probe, std::chrono::milliseconds deadline,
                                  const std::string& argument) {
  std::lock_guard lock(mutex_);
  Frame request;
  request.header = {{"type", "probe"}, {"probe", probe}, {"argument", argument}};
  return exchange_locked(request, deadline).status();
}

}  // namespace p2c2r::sandbox
