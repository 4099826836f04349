// The peer's ServerLink over HTTPS: every request signed with the host's
// Ed25519 key (docs/protocol.md), the server's certificate pinned or checked
// against a CA. Safe to use from several threads: each call borrows one of a
// small pool of keep-alive connections.
#pragma once

#include <mutex>
#include <vector>

#include "common/http_client.h"
#include "peer/server_link.h"

namespace p2c2r::peer {

class HttpLink : public ServerLink {
 public:
  // `client_options` says where the server is and how it is trusted.
  HttpLink(http::ClientOptions client_options, const crypto::KeyPair& key, uint64_t host_id);

  Result<std::optional<wire::Assignment>> request_work(std::chrono::milliseconds wait) override;
  Result<Bytes> fetch_blob(const Digest& digest) override;
  Result<wire::ReportReply> report(const wire::Report& report) override;
  Status upload_output(uint64_t replica_id, ByteView output) override;
  // This host as the server sees it (reliability, credit).
  Result<wire::HostInfo> host_info();

 private:
  // A signed request on a pooled connection.
  Result<http::Response> call(std::string_view method, const std::string& path, ByteView body,
                              std::string_view content_type, std::chrono::milliseconds timeout);

  http::ClientOptions options_;
  const crypto::KeyPair& key_;
  uint64_t host_id_;
  std::mutex mutex_;
  std::vector<http::Client> idle_;
};

}  // namespace p2c2r::peer
