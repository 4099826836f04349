// A real `p2c2r server` child process on 127.0.0.1, an ephemeral port and a
// given data dir. The destructor kills it (SIGKILL) if it is still running,
// so no test leaves a server behind.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/http_client.h"

namespace p2c2r::testing {

class ServerProcess {
 public:
  explicit ServerProcess(std::string data_dir, std::vector<std::string> extra = {})
      : data_dir_(std::move(data_dir)) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<std::string> args = {P2C2R_BINARY, "server",   "--data-dir",
                                       data_dir_,    "--listen", "127.0.0.1:0"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
    read_until_listening();
  }
  ~ServerProcess() {
    kill(SIGKILL);
    if (out_ >= 0) ::close(out_);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& url() const { return url_; }
  const std::string& output() const { return output_; }
  std::string cert() const { return data_dir_ + "/tls.crt"; }
  std::string token() const {
    std::string t = read_file(data_dir_ + "/admin.token");
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t;
  }

  // Sends `signal` and waits for the process; returns its exit status (-1 if already gone).
  int kill(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    drain();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  http::Client admin_client() const {
    return std::move(
        http::Client::create({.base_url = url_, .ca_file = cert(), .bearer_token = token()})
            .value());
  }
  http::Client client() const {
    return std::move(http::Client::create({.base_url = url_, .ca_file = cert()}).value());
  }

 private:
  static std::string read_file(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return "";
    std::string s;
    char buf[256];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
  }

  // Reads stdout (bounded by 60 s) until the "listening on URL" line.
  void read_until_listening() {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
      const auto pos = output_.find("listening on ");
      if (pos != std::string::npos) {
        const auto end = output_.find('\n', pos);
        if (end != std::string::npos) {
          url_ = output_.substr(pos + 13, end - pos - 13);
          return;
        }
      }
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      char buf[1024];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<size_t>(n));
    }
    throw std::runtime_error("p2c2r server did not start: " + output_);
  }
  void drain() {
    char buf[1024];
    pollfd p{out_, POLLIN, 0};
    while (::poll(&p, 1, 0) > 0) {
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<size_t>(n));
    }
  }

  std::string data_dir_, url_, output_;
  pid_t pid_ = -1;
  int out_ = -1;
};

}  // namespace p2c2r::testing
