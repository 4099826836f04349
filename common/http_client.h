// An HTTPS client for the P2C2R API (libcurl), shared by the CLI, the peer
// and the dispatch benchmark.
//
// One Client keeps one connection alive across requests (HTTP/1.1
// keep-alive), so a peer's request -> report cycle costs no new handshake. A
// Client is not thread-safe: use one per thread.
//
// How the server is trusted, in order of preference:
//  - a CA bundle (`ca_file`): ordinary certificate verification, host name
//    included;
//  - a pinned public key (`pin`, "sha256//BASE64" of the certificate's
//    SubjectPublicKeyInfo): the connection is refused unless the server
//    presents exactly that key, whatever signed it. This is what a peer uses
//    after trust on first use (fetch_server_pin), like SSH's known_hosts;
//  - neither: the system CA store.
// Transport failures are kUnavailable; an HTTP error reply becomes the Status
// the server wrote (wire::Error), so a user sees the server's own words.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/crypto.h"
#include "common/result.h"

namespace p2c2r::http {

struct ClientOptions {
  std::string base_url;  // "https://127.0.0.1:8765"; "http://" is refused unless allow_plain_http
  std::string ca_file;
  std::string pin;           // "sha256//BASE64"
  std::string bearer_token;  // sent as "Authorization: Bearer ..." when not empty
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{60000};  // whole request, unless a request gives its own
  uint64_t max_response_bytes = 512ull << 20;
  bool allow_plain_http = false;  // tests of the plain-HTTP refusal only
};

struct Response {
  long status = 0;
  std::string content_type;
  std::string body;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Client {
 public:
  static Result<Client> create(ClientOptions options);
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // Any status code is a successful Result here; see ok_body() for errors.
  Result<Response> request(std::string_view method, std::string_view path, ByteView body = {},
                           std::string_view content_type = "application/json",
                           const Headers& headers = {},
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // A request signed with the host's key (common/crypto.h's headers).
  Result<Response> signed_request(const crypto::KeyPair& key, uint64_t host_id,
                                  std::string_view method, std::string_view path,
                                  ByteView body = {},
                                  std::string_view content_type = "application/json",
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  const ClientOptions& options() const { return options_; }

 private:
  struct Impl;
  explicit Client(ClientOptions options, std::unique_ptr<Impl> impl);
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

// The Status an error reply stands for: the server's wire::Error message and
// code when the body is one, otherwise the HTTP status and the body's start.
Status status_of(const Response& response);

// The body of a 2xx reply, or status_of(response) for anything else.
Result<std::string> ok_body(Result<Response> response);

// Connects once without verifying the certificate and returns the pin of the
// public key the server presented ("sha256//BASE64"): trust on first use.
Result<std::string> fetch_server_pin(
    const std::string& base_url,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// The pin of the public key in a PEM certificate file (for operators who
// want to pin their own certificate, and for the server to print).
Result<std::string> pin_of_certificate_file(const std::string& pem_path);

}  // namespace p2c2r::http
