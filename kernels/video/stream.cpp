#include "kernels/video/stream.h"

#include <cstring>
#include <string>

namespace p2c2r::kernels::video {
namespace {

uint32_t load_word(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void store_word(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

Result<Bytes> compact_stream(const StreamLayout& layout, ByteView padded) {
  const uint64_t header = layout.header_words(), slices = layout.slices();
  const uint64_t region = layout.geometry.region_words();
  if (padded.size() != layout.padded_bytes()) {
    return invalid_argument("video: the padded stream is " + std::to_string(padded.size()) +
                            " bytes, its layout says " + std::to_string(layout.padded_bytes()));
  }
  if (load_word(padded.data() + 4 * 8) != region) {
    return invalid_argument("video: the padded stream's header does not give its region size (" +
                            std::to_string(region) + " words)");
  }
  const uint8_t* lengths = padded.data() + 4 * header;
  uint64_t payload = 0;
  for (uint64_t s = 0; s < slices; ++s) {
    const uint32_t bits = load_word(lengths + 4 * s);
    if (bits > region * 32) {
      return invalid_argument("video: slice " + std::to_string(s) + " claims " +
                              std::to_string(bits) + " bits, beyond its region of " +
                              std::to_string(region * 32));
    }
    payload += slice_words(bits);
  }
  Bytes out(4 * (header + slices + payload));
  std::memcpy(out.data(), padded.data(), 4 * (header + slices));
  store_word(out.data() + 4 * 8, static_cast<uint32_t>(payload));  // payload <= slices * region
  uint8_t* dst = out.data() + 4 * (header + slices);
  const uint8_t* regions = lengths + 4 * slices;
  for (uint64_t s = 0; s < slices; ++s) {
    const uint64_t bytes = 4 * slice_words(load_word(lengths + 4 * s));
    std::memcpy(dst, regions + 4 * s * region, bytes);
    dst += bytes;
  }
  return out;
}

}  // namespace p2c2r::kernels::video
