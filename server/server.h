// A whole `p2c2r server` over one data directory: store, group commit,
// blobs, coordinator and the HTTPS API, opened in that order and stopped in
// the reverse one.
//
// Data directory (docs/operations.md): p2c2r.db (SQLite, WAL), blobs/,
// server.key (Ed25519, signs manifests), admin.token, tls.crt and tls.key
// (self-signed unless the operator gives their own). Missing secrets are
// created on first start with mode 0600; a secret file others can read is
// refused.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "common/result.h"

namespace p2c2r::server {

struct ServerOptions {
  std::string data_dir;
  std::string listen = "127.0.0.1:8765";  // host:port; port 0 picks a free one
  std::string tls_cert, tls_key;          // empty: the data dir's own (created if missing)
  unsigned threads = 2;
  uint32_t max_wait_ms = 30000;  // long-poll cap
  bool synchronous_full = true;  // fsync each commit (survive power loss, not only a crash)
  // Trusted re-execution (docs/validator.md): the Vulkan device the server
  // runs units on itself ("" = best; lavapipe where there is no GPU).
  bool trusted_device = true;
  std::string device;
};

class Server {
 public:
  // Opens (creating on first start) the data dir and starts serving; what it
  // created is described on `log`.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options, std::ostream& log);
  ~Server();

  uint16_t port() const;
  std::string url() const;
  const std::string& cert_file() const;
  const std::string& admin_token() const;
  // Graceful stop: long polls end with 204, in-flight requests finish, the
  // last group commit is flushed.
  void stop();

  struct Parts;

 private:
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// "host:port" -> (host, port); "[v6]:port" too.
Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& listen);

// Reads a secret text file (token), refusing one that group or others can read.
Result<std::string> read_secret(const std::string& path);

}  // namespace p2c2r::server
