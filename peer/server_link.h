// What the peer needs from the server. peer/http_link.h implements it over
// HTTPS with signed requests; the work loop depends only on this.
#pragma once

#include <chrono>
#include <optional>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"
#include "common/wire.h"

namespace p2c2r::peer {

class ServerLink {
 public:
  virtual ~ServerLink() = default;
  // Long-polls for one assignment; nullopt when none arrived within `wait`.
  virtual Result<std::optional<wire::Assignment>> request_work(std::chrono::milliseconds wait) = 0;
  // An input blob of a replica this host was sent (the server checks that).
  virtual Result<Bytes> fetch_blob(const Digest& digest) = 0;
  // Reports a result. A report the server already has is kAlreadyExists,
  // which the peer treats as acknowledged.
  virtual Result<wire::ReportReply> report(const wire::Report& report) = 0;
  virtual Status upload_output(uint64_t replica_id, ByteView output) = 0;
};

}  // namespace p2c2r::peer
