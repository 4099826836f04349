#include "peer/http_link.h"

namespace p2c2r::peer {

using namespace std::chrono_literals;

HttpLink::HttpLink(http::ClientOptions client_options, const crypto::KeyPair& key, uint64_t host_id)
    : options_(std::move(client_options)), key_(key), host_id_(host_id) {}

Result<http::Response> HttpLink::call(std::string_view method, const std::string& path,
                                      ByteView body, std::string_view content_type,
                                      std::chrono::milliseconds timeout) {
  std::optional<http::Client> client;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      client.emplace(std::move(idle_.back()));
      idle_.pop_back();
    }
  }
  if (!client) {
    P2C2R_ASSIGN_OR_RETURN(auto fresh, http::Client::create(options_));
    client.emplace(std::move(fresh));
  }
  auto response = client->signed_request(key_, host_id_, method, path, body, content_type, timeout);
  // A connection that failed is dropped rather than reused.
  if (response.ok()) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(*client));
  }
  return response;
}

Result<std::optional<wire::Assignment>> HttpLink::request_work(std::chrono::milliseconds wait) {
  const std::string body = wire::serialize(wire::WorkRequest{static_cast<uint32_t>(wait.count())});
  // The server holds a long poll up to `wait`; allow that plus the round trip.
  P2C2R_ASSIGN_OR_RETURN(http::Response r,
                         call("POST", "/v1/work", bytes_of(body), "application/json", wait + 15s));
  if (r.status == 204) return std::optional<wire::Assignment>();
  P2C2R_RETURN_IF_ERROR(http::status_of(r).with_context("request work"));
  auto assignment = wire::parse<wire::Assignment>(r.body);
  if (!assignment.ok()) return assignment.status().with_context("the server's assignment");
  return std::optional<wire::Assignment>(std::move(assignment.value()));
}

Result<Bytes> HttpLink::fetch_blob(const Digest& digest) {
  const std::string hex = digest.hex();
  P2C2R_ASSIGN_OR_RETURN(http::Response r, call("GET", "/v1/blobs/" + hex, {}, "", 0ms));
  P2C2R_RETURN_IF_ERROR(http::status_of(r).with_context("fetch blob " + hex));
  Bytes data(r.body.begin(), r.body.end());
  if (digest_of(data) != digest)
    return invalid_argument("the server sent blob " + hex +
                            " with different bytes (digest mismatch)");
  return data;
}

Result<wire::ReportReply> HttpLink::report(const wire::Report& report) {
  const std::string body = wire::serialize(report);
  P2C2R_ASSIGN_OR_RETURN(http::Response r,
                         call("POST", "/v1/reports", bytes_of(body), "application/json", 0ms));
  P2C2R_RETURN_IF_ERROR(
      http::status_of(r).with_context("report replica " + std::to_string(report.replica_id)));
  return wire::parse<wire::ReportReply>(r.body);
}

Status HttpLink::upload_output(uint64_t replica_id, ByteView output) {
  const std::string path = "/v1/replicas/" + std::to_string(replica_id) + "/output";
  P2C2R_ASSIGN_OR_RETURN(http::Response r,
                         call("PUT", path, output, "application/octet-stream", 0ms));
  return http::status_of(r).with_context("upload output of replica " + std::to_string(replica_id));
}

Result<wire::HostInfo> HttpLink::host_info() {
  P2C2R_ASSIGN_OR_RETURN(http::Response r,
                         call("GET", "/v1/hosts/" + std::to_string(host_id_), {}, "", 0ms));
  P2C2R_RETURN_IF_ERROR(http::status_of(r).with_context("host info"));
  return wire::parse<wire::HostInfo>(r.body);
}

}  // namespace p2c2r::peer
