#include "peer/join.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "peer/journal.h"

namespace p2c2r::peer {
namespace fs = std::filesystem;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ServerRecord, url, pin, ca_file, host_id, server_public_key)

namespace {

std::string machine_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "peer";
  return buf;
}

Status make_private_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return unavailable("cannot create state dir " + dir + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0)
    return unavailable("cannot make " + dir + " private: " + std::strerror(errno));
  return Status::Ok();
}

std::string normalise_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

wire::DeviceCaps device_caps(const runtime::HostBenchmark& benchmark) {
  wire::DeviceCaps caps;
  caps.name = benchmark.device_name;
  caps.memory_bytes = benchmark.device_memory_bytes;
  caps.features.push_back("type:" + benchmark.device_type);
  for (const auto& k : benchmark.kernels) {
    // A kernel whose output did not match its reference here is not offered.
    if (!k.matches_reference) continue;
    caps.kernels.push_back({k.kernel, k.version, k.seconds_per_unit});
  }
  return caps;
}

Result<crypto::KeyPair> load_or_create_identity(const std::string& state_dir) {
  P2C2R_RETURN_IF_ERROR(make_private_dir(state_dir));
  const std::string path = state_dir + "/host.key";
  if (fs::exists(path)) {
    auto key = crypto::KeyPair::load(path);
    if (!key.ok()) return key.status().with_context("host identity");
    return key;
  }
  crypto::KeyPair key = crypto::KeyPair::generate();
  P2C2R_RETURN_IF_ERROR(key.save(path).with_context("host identity"));
  return key;
}

Result<ServerRecord> read_server_record(const std::string& state_dir) {
  const std::string path = state_dir + "/server.json";
  auto bytes = read_file(path);
  if (!bytes.ok()) return not_found("this peer has not joined a server yet (no " + path + ")");
  auto json = nlohmann::json::parse(bytes.value().begin(), bytes.value().end(), nullptr, false);
  try {
    if (json.is_discarded()) throw std::runtime_error("not JSON");
    return json.get<ServerRecord>();
  } catch (const std::exception& e) {
    return invalid_argument(path + " is damaged (" + e.what() + "); remove it to join afresh");
  }
}

Result<Joined> join(const JoinOptions& options, const runtime::HostBenchmark& benchmark) {
  P2C2R_ASSIGN_OR_RETURN(crypto::KeyPair key, load_or_create_identity(options.state_dir));
  const std::string url = normalise_url(options.server_url);

  ServerRecord record;
  auto previous = read_server_record(options.state_dir);
  if (previous.ok()) {
    record = previous.value();
    if (normalise_url(record.url) != url)
      return failed_precondition("state dir " + options.state_dir + " belongs to server " +
                                 record.url + ", not " + url +
                                 "; use another --state-dir for another server");
  } else if (previous.status().code() != Code::kNotFound) {
    return previous.status();
  }
  record.url = url;

  // How the server is trusted: flags first, then what was pinned before,
  // then trust on first use.
  if (!options.ca_file.empty()) {
    record.ca_file = options.ca_file;
    record.pin.clear();
  } else if (!options.pin.empty()) {
    if (!record.pin.empty() && record.pin != options.pin)
      options.log("replacing the saved certificate pin with the one given by --pin");
    record.pin = options.pin;
    record.ca_file.clear();
  } else if (record.pin.empty() && record.ca_file.empty()) {
    auto pin = http::fetch_server_pin(url);
    if (!pin.ok()) return pin.status().with_context("first contact with the server");
    record.pin = pin.value();
    options.log("trusting the server's certificate key " + record.pin +
                " on first use (pinned in server.json)");
  }

  http::ClientOptions client{.base_url = url, .ca_file = record.ca_file, .pin = record.pin};
  P2C2R_ASSIGN_OR_RETURN(http::Client http, http::Client::create(client));
  wire::RegisterHost req{key.public_key().hex(),
                         options.name.empty() ? machine_name() : options.name,
                         device_caps(benchmark)};
  const std::string body = wire::serialize(req);
  auto reply = http::ok_body(http.signed_request(key, 0, "POST", "/v1/hosts", bytes_of(body)));
  if (!reply.ok()) return reply.status().with_context("registering with " + url);
  auto registered = wire::parse<wire::Registered>(reply.value());
  if (!registered.ok()) return registered.status().with_context("the server's registration reply");
  auto server_key = crypto::PublicKey::from_hex(registered.value().server_public_key);
  if (!server_key.ok()) return server_key.status().with_context("the server's public key");
  if (!record.server_public_key.empty() &&
      record.server_public_key != registered.value().server_public_key)
    return permission_denied("the server at " + url + " now signs with key " +
                             registered.value().server_public_key + ", not the pinned " +
                             record.server_public_key +
                             "; refusing its work (remove server.json to rejoin)");
  if (record.host_id != 0 && record.host_id != registered.value().host_id)
    options.log("the server gave this host a new id: " +
                std::to_string(registered.value().host_id));
  record.host_id = registered.value().host_id;
  record.server_public_key = registered.value().server_public_key;
  const std::string text = nlohmann::json(record).dump(2) + "\n";
  P2C2R_RETURN_IF_ERROR(write_file_durably(options.state_dir + "/server.json", bytes_of(text)));
  return Joined{std::move(key), std::move(record), server_key.value(), std::move(client)};
}

}  // namespace p2c2r::peer
