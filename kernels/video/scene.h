// The video kernel's input generator: a recognisable synthetic clip (a
// panning gradient with texture, and shapes moving a few pixels per frame), so
// motion estimation has real work to do and a person can see what was coded.
#pragma once

#include <cstdint>
#include <vector>

namespace p2c2r::kernels::video {

// `frames` RGBA8 frames of width*height words (R in the low byte), row-major.
std::vector<uint32_t> synthetic_frames(uint32_t width, uint32_t height, uint32_t frames,
                                       uint64_t seed);

}  // namespace p2c2r::kernels::video
