// The CPU reference encoder of the video kernel: the same three stages as the
// device plan (colour conversion, per-macroblock motion search + transform +
// reconstruction, per-slice entropy coding), producing the same bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "kernels/video/codec.h"

namespace p2c2r::kernels::video {

struct EncodeSettings {
  Geometry geometry;
  uint32_t frames = 0;
  uint32_t quality = 0;
  uint32_t search = 0;
};

// The stream header words (magic, version, geometry, settings, slice layout).
std::vector<uint32_t> stream_header(const EncodeSettings& s);

// Encodes `frames` RGBA8 frames (width*height words each, R in the low byte)
// into the stream documented in docs/kernels/video.md, on `threads` threads.
// The caller has checked the sizes.
Bytes encode_video(const EncodeSettings& s, const std::vector<uint32_t>& rgba, unsigned threads);

}  // namespace p2c2r::kernels::video
