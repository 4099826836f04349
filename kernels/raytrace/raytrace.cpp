// The raytrace family: one tile of a frame of a 3D scene (spheres, planes,
// BVH-accelerated triangle meshes, point lights with hard shadows, Lambert +
// Phong shading, mirror bounces, jittered samples) in Q16.16 fixed point.
// Scene format and conventions: docs/kernels/raytrace.md.
#include "kernels/image.h"
#include "kernels/raytrace/demo_scene.h"
#include "kernels/raytrace/render.h"
#include "kernels/raytrace/scene.h"
#include "kernels/registry.h"
#include "raytrace.spv.h"

namespace p2c2r::kernels {
namespace {

using raytrace::TileSpec;

constexpr uint32_t kMaxFrameSide = 4096;
constexpr uint32_t kMaxTileSide = 1024;
constexpr uint32_t kMaxAspect = 8;  // keeps the camera's screen coordinates within +-8

TileSpec tile_of(const Params& p) {
  return {.frame_width = p.u32("width"),
          .frame_height = p.u32("height"),
          .tile_x = p.u32("tile_x"),
          .tile_y = p.u32("tile_y"),
          .tile_width = p.u32("tile_width"),
          .tile_height = p.u32("tile_height"),
          .samples = p.u32("samples"),
          .max_depth = p.u32("max_depth")};
}

uint32_t ceil_log2(uint32_t n) {
  uint32_t k = 0;
  while ((1u << k) < n) ++k;
  return k;
}

class RaytraceKernel final : public Kernel {
 public:
  std::string name() const override { return "raytrace"; }
  uint32_t version() const override { return 1; }
  std::string family() const override { return "raytrace"; }
  std::string description() const override {
    return "a tile of a ray-traced frame: spheres, planes, BVH triangle meshes, hard shadows, "
           "mirror reflections, Q16.16 fixed point, RGBA8 out";
  }
  std::vector<Shader> shaders() const override {
    return {{"raytrace", raytrace_spv, {.binding_count = 2, .push_constant_size = 32}}};
  }
  std::vector<ParamSpec> param_specs() const override {
    return {
        {"width", 1, kMaxFrameSide, 256, "frame width in pixels"},
        {"height", 1, kMaxFrameSide, 256, "frame height in pixels"},
        {"tile_x", 0, kMaxFrameSide - 1, 0, "tile's left column in the frame"},
        {"tile_y", 0, kMaxFrameSide - 1, 0, "tile's top row in the frame"},
        {"tile_width", 1, kMaxTileSide, 256, "tile width in pixels"},
        {"tile_height", 1, kMaxTileSide, 256, "tile height in pixels"},
        {"samples", 1, raytrace::kMaxSamples, 4, "jittered samples per pixel (1 = pixel centre)"},
        {"max_depth", 0, raytrace::kMaxDepth, 3, "mirror bounces after the primary hit"},
        {"mesh_detail", 0, 3, 2, "demo scene icosphere subdivisions (20 * 4^n triangles)"},
    };
  }
  std::vector<std::string> input_names() const override { return {"scene"}; }

  Result<std::vector<Bytes>> generate_inputs(const Params& p) const override {
    return std::vector<Bytes>{
        raytrace::serialize_scene(raytrace::make_demo_scene(p.seed, p.u32("mesh_detail")))};
  }

  Status check_inputs(const Params&, const std::vector<Bytes>& inputs) const override {
    if (inputs.size() != 1) {
      return invalid_argument("expected 1 input blob (scene), got " + std::to_string(inputs.size()));
    }
    return raytrace::parse_scene(inputs[0]).status();
  }

  Result<Bytes> reference(const Params& p, const std::vector<Bytes>& inputs,
                          unsigned threads) const override {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    auto scene = raytrace::parse_scene(inputs[0]);
    return raytrace::render_tile(*scene, tile_of(p), threads);
  }

  Result<Plan> plan(const Params& p, const std::vector<Bytes>& inputs,
                    uint32_t local_size) const override {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    const TileSpec t = tile_of(p);
    const uint64_t pixels = uint64_t{t.tile_width} * t.tile_height;
    Plan plan;
    plan.buffers.push_back({.size = inputs[0].size(), .init = inputs[0]});
    plan.buffers.push_back({.size = pixels * 4, .init = {}});
    plan.dispatches.push_back(
        {.shader = 0,
         .buffers = {0, 1},
         .push = push_words({t.frame_width, t.frame_height, t.tile_x, t.tile_y, t.tile_width,
                             t.tile_height, t.samples, t.max_depth}),
         .groups = {groups_for(pixels, local_size), 1, 1}});
    plan.outputs = {1};
    return plan;
  }

  // Rough integer-op count of the demo scene: per traced ray, ~40 ops per
  // sphere and plane test and ~150 per BVH level (two boxes and a leaf's
  // triangles); per primary ray, one closest-hit trace plus one shadow trace
  // per light, for the primary hit and on average half the allowed bounces.
  uint64_t cost(const Params& p) const override {
    const uint64_t tris = raytrace::demo_triangle_count(p.u32("mesh_detail"));
    const uint64_t per_trace = 40 * (raytrace::kDemoSpheres + 1) + 150 * ceil_log2(uint32_t(tris));
    const uint64_t per_hit = per_trace * (1 + raytrace::kDemoLights) + 300;
    const uint64_t hits = 1 + p.get("max_depth") / 2;
    return uint64_t(work_items(p)) * (per_hit * hits + 200);
  }
  // Primary rays (pixels x samples); each spawns up to max_depth mirror rays
  // and one shadow ray per light at every hit.
  double work_items(const Params& p) const override {
    return double(p.get("tile_width")) * double(p.get("tile_height")) * double(p.get("samples"));
  }
  std::string work_unit_name() const override { return "rays"; }

  std::map<std::string, int64_t> small_params() const override {
    return {{"width", 64},       {"height", 48},  {"tile_x", 16},   {"tile_y", 12},
            {"tile_width", 40},  {"tile_height", 30}, {"samples", 2}, {"max_depth", 2},
            {"mesh_detail", 1}};
  }

  Result<std::string> write_output(const Params& p, ByteView output,
                                   const std::string& path) const override {
    P2C2R_RETURN_IF_ERROR(write_png(path, p.u32("tile_width"), p.u32("tile_height"), output));
    return std::string("PNG");
  }

 protected:
  Status check_params(const Params& p) const override {
    const TileSpec t = tile_of(p);
    if (uint64_t{t.tile_x} + t.tile_width > t.frame_width ||
        uint64_t{t.tile_y} + t.tile_height > t.frame_height) {
      return invalid_argument("tile " + std::to_string(t.tile_width) + "x" + std::to_string(t.tile_height) +
                              " at (" + std::to_string(t.tile_x) + ", " + std::to_string(t.tile_y) +
                              ") does not fit in the " + std::to_string(t.frame_width) + "x" +
                              std::to_string(t.frame_height) + " frame");
    }
    if (t.frame_width > kMaxAspect * t.frame_height || t.frame_height > kMaxAspect * t.frame_width) {
      return invalid_argument("frame aspect ratio must be at most " + std::to_string(kMaxAspect) + ":1");
    }
    return Status::Ok();
  }
};

}  // namespace

void register_raytrace_kernels(Registry& registry) {
  registry.add(std::make_unique<RaytraceKernel>());
}

}  // namespace p2c2r::kernels
