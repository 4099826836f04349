// Joining a server: the host's identity, how the server is trusted, the
// benchmark the host registers with, all kept in the peer's state dir.
//
// State dir layout (docs/operations.md):
//   host.key         the host's Ed25519 secret key (mode 0600), made on first run
//   server.json      the server this state dir belongs to: URL, certificate
//                    pin or CA file, host id, the server's signing key
//   benchmark.json   the last host benchmark, reused while it still describes
//                    the device and driver
//   journal/, cache/ results waiting to be reported, input blobs
//   status.json      what the running peer is doing (for `p2c2r peer status`)
//
// Trust: a CA file or a pin given by flag wins; otherwise the pin saved on
// first contact (trust on first use). A server that later presents another
// key, or signs with another Ed25519 key, is refused, loudly.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/crypto.h"
#include "common/http_client.h"
#include "common/result.h"
#include "common/wire.h"
#include "runtime/benchmark.h"

namespace p2c2r::peer {

struct ServerRecord {
  std::string url;
  std::string pin;      // "sha256//..." when trusted by pin
  std::string ca_file;  // when trusted by CA
  uint64_t host_id = 0;
  std::string server_public_key;  // hex
};

struct JoinOptions {
  std::string state_dir;
  std::string server_url;
  std::string ca_file;  // flag: verify the server against this CA bundle
  std::string pin;      // flag: expect this public-key pin
  std::string name;     // shown in host lists; default: the machine's host name
  std::function<void(const std::string&)> log = [](const std::string&) {};
};

struct Joined {
  crypto::KeyPair key;
  ServerRecord server;
  crypto::PublicKey server_key;
  http::ClientOptions client;  // how to reach and trust the server
};

// Creates the state dir and host key if needed (mode 0700 / 0600).
Result<crypto::KeyPair> load_or_create_identity(const std::string& state_dir);

// Joins (first run) or rejoins (later runs) the server and registers the
// host with `benchmark`, saving server.json.
Result<Joined> join(const JoinOptions& options, const runtime::HostBenchmark& benchmark);

// Reads server.json of a state dir (kNotFound if the peer never joined).
Result<ServerRecord> read_server_record(const std::string& state_dir);

// The capabilities a host registers with, from its benchmark.
wire::DeviceCaps device_caps(const runtime::HostBenchmark& benchmark);

}  // namespace p2c2r::peer
