// The CPU reference encoder of the video kernel: the same three stages as the
// device plan (colour conversion, per-macroblock motion search + transform +
// reconstruction, per-slice entropy coding), producing the same bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "kernels/video/codec.h"
#include "kernels/video/stream.h"

namespace p2c2r::kernels::video {

struct EncodeSettings {
  Geometry geometry;
  uint32_t frames = 0;
  uint32_t quality = 0;
  uint32_t search = 0;
  // Empty: frame 0 is an I-frame (a version-3 stream). Else the stream
  // continues another: this is the other's last reconstructed frame
  // (geometry.frame_words() bytes: Y, Cb, Cr planes), frame 0 a P-frame
  // predicted from it (a version-4 stream).
  ByteView reference;
  bool continued() const { return !reference.empty(); }
};

// The header words of the padded layout the device writes (magic, version,
// geometry, settings, slice layout with word 8 the region size, and for a
// continued stream the reference's checksum); compact_stream (stream.h) puts
// the payload size in word 8.
std::vector<uint32_t> stream_header(const EncodeSettings& s);

// Where the parts of the stream these settings code sit.
StreamLayout layout_of(const EncodeSettings& s);

// Encodes `frames` RGBA8 frames (width*height words each, R in the low byte)
// into the compact stream documented in docs/kernels/video.md, on `threads`
// threads: the padded layout the device writes, then compact_stream, so the
// bytes are the device's finished output. The caller has checked the sizes.
Bytes encode_video(const EncodeSettings& s, const std::vector<uint32_t>& rgba, unsigned threads);

}  // namespace p2c2r::kernels::video
