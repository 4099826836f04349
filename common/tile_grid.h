// How a frame is cut into tiles: the one rule that the planner (which gives
// each ray-traced tile unit its rectangle) and the video kernel (which
// assembles a game frame from those units' outputs) both use, so they agree
// by construction.
//
// A frame of width x height pixels is a grid of columns x rows tiles,
// numbered in raster order (t = row * columns + column). Column c spans the
// pixels [c*width/columns, (c+1)*width/columns) (integer division), rows
// likewise, so the tiles cover the frame exactly, never overlap, and differ
// in size by at most one pixel per side.
#pragma once

#include <cstdint>

namespace p2c2r {

struct TileGrid {
  uint32_t columns = 1;
  uint32_t rows = 1;
};

struct TileRect {
  uint32_t x = 0, y = 0, width = 0, height = 0;
};

// The grid for `tiles` tiles (>= 1): as square as the count allows, rows =
// the largest divisor of `tiles` not above its square root (4 -> 2x2,
// 6 -> 3x2, 8 -> 4x2, 7 -> 7x1).
inline TileGrid tile_grid_for(uint32_t tiles) {
  uint32_t rows = 1;
  for (uint32_t r = 1; uint64_t{r} * r <= tiles; ++r)
    if (tiles % r == 0) rows = r;
  return {tiles / rows, rows};
}

// Tile t of the grid. The caller guarantees 1 <= columns <= frame_width,
// 1 <= rows <= frame_height and t < columns * rows, so no tile is empty.
inline TileRect tile_rect(uint32_t frame_width, uint32_t frame_height, TileGrid grid, uint32_t t) {
  const uint32_t c = t % grid.columns, r = t / grid.columns;
  auto edge = [](uint32_t size, uint32_t parts, uint32_t i) {
    return static_cast<uint32_t>(uint64_t{size} * i / parts);
  };
  const uint32_t x0 = edge(frame_width, grid.columns, c),
                 x1 = edge(frame_width, grid.columns, c + 1);
  const uint32_t y0 = edge(frame_height, grid.rows, r), y1 = edge(frame_height, grid.rows, r + 1);
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace p2c2r
