// The raytrace family: one tile of a frame of a 3D scene (spheres, planes,
// BVH-accelerated triangle meshes, point lights with hard shadows, Lambert +
// Phong shading, mirror bounces, jittered samples) in Q16.16 fixed point.
// The scene is the input blob, or, with from_world=1, built from a physics
// world (world_scene.h) on the CPU before the reference or the device sees it.
// Scene format and conventions: docs/kernels/raytrace.md.
#include "kernels/image.h"
#include "kernels/physics/world.h"
#include "kernels/raytrace/demo_scene.h"
#include "kernels/raytrace/render.h"
#include "kernels/raytrace/scene.h"
#include "kernels/raytrace/world_scene.h"
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

bool from_world(const Params& p) { return p.get("from_world") != 0; }

raytrace::WorldShape world_shape_of(const Params& p) {
  return {.bodies = p.u32("world_bodies"),
          .grid = p.u32("world_grid"),
          .radius = static_cast<int32_t>(p.get("world_radius"))};
}

// The scene blob the unit renders, checked: the input itself, or the scene
// drawn from the input world. Both the reference and the device plan render
// what this returns, so they see the same bytes.
Result<Bytes> scene_blob(const Params& p, const std::vector<Bytes>& inputs) {
  const char* name = from_world(p) ? "world" : "scene";
  if (inputs.size() != 1) {
    return invalid_argument("expected 1 input blob (" + std::string(name) + "), got " +
                            std::to_string(inputs.size()));
  }
  if (!from_world(p)) {
    P2C2R_RETURN_IF_ERROR(raytrace::parse_scene(inputs[0]).status());
    return inputs[0];
  }
  const raytrace::WorldShape shape = world_shape_of(p);
  P2C2R_RETURN_IF_ERROR(
      raytrace::check_world_input(shape, inputs[0]).with_context("input 'world'"));
  Bytes blob = raytrace::serialize_scene(raytrace::scene_from_world(shape, inputs[0]));
  // Cannot fail for a checked world; checked anyway, as every uploaded scene is.
  P2C2R_RETURN_IF_ERROR(raytrace::parse_scene(blob).status().with_context("scene of the world"));
  return blob;
}

uint32_t ceil_log2(uint32_t n) {
  uint32_t k = 0;
  while ((1u << k) < n) ++k;
  return k;
}

class RaytraceKernel final : public Kernel {
 public:
  std::string name() const override { return "raytrace"; }
  uint32_t version() const override { return 2; }
  std::string family() const override { return "raytrace"; }
  std::string description() const override {
    return "a tile of a ray-traced frame: spheres, planes, BVH triangle meshes, hard shadows, "
           "mirror reflections, Q16.16 fixed point, RGBA8 out";
  }
  std::vector<Shader> shaders() const override {
    return {{"raytrace",
             raytrace_spv,
             {.binding_count = 2, .push_constant_size = 32, .texel_bindings = 1}}};
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
        {"from_world", 0, 1, 0,
         "0: the input is a scene; 1: the input is a physics world, drawn as spheres"},
        {"world_bodies", 1, raytrace::kMaxWorldBodies, 64,
         "from_world: bodies in the world (its physics 'bodies')"},
        {"world_grid", 2, 64, 6, "from_world: the world's box side in units (its physics 'grid')"},
        {"world_radius", physics::kOne / 4, physics::kOne / 2, physics::kOne / 2,
         "from_world: the bodies' radius, Q16.16 units (its physics 'radius')"},
    };
  }
  std::vector<std::string> input_names() const override { return {"scene"}; }
  std::vector<std::string> input_names_for(const Params& p) const override {
    return {from_world(p) ? "world" : "scene"};
  }

  // from_world: a world as a physics unit would start from (bodies at rest).
  Result<std::vector<Bytes>> generate_inputs(const Params& p) const override {
    if (from_world(p)) {
      return std::vector<Bytes>{
          physics::generate_world(raytrace::physics_config(world_shape_of(p)), p.seed)};
    }
    return std::vector<Bytes>{
        raytrace::serialize_scene(raytrace::make_demo_scene(p.seed, p.u32("mesh_detail")))};
  }

  Status check_inputs(const Params& p, const std::vector<Bytes>& inputs) const override {
    return scene_blob(p, inputs).status();
  }

  Result<Bytes> reference(const Params& p, const std::vector<Bytes>& inputs,
                          unsigned threads) const override {
    P2C2R_ASSIGN_OR_RETURN(const Bytes blob, scene_blob(p, inputs));
    auto scene = raytrace::parse_scene(blob);
    if (!scene.ok()) return scene.status();
    return raytrace::render_tile(*scene, tile_of(p), threads);
  }

  Result<Plan> plan(const Params& p, const std::vector<Bytes>& inputs,
                    uint32_t local_size) const override {
    P2C2R_ASSIGN_OR_RETURN(Bytes blob, scene_blob(p, inputs));
    const TileSpec t = tile_of(p);
    const uint64_t pixels = uint64_t{t.tile_width} * t.tile_height;
    Plan plan;
    const uint64_t scene_size = blob.size();
    plan.buffers.push_back({.size = scene_size, .init = std::move(blob)});
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

  // Integer-op estimate, calibrated on the reference's own test counts
  // (scene version 2: SAH tree, leaves of 4, the box around the spheres).
  // Per primary ray at max_depth 3: 2.05 closest-hit traces and 1.86 shadow
  // rays; per traced ray: 4.0 of the demo's 6 sphere tests (26.8 of a
  // world's 64), 1 sphere-box test plus ~0.5·log2(triangles) BVH boxes and
  // ~0.9 triangle tests. Weights: a box or sphere test ~40 ops, a triangle
  // test ~100 (64-bit products count as several 32-bit ops), shading ~200
  // per hit, ray setup ~100. Only credit, scheduling and the bench's
  // fraction-of-peak column use it.
  uint64_t cost(const Params& p) const override {
    const uint64_t spheres = from_world(p) ? p.get("world_bodies") : raytrace::kDemoSpheres;
    const uint64_t tris = from_world(p) ? 0 : raytrace::demo_triangle_count(p.u32("mesh_detail"));
    const uint64_t boxes = 1 + (tris ? (ceil_log2(uint32_t(tris)) + 1) / 2 : 0);
    const uint64_t per_ray = 40 * boxes + 40 * ((spheres + 1) / 2) + (tris ? 100 : 0);
    const uint64_t traces = p.get("max_depth") == 0 ? 1 : 2;
    // Shadow rays: ~0.45 per light and trace (only lit, facing surfaces cast one).
    const uint64_t rays_x20 = traces * (20 + 9 * raytrace::kDemoLights);
    return uint64_t(work_items(p)) * (rays_x20 * per_ray / 20 + 200 * traces + 100);
  }
  // Primary rays (pixels x samples); each spawns up to max_depth mirror rays
  // and one shadow ray per light at every hit.
  double work_items(const Params& p) const override {
    return double(p.get("tile_width")) * double(p.get("tile_height")) * double(p.get("samples"));
  }
  std::string work_unit_name() const override { return "rays"; }

  std::map<std::string, int64_t> small_params() const override {
    return {{"width", 64},  {"height", 48},     {"tile_x", 16},
            {"tile_y", 12}, {"tile_width", 40}, {"tile_height", 30},
            {"samples", 2}, {"max_depth", 2},   {"mesh_detail", 1}};
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
      return invalid_argument(
          "tile " + std::to_string(t.tile_width) + "x" + std::to_string(t.tile_height) + " at (" +
          std::to_string(t.tile_x) + ", " + std::to_string(t.tile_y) + ") does not fit in the " +
          std::to_string(t.frame_width) + "x" + std::to_string(t.frame_height) + " frame");
    }
    if (t.frame_width > kMaxAspect * t.frame_height ||
        t.frame_height > kMaxAspect * t.frame_width) {
      return invalid_argument("frame aspect ratio must be at most " + std::to_string(kMaxAspect) +
                              ":1");
    }
    const uint64_t grid = p.get("world_grid");
    if (from_world(p) && uint64_t(p.get("world_bodies")) > grid * grid * grid) {
      return invalid_argument("world_bodies=" + std::to_string(p.get("world_bodies")) +
                              " exceeds world_grid^3=" + std::to_string(grid * grid * grid) +
                              " (the physics kernel's own limit)");
    }
    return Status::Ok();
  }
};

}  // namespace

void register_raytrace_kernels(Registry& registry) {
  registry.add(std::make_unique<RaytraceKernel>());
}

}  // namespace p2c2r::kernels
