// The video kernel's tiled input: a game frame arrives as the RGBA8 outputs
// of its ray-traced tile units (docs/kernels.md, "A game frame as work
// units"), cut by the rule of common/tile_grid.h. These functions name,
// check and assemble such tiles on the CPU; the device plan and the CPU
// reference both encode the assembled frames, so they stay byte-identical
// and the shaders need not know about tiles.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/tile_grid.h"

namespace p2c2r::kernels::video {

// The shape of a tiled input: `frames` frames of width x height pixels, each
// given as grid.columns x grid.rows tiles in raster order, frame-major.
struct TiledFrames {
  uint32_t width = 0, height = 0, frames = 0;
  TileGrid grid;

  uint32_t tiles_per_frame() const { return grid.columns * grid.rows; }
  uint32_t blobs() const { return tiles_per_frame() * frames; }
  TileRect rect(uint32_t blob) const {
    return tile_rect(width, height, grid, blob % tiles_per_frame());
  }
};

// One name per input blob ("frame 0 tile 3 (column 1, row 1)").
std::vector<std::string> tile_input_names(const TiledFrames& t);

// Checks the count and the size of every tile (tile width x height x 4 bytes).
Status check_tiles(const TiledFrames& t, std::span<const Bytes> tiles);

// The frames (frames x height x width RGBA8 words as bytes, frame-major)
// that the tiles make up. The caller has checked them with check_tiles.
Bytes assemble_tiles(const TiledFrames& t, std::span<const Bytes> tiles);

// The inverse: cuts whole frames (as above) into tiles.
std::vector<Bytes> cut_tiles(const TiledFrames& t, ByteView frames);

}  // namespace p2c2r::kernels::video
