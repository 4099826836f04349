#include "kernels/video/tiles.h"

#include <algorithm>

namespace p2c2r::kernels::video {
namespace {

uint64_t frame_bytes(const TiledFrames& t) { return uint64_t{t.width} * t.height * 4; }

// Copies tile `blob`'s rows between the tile and its place in the frames.
template <typename Copy>
void for_each_tile_row(const TiledFrames& t, uint32_t blob, Copy copy) {
  const TileRect r = t.rect(blob);
  const uint64_t frame_base = uint64_t{blob / t.tiles_per_frame()} * frame_bytes(t);
  for (uint32_t row = 0; row < r.height; ++row) {
    const uint64_t in_frame = frame_base + (uint64_t{r.y + row} * t.width + r.x) * 4;
    copy(in_frame, uint64_t{row} * r.width * 4, uint64_t{r.width} * 4);
  }
}

}  // namespace

std::vector<std::string> tile_input_names(const TiledFrames& t) {
  std::vector<std::string> names;
  names.reserve(t.blobs());
  for (uint32_t b = 0; b < t.blobs(); ++b) {
    const uint32_t tile = b % t.tiles_per_frame();
    names.push_back("frame " + std::to_string(b / t.tiles_per_frame()) + " tile " +
                    std::to_string(tile) + " (column " + std::to_string(tile % t.grid.columns) +
                    ", row " + std::to_string(tile / t.grid.columns) + ")");
  }
  return names;
}

Status check_tiles(const TiledFrames& t, std::span<const Bytes> tiles) {
  if (tiles.size() != t.blobs()) {
    return invalid_argument("expected " + std::to_string(t.blobs()) + " tile input(s) (" +
                            std::to_string(t.frames) + " frame(s) of " +
                            std::to_string(t.grid.columns) + "x" + std::to_string(t.grid.rows) +
                            " tiles), got " + std::to_string(tiles.size()));
  }
  for (uint32_t b = 0; b < t.blobs(); ++b) {
    const TileRect r = t.rect(b);
    const uint64_t want = uint64_t{r.width} * r.height * 4;
    if (tiles[b].size() != want) {
      return invalid_argument("input '" + tile_input_names(t)[b] + "' is " +
                              std::to_string(tiles[b].size()) + " bytes, expected " +
                              std::to_string(want) + " (a " + std::to_string(r.width) + "x" +
                              std::to_string(r.height) + " RGBA8 tile at (" + std::to_string(r.x) +
                              ", " + std::to_string(r.y) + "))");
    }
  }
  return Status::Ok();
}

Bytes assemble_tiles(const TiledFrames& t, std::span<const Bytes> tiles) {
  Bytes frames(frame_bytes(t) * t.frames);
  for (uint32_t b = 0; b < t.blobs(); ++b) {
    for_each_tile_row(t, b, [&](uint64_t at, uint64_t from, uint64_t n) {
      std::copy_n(tiles[b].begin() + static_cast<ptrdiff_t>(from), n,
                  frames.begin() + static_cast<ptrdiff_t>(at));
    });
  }
  return frames;
}

std::vector<Bytes> cut_tiles(const TiledFrames& t, ByteView frames) {
  std::vector<Bytes> tiles(t.blobs());
  for (uint32_t b = 0; b < t.blobs(); ++b) {
    const TileRect r = t.rect(b);
    tiles[b].resize(uint64_t{r.width} * r.height * 4);
    for_each_tile_row(t, b, [&](uint64_t at, uint64_t to, uint64_t n) {
      std::copy_n(frames.begin() + static_cast<ptrdiff_t>(at), n,
                  tiles[b].begin() + static_cast<ptrdiff_t>(to));
    });
  }
  return tiles;
}

}  // namespace p2c2r::kernels::video
