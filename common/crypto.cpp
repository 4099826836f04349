#include "common/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace p2c2r::crypto {
namespace {

template <size_t N>
Status parse_hex(std::string_view hex, std::array<uint8_t, N>& out, const char* what) {
  if (hex.size() != N * 2) {
    return invalid_argument(std::string(what) + " is " + std::to_string(N * 2) +
                            " hex digits, got " + std::to_string(hex.size()) + " characters");
  }
  size_t len = 0;
  if (sodium_hex2bin(out.data(), N, hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != N) {
    return invalid_argument(std::string(what) + " may contain only hex digits");
  }
  return Status::Ok();
}

Status errno_status(const std::string& what) {
  return internal_error(what + ": " + std::strerror(errno));
}

}  // namespace

std::string PublicKey::hex() const { return to_hex(bytes); }
std::string Signature::hex() const { return to_hex(bytes); }

Result<PublicKey> PublicKey::from_hex(std::string_view hex) {
  PublicKey k;
  P2C2R_RETURN_IF_ERROR(parse_hex(hex, k.bytes, "a public key"));
  return k;
}

Result<Signature> Signature::from_hex(std::string_view hex) {
  Signature s;
  P2C2R_RETURN_IF_ERROR(parse_hex(hex, s.bytes, "a signature"));
  return s;
}

KeyPair KeyPair::generate() {
  ensure_sodium();
  KeyPair k;
  crypto_sign_keypair(k.public_.bytes.data(), k.secret_.data());
  return k;
}

Result<KeyPair> KeyPair::load(const std::string& path) {
  ensure_sodium();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return not_found("cannot read key file " + path + ": " + std::strerror(errno));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return permission_denied("key file " + path + " is accessible by others (mode " + mode +
                             "); chmod 600 it");
  }
  std::ifstream in(path);
  std::string hex;
  in >> hex;
  std::array<uint8_t, crypto_sign_SEEDBYTES> seed{};
  Status s = parse_hex(hex, seed, "a secret key");
  if (!s.ok()) return s.with_context("key file " + path);
  KeyPair k;
  crypto_sign_seed_keypair(k.public_.bytes.data(), k.secret_.data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
  return k;
}

Status KeyPair::save(const std::string& path) const {
  // The seed (first half of libsodium's secret key) is enough to rebuild both halves.
  std::string text = to_hex(ByteView(secret_.data(), crypto_sign_SEEDBYTES)) + "\n";
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("cannot create " + tmp);
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return errno_status("cannot write key file " + path);
  }
  return Status::Ok();
}

Signature KeyPair::sign(ByteView message) const {
  Signature s;
  crypto_sign_detached(s.bytes.data(), nullptr, message.data(), message.size(), secret_.data());
  return s;
}

Signature KeyPair::sign(std::string_view message) const { return sign(bytes_of(message)); }

bool verify(const PublicKey& key, ByteView message, const Signature& signature) {
  ensure_sodium();
  return crypto_sign_verify_detached(signature.bytes.data(), message.data(), message.size(),
                                     key.bytes.data()) == 0;
}

bool verify(const PublicKey& key, std::string_view message, const Signature& signature) {
  return verify(key, bytes_of(message), signature);
}

std::string request_signing_string(std::string_view method, std::string_view path,
                                   int64_t timestamp_ms, std::string_view nonce,
                                   const Digest& body_digest) {
  std::string s;
  s.reserve(160 + path.size());
  s.append("p2c2r-request-v1\n");
  s.append(method).append("\n");
  s.append(path).append("\n");
  s.append(std::to_string(timestamp_ms)).append("\n");
  s.append(nonce).append("\n");
  s.append(body_digest.hex());
  return s;
}

SignedHeaders sign_request(const KeyPair& key, uint64_t host_id, std::string_view method,
                           std::string_view path, int64_t timestamp_ms, ByteView body) {
  SignedHeaders h;
  h.host_id = std::to_string(host_id);
  h.timestamp = std::to_string(timestamp_ms);
  h.nonce = random_hex(16);
  h.signature =
      key.sign(request_signing_string(method, path, timestamp_ms, h.nonce, digest_of(body))).hex();
  return h;
}

std::string random_hex(size_t bytes) {
  ensure_sodium();
  Bytes b(bytes);
  randombytes_buf(b.data(), b.size());
  return to_hex(b);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace p2c2r::crypto
