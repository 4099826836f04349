// HTTPS transport for the API: Boost.Beast over Asio and OpenSSL.
//
// One session object per connection runs a read -> handle -> write loop
// (HTTP/1.1 keep-alive) on its own strand; a fixed pool of threads runs all
// sessions. The reply to a request may come later and from another thread
// (after a group commit, or when a long poll ends): it is posted back to the
// session's strand. Limits: headers 16 KiB, bodies max_body_bytes (uploads)
// or max_json_bytes (everything else), answered 413 with a JSON error;
// an idle or slow client is dropped after read_timeout.
//
// stop() stops accepting, lets every request already read finish and get
// its reply (bounded by drain_timeout), then closes the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "server/api.h"

namespace p2c2r::server {

struct HttpOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8765;  // 0: any free port (see HttpServer::port())
  std::string cert_file, key_file;
  unsigned threads = 2;
  uint64_t max_json_bytes = 1 << 20;
  uint64_t max_body_bytes = 64ull << 20;
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds drain_timeout{30000};
};

class HttpServer {
 public:
  // Binds and starts serving; an error if the address, port or TLS files are unusable.
  static Result<std::unique_ptr<HttpServer>> start(const HttpOptions& options, Api& api);
  ~HttpServer();

  uint16_t port() const;
  // Stops accepting, waits for in-flight requests to be answered, stops the threads.
  void stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace p2c2r::server
