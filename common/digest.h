// Content digests: BLAKE2b-256 (libsodium's crypto_generichash) over bytes.
// Peers report the digest of a unit's output; blobs are addressed by digest.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"

namespace p2c2r {

struct Digest {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};

  std::string hex() const;
  // Parses 64 lowercase or uppercase hex digits.
  static Result<Digest> from_hex(std::string_view hex);

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;
};

// BLAKE2b-256 of `data`.
Digest digest_of(ByteView data);

// Streaming form, for data that arrives in pieces.
class DigestBuilder {
 public:
  DigestBuilder();
  DigestBuilder& update(ByteView data);
  Digest finish();

 private:
  alignas(64) unsigned char state_[384];
};

// Makes sure libsodium is initialised; safe to call from any thread, any number of times.
void ensure_sodium();

}  // namespace p2c2r
