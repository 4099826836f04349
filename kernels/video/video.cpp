// The video kernel: block-based compression of F frames. Two stages, each a
// shader in this folder with its CPU twin in encoder.cpp: macroblock coding
// (colour conversion, motion search, transform, reconstruction; one dispatch
// per frame, since a P-frame predicts from the previous reconstruction), then
// entropy coding of every slice of every frame in one dispatch.
//
// The frames come either whole (one blob) or, with tiles_x/tiles_y set, as
// the RGBA8 tiles of a game frame's ray-traced units (tiles.h); tiles are
// assembled on the CPU before the plan and the reference see them, so both
// encode the very same frames.
#include <sstream>

#include "kernels/image.h"
#include "kernels/registry.h"
#include "kernels/video/decoder.h"
#include "kernels/video/encoder.h"
#include "kernels/video/scene.h"
#include "kernels/video/tiles.h"
#include "video_entropy.spv.h"
#include "video_mb.spv.h"

namespace p2c2r::kernels {
namespace {

using video::EncodeSettings;
using video::Geometry;
using video::TiledFrames;

// Tiles per frame at most: the planner's tile limit, so any game frame fits.
constexpr int64_t kMaxTiles = 256;

EncodeSettings settings_of(const Params& p) {
  return {Geometry{p.u32("width"), p.u32("height")}, p.u32("frames"), p.u32("quality"),
          p.u32("search")};
}

bool tiled(const Params& p) { return p.get("tiles_x") != 0; }

TiledFrames tiled_of(const Params& p) {
  return {p.u32("width"), p.u32("height"), p.u32("frames"),
          TileGrid{p.u32("tiles_x"), p.u32("tiles_y")}};
}

class VideoKernel final : public Kernel {
 public:
  std::string name() const override { return "video"; }
  uint32_t version() const override { return 1; }
  std::string family() const override { return "video"; }
  std::string description() const override {
    return "I/P-frame video coding: YCbCr 4:2:0, motion search, 8x8 integer DCT, run-length + "
           "Exp-Golomb slices";
  }
  std::vector<Shader> shaders() const override {
    return {{"video_mb", video_mb_spv, {.binding_count = 5, .push_constant_size = 16}},
            {"video_entropy", video_entropy_spv, {.binding_count = 3, .push_constant_size = 16}}};
  }
  std::vector<ParamSpec> param_specs() const override {
    return {{"width", 16, video::kMaxWidth, 320, "frame width in pixels (multiple of 16)"},
            {"height", 16, video::kMaxHeight, 240, "frame height in pixels (multiple of 16)"},
            {"frames", 1, video::kMaxFrames, 6, "frames: one I-frame, then P-frames"},
            {"quality", 1, 100, 75, "quantiser quality (libjpeg scale: 1 coarsest, 100 finest)"},
            {"search", 0, video::kMaxSearch, 8, "motion search range in pixels (+-)"},
            {"tiles_x", 0, kMaxTiles, 0,
             "0: the input is whole frames; else each frame comes as tiles_x x tiles_y tiles"},
            {"tiles_y", 0, kMaxTiles, 0, "tile rows per frame (0 exactly when tiles_x is 0)"}};
  }
  std::vector<std::string> input_names() const override { return {"frames"}; }
  std::vector<std::string> input_names_for(const Params& p) const override {
    return tiled(p) ? video::tile_input_names(tiled_of(p)) : input_names();
  }

  Result<std::vector<Bytes>> generate_inputs(const Params& p) const override {
    Bytes frames =
        to_bytes(video::synthetic_frames(p.u32("width"), p.u32("height"), p.u32("frames"), p.seed));
    if (tiled(p)) return video::cut_tiles(tiled_of(p), frames);
    return std::vector<Bytes>{std::move(frames)};
  }
  Status check_inputs(const Params& p, const std::vector<Bytes>& inputs) const override {
    if (tiled(p)) return video::check_tiles(tiled_of(p), inputs);
    return expect_input_sizes(input_names(), inputs,
                              {uint64_t{p.u32("width")} * p.u32("height") * 4 * p.u32("frames")});
  }

  Result<Bytes> reference(const Params& p, const std::vector<Bytes>& inputs,
                          unsigned threads) const override {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    if (tiled(p)) {
      const Bytes frames = video::assemble_tiles(tiled_of(p), inputs);
      return video::encode_video(settings_of(p), from_bytes<uint32_t>(frames), threads);
    }
    return video::encode_video(settings_of(p), from_bytes<uint32_t>(inputs[0]), threads);
  }

  Result<Plan> plan(const Params& p, const std::vector<Bytes>& inputs,
                    uint32_t local_size) const override {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    const EncodeSettings s = settings_of(p);
    const Geometry& g = s.geometry;
    const uint32_t w = g.width, h = g.height, frames = s.frames;
    const uint64_t slices = uint64_t{g.mbs_y()} * frames;
    const auto q = video::quant_table(s.quality);
    Bytes pixels = tiled(p) ? video::assemble_tiles(tiled_of(p), inputs) : inputs[0];
    Plan plan;
    plan.buffers = {
        {.size = pixels.size(), .init = std::move(pixels)},  // 0 frames
        {.size = g.frame_words() * 2, .init = {}},           // 1 reconstruction (2 frames of bytes)
        {.size = uint64_t{g.mbs()} * video::kCoefWordsPerMb * 4 * frames, .init = {}},  // 2 levels
        {.size = uint64_t{g.mbs()} * 4 * frames, .init = {}},                           // 3 mb info
        {.size = q.size() * 4,
         .init = to_bytes(std::vector<uint32_t>(q.begin(), q.end()))},  // 4 quantiser
        {.size = video::kHeaderWords * 4, .init = to_bytes(video::stream_header(s))},  // 5 header
        {.size = (slices + slices * g.region_words()) * 4, .init = {}},                // 6 stream
    };
    for (uint32_t f = 0; f < frames; ++f) {
      plan.dispatches.push_back({.shader = 0,
                                 .buffers = {0, 1, 2, 3, 4},
                                 .push = push_words({w, h, f, s.search}),
                                 .groups = {groups_for(g.mbs(), local_size), 1, 1}});
    }
    plan.dispatches.push_back({.shader = 1,
                               .buffers = {2, 3, 6},
                               .push = push_words({w, h, frames, g.region_words()}),
                               .groups = {groups_for(slices, local_size), 1, 1}});
    plan.outputs = {5, 6};
    return plan;
  }

  uint64_t cost(const Params& p) const override {
    const EncodeSettings s = settings_of(p);
    const uint64_t mbs = s.geometry.mbs(), window = (2 * s.search + 1) * (2 * s.search + 1);
    const uint64_t colour = s.geometry.luma() * 30;
    const uint64_t search =
        mbs * window * 256 * 4;  // load, subtract, abs, add per pixel and candidate
    const uint64_t transform =
        mbs * video::kBlocksPerMb * 2600;  // DCT, quantiser, inverse DCT, reconstruction
    const uint64_t entropy = mbs * video::kBlocksPerMb * 64 * 8;
    return (colour + transform + entropy) * s.frames + search * (s.frames - 1);
  }
  // Megapixels, the unit video throughput is quoted in.
  double work_items(const Params& p) const override {
    return double(p.get("width")) * double(p.get("height")) * double(p.get("frames")) / 1e6;
  }
  std::string work_unit_name() const override { return "Mpixel"; }
  std::map<std::string, int64_t> small_params() const override {
    return {{"width", 64}, {"height", 48}, {"frames", 3}, {"quality", 60}, {"search", 4}};
  }

  Result<std::string> write_output(const Params& p, ByteView output,
                                   const std::string& path) const override {
    auto decoded = video::decode_video(output);
    if (!decoded.ok()) return decoded.status();
    const uint32_t last = decoded->frames - 1;
    P2C2R_RETURN_IF_ERROR(write_png(path, decoded->width, decoded->height, decoded->rgba(last)));
    std::ostringstream format;
    format.precision(3);
    format << "PNG of decoded frame " << last << " of " << decoded->frames << ", " << decoded->bpp()
           << " bpp";
    // The originals are recreated from the seed; for uploaded frames this PSNR
    // would not apply, and tiled frames come from other units (a game's tiles).
    auto inputs = generate_inputs(p);
    if (!tiled(p) && inputs.ok() &&
        (*inputs)[0].size() == uint64_t{decoded->width} * decoded->height * 4 * decoded->frames) {
      auto quality = video::measure_quality(*decoded, (*inputs)[0]);
      if (quality.ok())
        format << ", PSNR Y " << quality->psnr_y << " dB, RGB " << quality->psnr_rgb << " dB";
    }
    return format.str();
  }

 protected:
  Status check_params(const Params& p) const override {
    if (p.get("width") % 16 != 0 || p.get("height") % 16 != 0) {
      return invalid_argument("width and height must be multiples of 16 (got " +
                              std::to_string(p.get("width")) + "x" +
                              std::to_string(p.get("height")) + ")");
    }
    const int64_t tx = p.get("tiles_x"), ty = p.get("tiles_y");
    if ((tx == 0) != (ty == 0)) {
      return invalid_argument(
          "tiles_x and tiles_y must both be 0 (whole frames) or both be set (got " +
          std::to_string(tx) + "x" + std::to_string(ty) + ")");
    }
    if (tx > p.get("width") || ty > p.get("height") || tx * ty > kMaxTiles) {
      return invalid_argument("a " + std::to_string(tx) + "x" + std::to_string(ty) +
                              " tile grid does not fit a " + std::to_string(p.get("width")) + "x" +
                              std::to_string(p.get("height")) + " frame (at most " +
                              std::to_string(kMaxTiles) + " tiles, each at least one pixel)");
    }
    return Status::Ok();
  }
};

}  // namespace

void register_video_kernels(Registry& registry) { registry.add(std::make_unique<VideoKernel>()); }

}  // namespace p2c2r::kernels
