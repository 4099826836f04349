// The video kernel: block-based compression of F frames. Two stages, each a
// shader in this folder with its CPU twin in encoder.cpp: macroblock coding
// (colour conversion, motion search, transform, reconstruction; one dispatch
// per frame, since a P-frame predicts from the previous reconstruction), then
// entropy coding of every slice of every frame in one dispatch, each slice
// into its own worst-case region; finish_output then packs the slices back
// to back on the CPU (stream.h), as the reference encoder does.
//
// The frames come either whole (one blob) or, with tiles_x/tiles_y set, as
// the RGBA8 tiles of a game frame's ray-traced units (tiles.h); tiles are
// assembled on the CPU before the plan and the reference see them, so both
// encode the very same frames.
//
// With continues = k > 0 the unit continues a stream cut into units (a
// game's video, one unit per frame): its last k inputs are the outputs of
// the k units before it, oldest first, back to a self-contained one. The CPU
// (reference and plan builder alike, before any dispatch) decodes that chain
// to its last reconstructed frame, and the unit codes its frame 0 as a
// P-frame against it, exactly as a frame within one unit predicts from the
// frame before.
#include <optional>
#include <span>
#include <sstream>

#include "kernels/image.h"
#include "kernels/registry.h"
#include "kernels/video/decoder.h"
#include "kernels/video/encoder.h"
#include "kernels/video/scene.h"
#include "kernels/video/stream.h"
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

EncodeSettings settings_of(const Params& p, ByteView reference = {}) {
  return {Geometry{p.u32("width"), p.u32("height")}, p.u32("frames"), p.u32("quality"),
          p.u32("search"), reference};
}

uint32_t chain_of(const Params& p) { return p.u32("continues"); }

bool tiled(const Params& p) { return p.get("tiles_x") != 0; }

TiledFrames tiled_of(const Params& p) {
  return {p.u32("width"), p.u32("height"), p.u32("frames"),
          TileGrid{p.u32("tiles_x"), p.u32("tiles_y")}};
}

// What a unit encodes, checked: its frames (tiles assembled) and, for a
// continued stream, the reconstruction its frame 0 predicts from.
struct UnitInputs {
  ByteView input;   // whole frames: the unit's first input (not copied)
  Bytes assembled;  // tiled units: the frames assembled from the tiles
  Bytes reference;  // empty unless continues > 0
  ByteView frames() const { return assembled.empty() ? input : ByteView(assembled); }
};

// The last reconstructed frame of the reference chain, which must be coded
// at this unit's size and quality.
Result<Bytes> reference_of(const Params& p, std::span<const Bytes> streams) {
  std::vector<ByteView> views(streams.begin(), streams.end());
  auto last = video::decode_chain(views);
  if (!last.ok()) return last.status().with_context("video: reference streams (continues)");
  if (last->width != p.u32("width") || last->height != p.u32("height") ||
      last->quality != p.u32("quality")) {
    return invalid_argument("video: the reference streams are " + std::to_string(last->width) +
                            "x" + std::to_string(last->height) + " quality " +
                            std::to_string(last->quality) + ", this unit codes " +
                            std::to_string(p.get("width")) + "x" + std::to_string(p.get("height")) +
                            " quality " + std::to_string(p.get("quality")) +
                            "; a stream keeps its size and quality");
  }
  return last->last_reconstruction();
}

class VideoKernel final : public Kernel {
 public:
  std::string name() const override { return "video"; }
  // 2: the output is the compact stream (formats 3 and 4), no longer padded.
  uint32_t version() const override { return 2; }
  std::string family() const override { return "video"; }
  std::string description() const override {
    return "I/P-frame video coding: YCbCr 4:2:0, motion search, 8x8 integer DCT, run-length + "
           "Exp-Golomb slices";
  }
  std::vector<Shader> shaders() const override {
    return {{"video_mb", video_mb_spv, {.binding_count = 5, .push_constant_size = 20}},
            {"video_entropy", video_entropy_spv, {.binding_count = 3, .push_constant_size = 20}}};
  }
  std::vector<ParamSpec> param_specs() const override {
    return {{"width", 16, video::kMaxWidth, 320, "frame width in pixels (multiple of 16)"},
            {"height", 16, video::kMaxHeight, 240, "frame height in pixels (multiple of 16)"},
            {"frames", 1, video::kMaxFrames, 6, "frames: one I-frame, then P-frames"},
            {"quality", 1, 100, 75, "quantiser quality (libjpeg scale: 1 coarsest, 100 finest)"},
            {"search", 0, video::kMaxSearch, 8, "motion search range in pixels (+-)"},
            {"tiles_x", 0, kMaxTiles, 0,
             "0: the input is whole frames; else each frame comes as tiles_x x tiles_y tiles"},
            {"tiles_y", 0, kMaxTiles, 0, "tile rows per frame (0 exactly when tiles_x is 0)"},
            {"continues", 0, video::kMaxChain, 0,
             "0: frame 0 is an I-frame; k: the unit continues a stream, its last k inputs being "
             "the k previous units' outputs (oldest first), and frame 0 is a P-frame"}};
  }
  std::vector<std::string> input_names() const override { return {"frames"}; }
  std::vector<std::string> input_names_for(const Params& p) const override {
    std::vector<std::string> names =
        tiled(p) ? video::tile_input_names(tiled_of(p)) : input_names();
    const uint32_t k = chain_of(p);
    for (uint32_t i = 1; i <= k; ++i)
      names.push_back("reference stream " + std::to_string(i) + " of " + std::to_string(k) +
                      (i == 1 ? " (self-contained)" : "") + (i == k ? " (the unit before)" : ""));
    return names;
  }

  // A continued unit's references are the seeded sequence's first k frames,
  // each its own unit continuing the one before; the unit codes the frames
  // after them: one stream cut into units, as a game makes.
  Result<std::vector<Bytes>> generate_inputs(const Params& p) const override {
    const uint32_t k = chain_of(p), frames = p.u32("frames");
    const Geometry g{p.u32("width"), p.u32("height")};
    const std::vector<uint32_t> all =
        video::synthetic_frames(g.width, g.height, k + frames, p.seed);
    std::vector<Bytes> refs;
    video::DecodedVideo previous;
    for (uint32_t i = 0; i < k; ++i) {
      const Bytes reference = i == 0 ? Bytes{} : previous.last_reconstruction();
      EncodeSettings s{g, 1, p.u32("quality"), p.u32("search"), reference};
      refs.push_back(video::encode_video(
          s, std::vector<uint32_t>(all.begin() + i * g.luma(), all.begin() + (i + 1) * g.luma()),
          1));
      auto decoded = video::decode_video(refs.back(), i == 0 ? nullptr : &previous);
      if (!decoded.ok()) return decoded.status().with_context("video: generating references");
      previous = std::move(*decoded);
    }
    Bytes own = to_bytes(std::vector<uint32_t>(all.begin() + k * g.luma(), all.end()));
    std::vector<Bytes> inputs =
        tiled(p) ? video::cut_tiles(tiled_of(p), own) : std::vector<Bytes>{std::move(own)};
    for (Bytes& r : refs) inputs.push_back(std::move(r));
    return inputs;
  }
  Status check_inputs(const Params& p, const std::vector<Bytes>& inputs) const override {
    return unit_inputs(p, inputs).status();
  }

  Result<Bytes> reference(const Params& p, const std::vector<Bytes>& inputs,
                          unsigned threads) const override {
    P2C2R_ASSIGN_OR_RETURN(const UnitInputs in, unit_inputs(p, inputs));
    return video::encode_video(settings_of(p, in.reference), from_bytes<uint32_t>(in.frames()),
                               threads);
  }

  Result<Plan> plan(const Params& p, const std::vector<Bytes>& inputs,
                    uint32_t local_size) const override {
    P2C2R_ASSIGN_OR_RETURN(UnitInputs in, unit_inputs(p, inputs));
    const EncodeSettings s = settings_of(p, in.reference);
    const Geometry& g = s.geometry;
    const uint32_t w = g.width, h = g.height, frames = s.frames, continued = s.continued();
    const uint64_t slices = uint64_t{g.mbs_y()} * frames;
    const auto q = video::quant_table(s.quality);
    const Bytes header = to_bytes(video::stream_header(s));
    // Frame 0 predicts from slot 1 of the ping-pong pair (video_mb.comp):
    // where a continued stream's reference goes.
    Bytes recon;
    if (continued) {
      recon.assign(g.frame_words(), 0);
      recon.insert(recon.end(), in.reference.begin(), in.reference.end());
    }
    Plan plan;
    plan.buffers = {
        {.size = in.frames().size(), .init = Bytes(in.frames().begin(), in.frames().end())},  // 0
        {.size = g.frame_words() * 2, .init = std::move(recon)},  // 1 reconstruction (2 frames)
        {.size = uint64_t{g.mbs()} * video::kCoefWordsPerMb * 4 * frames, .init = {}},  // 2 levels
        {.size = uint64_t{g.mbs()} * 4 * frames, .init = {}},                           // 3 mb info
        {.size = q.size() * 4,
         .init = to_bytes(std::vector<uint32_t>(q.begin(), q.end()))},   // 4 quantiser
        {.size = header.size(), .init = header},                         // 5 header
        {.size = (slices + slices * g.region_words()) * 4, .init = {}},  // 6 stream
    };
    for (uint32_t f = 0; f < frames; ++f) {
      plan.dispatches.push_back({.shader = 0,
                                 .buffers = {0, 1, 2, 3, 4},
                                 .push = push_words({w, h, f, s.search, continued}),
                                 .groups = {groups_for(g.mbs(), local_size), 1, 1}});
    }
    plan.dispatches.push_back({.shader = 1,
                               .buffers = {2, 3, 6},
                               .push = push_words({w, h, frames, g.region_words(), continued}),
                               .groups = {groups_for(slices, local_size), 1, 1}});
    plan.outputs = {5, 6};  // the padded layout; finish_output compacts it
    return plan;
  }

  // The device writes each slice into its own worst-case region; the unit's
  // output drops the padding (a 320x240 frame's ~385 KB become a few KB),
  // which every store, digest, upload and continuing unit's download sees.
  Result<Bytes> finish_output(const Params& p, Bytes device_output) const override {
    const video::StreamLayout layout{Geometry{p.u32("width"), p.u32("height")}, p.u32("frames"),
                                     chain_of(p) > 0};
    return video::compact_stream(layout, device_output);
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
    const uint64_t searched = s.frames - (chain_of(p) > 0 ? 0 : 1);
    return (colour + transform + entropy) * s.frames + search * searched;
  }
  // Megapixels, the unit video throughput is quoted in.
  double work_items(const Params& p) const override {
    return double(p.get("width")) * double(p.get("height")) * double(p.get("frames")) / 1e6;
  }
  std::string work_unit_name() const override { return "Mpixel"; }
  std::map<std::string, int64_t> small_params() const override {
    return {{"width", 64}, {"height", 48}, {"frames", 3}, {"quality", 60}, {"search", 4}};
  }

  uint32_t continued_outputs(const Params& p) const override { return chain_of(p); }

  // Without the outputs it continues, a continued unit is shown after the
  // references its seed generates (what `p2c2r run` coded it against); the
  // recorded checksum refuses any other.
  Result<std::string> write_output(const Params& p, ByteView output,
                                   const std::string& path) const override {
    std::vector<Bytes> earlier;
    if (chain_of(p) > 0) {
      P2C2R_ASSIGN_OR_RETURN(std::vector<Bytes> inputs, generate_inputs(p));
      earlier.assign(inputs.end() - chain_of(p), inputs.end());
    }
    return write_continued_output(p, earlier, output, path);
  }

  Result<std::string> write_continued_output(const Params& p, const std::vector<Bytes>& earlier,
                                             ByteView output,
                                             const std::string& path) const override {
    std::optional<video::DecodedVideo> previous;
    if (!earlier.empty()) {
      auto last = video::decode_chain(std::vector<ByteView>(earlier.begin(), earlier.end()));
      if (!last.ok()) return last.status().with_context("the streams this unit continues");
      previous = std::move(*last);
    }
    auto decoded = video::decode_video(output, previous ? &*previous : nullptr);
    if (!decoded.ok()) return decoded.status();
    const uint32_t last = decoded->frames - 1;
    P2C2R_RETURN_IF_ERROR(write_png(path, decoded->width, decoded->height, decoded->rgba(last)));
    std::ostringstream format;
    format.precision(3);
    format << "PNG of decoded frame " << last << " of " << decoded->frames
           << (decoded->continued ? " (P-frames continuing the unit before)" : "") << ", "
           << decoded->bpp() << " bpp";
    // The originals are recreated from the seed; for uploaded frames this PSNR
    // would not apply, and tiled frames come from other units (a game's tiles).
    if (tiled(p) || chain_of(p) > 0) return format.str();
    auto inputs = generate_inputs(p);
    if (inputs.ok() &&
        (*inputs)[0].size() == uint64_t{decoded->width} * decoded->height * 4 * decoded->frames) {
      auto quality = video::measure_quality(*decoded, (*inputs)[0]);
      if (quality.ok())
        format << ", PSNR Y " << quality->psnr_y << " dB, RGB " << quality->psnr_rgb << " dB";
    }
    return format.str();
  }

 private:
  Result<UnitInputs> unit_inputs(const Params& p, const std::vector<Bytes>& inputs) const {
    const uint32_t k = chain_of(p);
    const size_t expected = input_names_for(p).size();
    if (k > 0 && inputs.size() != expected) {  // without references, the frame checks count
      return invalid_argument("video: expected " + std::to_string(expected) + " inputs (" +
                              std::to_string(expected - k) + " of frames, " + std::to_string(k) +
                              " reference streams), got " + std::to_string(inputs.size()));
    }
    // The frame inputs come first. Viewed, not copied: the reference's time is measured.
    const auto own = std::span<const Bytes>(inputs).first(inputs.size() - k);
    UnitInputs in;
    if (tiled(p)) {
      P2C2R_RETURN_IF_ERROR(video::check_tiles(tiled_of(p), own));
      in.assembled = video::assemble_tiles(tiled_of(p), own);
    } else {
      P2C2R_RETURN_IF_ERROR(expect_input_sizes(
          input_names(), own, {uint64_t{p.u32("width")} * p.u32("height") * 4 * p.u32("frames")}));
      in.input = own[0];
    }
    if (k > 0) {
      P2C2R_ASSIGN_OR_RETURN(in.reference, reference_of(p, std::span<const Bytes>(inputs).last(k)));
    }
    return in;
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
