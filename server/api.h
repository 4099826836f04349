// The HTTP API's routes (docs/protocol.md), independent of the transport:
// one parsed request in, one Reply out through `respond` (possibly later, from
// another thread, once the change it announces is durable).
//
// Promises: every error is a 4xx/5xx with a JSON wire::Error body; a request
// refused for any reason (bad JSON, bad signature, unknown route, ...) changes
// nothing stored, except that a correctly signed request's nonce is spent.
#pragma once

#include <string>

#include "server/coordinator.h"

namespace p2c2r::server {

struct Request {
  std::string method;
  std::string target;                             // path and query, as sent (what a peer signs)
  std::string host, timestamp, nonce, signature;  // the X-P2C2R-* headers
  std::string authorization;                      // "Bearer <token>"
  std::string content_type;
  std::string body;
};

class Api {
 public:
  Api(Coordinator& coordinator, std::string admin_token)
      : coordinator_(coordinator), admin_token_(std::move(admin_token)) {}

  void handle(const Request& request, Respond respond);

 private:
  bool is_admin(const Request& r) const;
  Result<Coordinator::Auth> authenticate(const Request& r,
                                         const std::string* registering_key = nullptr);
  void admin_route(const Request& r, const std::string& path, Respond respond);

  Coordinator& coordinator_;
  std::string admin_token_;
};

}  // namespace p2c2r::server
