// A real `p2c2r peer` child process with its own state dir, talking to a
// test server. The destructor kills it (SIGKILL) if it is still running, so
// no test leaves a peer behind; its stderr goes to <state dir>.log.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace p2c2r::testing {

struct PeerConfig {
  std::string server_url;
  std::string pin;
  std::string state_dir;
  std::string benchmark_file;
  std::string name = "peer";
  std::vector<std::string> extra;  // more flags, e.g. --test-corrupt-outputs
};

class PeerProcess {
 public:
  explicit PeerProcess(PeerConfig config) : config_(std::move(config)) { start(); }
  ~PeerProcess() { kill(SIGKILL); }
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  // Starts the peer again on the same state dir (after kill()).
  void start() {
    if (pid_ > 0) throw std::logic_error("peer already running");
    std::vector<std::string> args = {P2C2R_BINARY,
                                     "peer",
                                     "--server",
                                     config_.server_url,
                                     "--pin",
                                     config_.pin,
                                     "--state-dir",
                                     config_.state_dir,
                                     "--benchmark-file",
                                     config_.benchmark_file,
                                     "--name",
                                     config_.name,
                                     "--poll-wait-ms",
                                     "500"};
    args.insert(args.end(), config_.extra.begin(), config_.extra.end());
    const std::string log = log_path();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }

  // Sends `signal` and waits for the process; returns its exit status (-1 if not running).
  int kill(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // Stops the process (SIGSTOP) and waits until all its threads have
  // stopped, so that what it wrote stays as it is until thaw() or kill().
  void freeze() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGSTOP);
    int status = 0;
    while (::waitpid(pid_, &status, WUNTRACED) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) pid_ = -1;  // it died meanwhile
  }
  void thaw() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }

  // Whether the process has exited on its own (reaps it if so).
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }

  // The peer's status.json, or null while it has not written one yet.
  nlohmann::json status() const {
    std::ifstream in(config_.state_dir + "/status.json");
    if (!in) return nullptr;
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }

  std::string log() const {
    std::ifstream in(log_path());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  const std::string& state_dir() const { return config_.state_dir; }

 private:
  std::string log_path() const { return config_.state_dir + ".log"; }
  PeerConfig config_;
  pid_t pid_ = -1;
};

}  // namespace p2c2r::testing
