// The video stream's two layouts (docs/kernels/video.md, "Stream format").
//
// The device writes the padded layout: the header (word 8 = the region size
// R), the length table, then one worst-case region of R words per slice, so
// every slice is written by its own invocation at a place fixed before the
// run and the bytes never depend on scheduling. A unit's output is the
// compact layout: the same header with word 8 = the payload's size in words,
// the length table, then each slice's used words back to back, no padding.
// compact_stream turns one into the other on the CPU; the device path
// (Kernel::finish_output) and the reference encoder both call it, so their
// outputs stay byte-identical. It never reads outside the bytes it is given.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "kernels/video/codec.h"

namespace p2c2r::kernels::video {

// Where a stream's parts sit, from what a unit codes.
struct StreamLayout {
  Geometry geometry;
  uint32_t frames = 0;
  bool continued = false;  // format kContinuedFormatVersion: one more header word

  uint32_t header_words() const { return continued ? kContinuedHeaderWords : kHeaderWords; }
  uint64_t slices() const { return uint64_t{geometry.mbs_y()} * frames; }
  // The padded layout's size in bytes: what the device's output buffers hold.
  uint64_t padded_bytes() const {
    return 4 * (header_words() + slices() + slices() * geometry.region_words());
  }
};

// Words a slice of `bits` bits occupies in the compact layout.
inline uint64_t slice_words(uint64_t bits) { return (bits + 31) / 32; }

// The compact stream of a padded one laid out as `layout` says. Refuses
// (invalid argument) a padded stream of another size, a header whose word 8
// is not the region size, or a slice length beyond its region.
Result<Bytes> compact_stream(const StreamLayout& layout, ByteView padded);

}  // namespace p2c2r::kernels::video
