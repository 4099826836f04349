// The CPU reference of the ray tracer: the same algorithm as raytrace.comp,
// step for step, in the same fixed-point arithmetic (fixed.h), so that the
// bytes agree with every conformant Vulkan device.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "kernels/raytrace/scene.h"

namespace p2c2r::kernels::raytrace {

// What one unit renders: a tile of a frame (pixel coordinates of the frame,
// top row first), `samples` jittered samples per pixel, up to `max_depth`
// mirror bounces after the primary hit.
struct TileSpec {
  uint32_t frame_width = 0, frame_height = 0;
  uint32_t tile_x = 0, tile_y = 0, tile_width = 0, tile_height = 0;
  uint32_t samples = 1, max_depth = 0;
};

constexpr uint32_t kMaxSamples = 16;
constexpr uint32_t kMaxDepth = 8;

// RGBA8 pixels of the tile, row-major, on `threads` threads (same bytes for any count).
Bytes render_tile(const Scene& scene, const TileSpec& tile, unsigned threads);

}  // namespace p2c2r::kernels::raytrace
