// The video kernel fed a game frame as ray-traced tiles (tiles_x/tiles_y):
// the tiles are assembled into the frame it encodes, on the device as in the
// CPU reference; a frame of known tiles decodes close to them; a wrong tile
// count or size is refused before anything runs; real raytrace tiles, cut by
// the planner's rule, encode exactly like the whole rendered frame.
#include <gtest/gtest.h>

#include "common/tile_grid.h"
#include "kernels/registry.h"
#include "kernels/video/decoder.h"
#include "kernels/video/tiles.h"
#include "runtime/execute.h"
#include "tests/support/kernels.h"

namespace p2c2r {
namespace {

using kernels::video::TiledFrames;

using testing::kernel;

kernels::Params video_params(std::map<std::string, int64_t> given) {
  given.emplace("width", 64);
  given.emplace("height", 48);
  given.emplace("frames", 1);
  auto p = kernel("video").resolve_params(3, given);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return *p;
}

// A 3x2 grid on a 64x48 frame: tiles of 21 or 22 columns, not on macroblock
// edges, so assembly cannot lean on the codec's block structure.
const std::map<std::string, int64_t> kGrid3x2 = {{"tiles_x", 3}, {"tiles_y", 2}};

// Each tile one colour (ramped a little across it), all colours distinct.
Bytes known_pattern(uint32_t w, uint32_t h, TileGrid grid) {
  Bytes rgba(uint64_t{w} * h * 4);
  for (uint32_t t = 0; t < grid.columns * grid.rows; ++t) {
    const TileRect r = tile_rect(w, h, grid, t);
    for (uint32_t y = r.y; y < r.y + r.height; ++y) {
      for (uint32_t x = r.x; x < r.x + r.width; ++x) {
        uint8_t* px = &rgba[(uint64_t{y} * w + x) * 4];
        px[0] = static_cast<uint8_t>(30 + 70 * (t % 3) + (x - r.x));
        px[1] = static_cast<uint8_t>(40 + 90 * (t / 3) + (y - r.y));
        px[2] = static_cast<uint8_t>(200 - 35 * t);
        px[3] = 255;
      }
    }
  }
  return rgba;
}

TiledFrames tiled_of(const kernels::Params& p) {
  return {p.u32("width"), p.u32("height"), p.u32("frames"),
          TileGrid{p.u32("tiles_x"), p.u32("tiles_y")}};
}

double rgb_psnr(const Bytes& stream, const Bytes& original) {
  auto decoded = kernels::video::decode_video(stream);
  EXPECT_TRUE(decoded.ok()) << decoded.status().to_string();
  auto q = kernels::video::measure_quality(*decoded, original);
  EXPECT_TRUE(q.ok()) << q.status().to_string();
  return q->psnr_rgb;
}

TEST(VideoTilesTest, TiledInputEncodesExactlyLikeTheWholeFrames) {
  const kernels::Params whole = video_params({{"frames", 3}});
  auto frames = kernel("video").generate_inputs(whole);
  ASSERT_TRUE(frames.ok());
  auto expected = kernel("video").reference(whole, *frames, 2);
  ASSERT_TRUE(expected.ok());

  auto with_tiles = kGrid3x2;
  with_tiles["frames"] = 3;
  const kernels::Params tiled = video_params(with_tiles);
  const auto tiles = kernels::video::cut_tiles(tiled_of(tiled), (*frames)[0]);
  ASSERT_EQ(tiles.size(), 18u);
  EXPECT_EQ(kernel("video").input_names_for(tiled).size(), 18u);
  auto got = kernel("video").reference(tiled, tiles, 1);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, *expected) << "the stream does not depend on how the frame arrived";
  // The seeded generator cuts the same frames.
  EXPECT_EQ(*kernel("video").generate_inputs(tiled), tiles);
}

TEST(VideoTilesTest, DeviceAssembledFromTilesMatchesTheReferenceByteForByte) {
  const kernels::Params p = video_params(kGrid3x2);
  const auto tiles = kernels::video::cut_tiles(tiled_of(p), known_pattern(64, 48, {3, 2}));
  auto reference = kernel("video").reference(p, tiles, 2);
  ASSERT_TRUE(reference.ok()) << reference.status().to_string();
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  for (uint32_t local_size : {32u, 64u}) {
    auto run = runtime::execute_unit(**device, kernel("video"), p, tiles, local_size);
    ASSERT_TRUE(run.ok()) << run.status().to_string();
    EXPECT_EQ(run->output, *reference) << "local size " << local_size;
  }
}

TEST(VideoTilesTest, FrameOfKnownTilesDecodesCloseToThem) {
  const kernels::Params p = video_params(kGrid3x2);
  const Bytes pattern = known_pattern(64, 48, {3, 2});
  const auto tiles = kernels::video::cut_tiles(tiled_of(p), pattern);
  auto stream = kernel("video").reference(p, tiles, 1);
  ASSERT_TRUE(stream.ok()) << stream.status().to_string();
  // Quality 75, one I-frame: flat tiles with sharp edges between them.
  const double psnr = rgb_psnr(*stream, pattern);
  EXPECT_GT(psnr, 30.0);
  // The same tiles in another order make a different picture, far from the
  // pattern: the bound above can fail, and order is what places a tile.
  auto shuffled = tiles;
  std::swap(shuffled[0], shuffled[4]);
  std::swap(shuffled[1], shuffled[3]);
  auto wrong = kernel("video").reference(p, shuffled, 1);
  ASSERT_TRUE(wrong.ok()) << wrong.status().to_string();
  EXPECT_LT(rgb_psnr(*wrong, pattern), 20.0);
}

TEST(VideoTilesTest, WrongTileCountOrSizeIsAClearErrorBeforeAnyDispatch) {
  const kernels::Params p = video_params(kGrid3x2);
  const auto tiles = kernels::video::cut_tiles(tiled_of(p), known_pattern(64, 48, {3, 2}));
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  auto expect_refused = [&](const std::vector<Bytes>& inputs, const std::string& words) {
    for (const Status& s :
         {kernel("video").check_inputs(p, inputs), kernel("video").reference(p, inputs, 1).status(),
          kernel("video").plan(p, inputs, 64).status(),
          runtime::execute_unit(**device, kernel("video"), p, inputs).status()}) {
      EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
      EXPECT_NE(s.message().find(words), std::string::npos) << s.to_string();
    }
  };
  auto missing = tiles;
  missing.pop_back();
  expect_refused(missing, "expected 6 tile input(s) (1 frame(s) of 3x2 tiles), got 5");
  expect_refused({}, "got 0");
  auto extra = tiles;
  extra.push_back(tiles[0]);
  expect_refused(extra, "got 7");
  // Tile 1 is 21x24; tile 2 is 22x24: swapping them keeps the count, not the sizes.
  auto swapped = tiles;
  std::swap(swapped[1], swapped[2]);
  expect_refused(swapped, "frame 0 tile 1 (column 1, row 0)' is 2112 bytes, expected 2016");
  auto truncated = tiles;
  truncated[5].resize(truncated[5].size() - 4);
  expect_refused(truncated, "tile 5");
}

TEST(VideoTilesTest, TileGridParametersAreChecked) {
  const auto& v = kernel("video");
  auto only_x = v.resolve_params(1, {{"tiles_x", 2}});
  ASSERT_FALSE(only_x.ok());
  EXPECT_NE(only_x.status().message().find("tiles_x and tiles_y"), std::string::npos);
  auto too_many =
      v.resolve_params(1, {{"width", 32}, {"height", 32}, {"tiles_x", 33}, {"tiles_y", 1}});
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("does not fit"), std::string::npos);
  EXPECT_FALSE(v.resolve_params(1, {{"tiles_x", 32}, {"tiles_y", 16}}).ok());  // 512 tiles
  // Whole frames stay the default: one input, as before.
  auto defaults = v.resolve_params(1, {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->get("tiles_x"), 0);
  EXPECT_EQ(v.input_names_for(*defaults), v.input_names());
}

// The game's path: raytrace units render the rectangles of common/tile_grid.h
// (as the planner assigns them); the video unit assembles their outputs into
// exactly the frame a single whole-frame raytrace unit renders.
TEST(VideoTilesTest, RayTracedTilesEncodeLikeTheWholeRenderedFrame) {
  const uint32_t w = 48, h = 32;
  const TileGrid grid = tile_grid_for(6);
  const auto& ray = kernel("raytrace");
  auto render = [&](TileRect r) {
    auto p = ray.resolve_params(11, {{"width", w},
                                     {"height", h},
                                     {"tile_x", r.x},
                                     {"tile_y", r.y},
                                     {"tile_width", r.width},
                                     {"tile_height", r.height},
                                     {"samples", 1},
                                     {"max_depth", 1},
                                     {"mesh_detail", 0}});
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    auto scene = ray.generate_inputs(*p);
    auto out = ray.reference(*p, *scene, 2);
    EXPECT_TRUE(out.ok()) << out.status().to_string();
    return *out;
  };
  std::vector<Bytes> tiles;
  for (uint32_t t = 0; t < 6; ++t) tiles.push_back(render(tile_rect(w, h, grid, t)));
  const Bytes whole = render({0, 0, w, h});

  const kernels::Params tiled = video_params(
      {{"width", w}, {"height", h}, {"tiles_x", grid.columns}, {"tiles_y", grid.rows}});
  const kernels::Params single = video_params({{"width", w}, {"height", h}});
  auto from_tiles = kernel("video").reference(tiled, tiles, 1);
  auto from_whole = kernel("video").reference(single, {whole}, 1);
  ASSERT_TRUE(from_tiles.ok()) << from_tiles.status().to_string();
  ASSERT_TRUE(from_whole.ok()) << from_whole.status().to_string();
  EXPECT_EQ(*from_tiles, *from_whole);
  EXPECT_GT(rgb_psnr(*from_tiles, whole), 25.0);
}

TEST(TileGridTest, GridsAreAsSquareAsTheCountAllowsAndCoverTheFrame) {
  EXPECT_EQ(tile_grid_for(1).columns, 1u);
  EXPECT_EQ(tile_grid_for(4).columns, 2u);
  EXPECT_EQ(tile_grid_for(6).columns, 3u);
  EXPECT_EQ(tile_grid_for(6).rows, 2u);
  EXPECT_EQ(tile_grid_for(7).columns, 7u);
  EXPECT_EQ(tile_grid_for(256).rows, 16u);
  for (uint32_t tiles : {1u, 5u, 6u, 12u, 256u}) {
    const TileGrid g = tile_grid_for(tiles);
    ASSERT_EQ(g.columns * g.rows, tiles);
    std::vector<int> covered(320 * 240, 0);
    for (uint32_t t = 0; t < tiles; ++t) {
      const TileRect r = tile_rect(320, 240, g, t);
      ASSERT_GT(r.width * r.height, 0u);
      for (uint32_t y = r.y; y < r.y + r.height; ++y)
        for (uint32_t x = r.x; x < r.x + r.width; ++x) ++covered[y * 320 + x];
    }
    for (int c : covered) ASSERT_EQ(c, 1) << tiles << " tiles";
  }
}

}  // namespace
}  // namespace p2c2r
