// Ed25519 keys and signed requests (libsodium).
//
// Every peer request carries a signature by the host's key over a canonical
// string (see docs/protocol.md, "Signing"), and every work manifest carries
// the server's signature. Both sides build the string with the same helper
// here, so they cannot drift apart. Key files hold hex text and are written
// with mode 0600; loading refuses a key file that others can read.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/digest.h"
#include "common/result.h"

namespace p2c2r::crypto {

struct PublicKey {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};
  std::string hex() const;
  static Result<PublicKey> from_hex(std::string_view hex);
  friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

struct Signature {
  static constexpr size_t kSize = 64;
  std::array<uint8_t, kSize> bytes{};
  std::string hex() const;
  static Result<Signature> from_hex(std::string_view hex);
  friend bool operator==(const Signature&, const Signature&) = default;
};

class KeyPair {
 public:
  // A fresh random key pair.
  static KeyPair generate();
  // Reads a key file written by save(); refuses group/other-readable files.
  static Result<KeyPair> load(const std::string& path);
  // Writes the secret key (hex) to `path` with mode 0600, atomically.
  Status save(const std::string& path) const;

  const PublicKey& public_key() const { return public_; }
  Signature sign(ByteView message) const;
  Signature sign(std::string_view message) const;

 private:
  PublicKey public_;
  std::array<uint8_t, 64> secret_{};  // libsodium's seed || public key form
};

bool verify(const PublicKey& key, ByteView message, const Signature& signature);
bool verify(const PublicKey& key, std::string_view message, const Signature& signature);

// The request headers a signed peer request carries.
inline constexpr const char* kHostHeader = "X-P2C2R-Host";
inline constexpr const char* kTimestampHeader = "X-P2C2R-Timestamp";  // unix milliseconds
inline constexpr const char* kNonceHeader = "X-P2C2R-Nonce";          // 32 hex digits
inline constexpr const char* kSignatureHeader = "X-P2C2R-Signature";  // 128 hex digits

// "p2c2r-request-v1\n<METHOD>\n<path>\n<timestamp ms>\n<nonce>\n<body digest hex>":
// what a peer signs and the server verifies. `path` includes the query string.
std::string request_signing_string(std::string_view method, std::string_view path,
                                   int64_t timestamp_ms, std::string_view nonce,
                                   const Digest& body_digest);

// The headers of one signed request, computed by the client.
struct SignedHeaders {
  std::string host_id;
  std::string timestamp;
  std::string nonce;
  std::string signature;
};
SignedHeaders sign_request(const KeyPair& key, uint64_t host_id, std::string_view method,
                           std::string_view path, int64_t timestamp_ms, ByteView body);

// `bytes` random bytes as lowercase hex (nonces, tokens).
std::string random_hex(size_t bytes);

// Compares two strings in time independent of where they differ (tokens).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace p2c2r::crypto
