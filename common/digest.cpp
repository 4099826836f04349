#include "common/digest.h"

#include <sodium.h>

#include <stdexcept>

namespace p2c2r {

static_assert(sizeof(crypto_generichash_state) <= 384, "enlarge DigestBuilder::state_");

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialise");
}

std::string to_hex(ByteView bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string Digest::hex() const { return to_hex(bytes); }

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Digest> Digest::from_hex(std::string_view hex) {
  if (hex.size() != kSize * 2) {
    return invalid_argument("a digest is 64 hex digits, got " + std::to_string(hex.size()) +
                            " characters");
  }
  Digest d;
  for (size_t i = 0; i < kSize; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return invalid_argument("a digest may contain only hex digits");
    d.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return d;
}

Digest digest_of(ByteView data) { return DigestBuilder().update(data).finish(); }

DigestBuilder::DigestBuilder() {
  ensure_sodium();
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0,
                          Digest::kSize);
}

DigestBuilder& DigestBuilder::update(ByteView data) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_), data.data(),
                            data.size());
  return *this;
}

Digest DigestBuilder::finish() {
  Digest d;
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), d.bytes.data(),
                           d.bytes.size());
  return d;
}

}  // namespace p2c2r
