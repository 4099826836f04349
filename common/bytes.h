// Byte buffers and little-endian packing helpers shared by kernels, wire
// formats and the store. Every multi-byte value that crosses a process or a
// device boundary is little-endian.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace p2c2r {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// Appends the little-endian bytes of an integer (or a trivially copyable
// struct laid out with explicit widths) to `out`.
template <typename T>
void append_le(Bytes& out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

// Copies a trivially copyable vector into raw bytes.
template <typename T>
Bytes to_bytes(const std::vector<T>& values) {
  static_assert(std::is_trivially_copyable_v<T>);
  Bytes out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// Reinterprets bytes as a vector of T; the size must be a multiple of sizeof(T).
template <typename T>
std::vector<T> from_bytes(ByteView bytes) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

std::string to_hex(ByteView bytes);

// Reads little-endian words from a blob, front to back. Reads are unchecked:
// the caller checks sizes first (has(), or the blob's total size), which is
// how every blob format here validates before it parses.
class WordReader {
 public:
  explicit WordReader(ByteView blob) : blob_(blob) {}
  bool has(uint64_t bytes) const { return blob_.size() - pos_ >= bytes; }
  uint32_t u32() {
    uint32_t v;
    std::memcpy(&v, blob_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  ByteView take(uint64_t bytes) {
    const ByteView view = blob_.subspan(pos_, bytes);
    pos_ += bytes;
    return view;
  }
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return blob_.size() - pos_; }

 private:
  ByteView blob_;
  uint64_t pos_ = 0;
};

// The bytes of a string (JSON bodies, signing strings), without a copy.
inline ByteView bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace p2c2r
