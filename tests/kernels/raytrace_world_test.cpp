// The ray tracer drawing a physics world (from_world=1, what a game's tiles
// do): the device renders the scene built from the world byte for byte like
// the CPU reference, the picture follows the bodies, and a world that is not
// valid for the parameters is refused before any dispatch.
#include <gtest/gtest.h>

#include <cstring>

#include "common/digest.h"
#include "kernels/physics/world.h"
#include "kernels/raytrace/world_scene.h"
#include "kernels/registry.h"
#include "runtime/execute.h"
#include "tests/kernels/raytrace_pixels.h"
#include "tests/support/kernels.h"

namespace p2c2r {
namespace {

namespace rt = kernels::raytrace;
using kernels::physics::Body;
using raytrace_pixels::project;

using testing::kernel;

kernels::Params params(const char* k, std::map<std::string, int64_t> given, uint64_t seed = 1) {
  return testing::resolved(k, given, seed);
}

constexpr int32_t kHalf = 1 << 15;  // 1/2 in Q16.16

// A frame of w x h drawing a world of `bodies` spheres of radius 1/2 in a 6-unit box.
kernels::Params world_frame(uint32_t w, uint32_t h, int64_t bodies, uint32_t samples = 1) {
  return params("raytrace", {{"width", w},
                             {"height", h},
                             {"tile_width", w},
                             {"tile_height", h},
                             {"samples", samples},
                             {"max_depth", 2},
                             {"from_world", 1},
                             {"world_bodies", bodies},
                             {"world_grid", 6},
                             {"world_radius", kHalf}});
}

// A world after a physics unit: 64 bodies fallen for 32 steps, many touching.
Bytes simulated_world() {
  const auto p =
      params("physics", {{"bodies", 64}, {"grid", 6}, {"radius", kHalf}, {"steps", 32}}, 3);
  auto start = kernel("physics").generate_inputs(p);
  auto world = kernel("physics").reference(p, *start, 2);
  if (!world.ok()) throw std::runtime_error(world.status().to_string());
  return *world;
}

Body at(double x, double y, double z) {
  auto q = [](double v) { return static_cast<int32_t>(v * 65536); };
  return {{q(x), q(y), q(z)}, {0, 0, 0}};
}

TEST(RaytraceWorldTest, DeviceMatchesReferenceOnASimulatedWorld) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const auto p = params("raytrace", {{"width", 80},
                                     {"height", 60},
                                     {"tile_x", 8},
                                     {"tile_y", 12},
                                     {"tile_width", 64},
                                     {"tile_height", 40},
                                     {"samples", 2},
                                     {"max_depth", 3},
                                     {"from_world", 1},
                                     {"world_bodies", 64},
                                     {"world_grid", 6},
                                     {"world_radius", kHalf}});
  const std::vector<Bytes> inputs = {simulated_world()};
  auto reference = kernel("raytrace").reference(p, inputs, 2);
  ASSERT_TRUE(reference.ok()) << reference.status().to_string();
  for (uint32_t local_size : {32u, 64u}) {
    auto run = runtime::execute_unit(**device, kernel("raytrace"), p, inputs, local_size);
    ASSERT_TRUE(run.ok()) << run.status().to_string();
    EXPECT_EQ(run->output, *reference) << "local size " << local_size;
  }
}

TEST(RaytraceWorldTest, SceneHasOneSpherePerBodyInsideTheBox) {
  const rt::WorldShape shape{64, 6, kHalf};
  const Bytes world = simulated_world();
  const rt::Scene s = rt::scene_from_world(shape, world);
  const auto bodies = kernels::physics::bodies_of(world);
  ASSERT_EQ(s.spheres.size(), 64u);
  for (size_t i = 0; i < bodies.size(); ++i) {
    const rt::Vec3 c = rt::world_to_scene(shape, bodies[i].p);
    EXPECT_EQ(s.spheres[i].center.x, c.x);
    EXPECT_EQ(s.spheres[i].center.y, c.y);
    EXPECT_EQ(s.spheres[i].center.z, c.z);
    EXPECT_EQ(s.spheres[i].radius, rt::kWorldBoxSide / 12) << "1/2 of 16/6 scene units";
    // Resting on the floor or above it, never through it.
    EXPECT_GE(s.spheres[i].center.y, s.spheres[i].radius - 1);
  }
  EXPECT_NE(s.spheres[0].material, s.spheres[1].material) << "neighbouring ids differ in colour";
}

TEST(RaytraceWorldTest, MovingOneBodyChangesThePixelsAroundItOnly) {
  const uint32_t w = 96, h = 72;
  const auto p = world_frame(w, h, 4);
  // Four bodies resting on the floor; body 0 then rolls from one corner of
  // the box's far side to the other.
  std::vector<Body> bodies = {at(1.5, 4.5, 0.5), at(1.5, 1.5, 0.5), at(4.5, 1.5, 0.5),
                              at(3, 3, 2.5)};
  const Bytes before = kernels::physics::world_blob(bodies);
  const Body from = bodies[0];
  bodies[0] = at(4.5, 4.5, 0.5);
  const Bytes after = kernels::physics::world_blob(bodies);
  auto a = kernel("raytrace").reference(p, {before}, 2);
  auto b = kernel("raytrace").reference(p, {after}, 2);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_TRUE(b.ok()) << b.status().to_string();

  const rt::WorldShape shape{4, 6, kHalf};
  const rt::Scene scene = rt::scene_from_world(shape, after);
  auto differs = [&](std::pair<uint32_t, uint32_t> xy) {
    const size_t i = (size_t{xy.second} * w + xy.first) * 4;
    return std::memcmp(a->data() + i, b->data() + i, 4) != 0;
  };
  EXPECT_TRUE(differs(project(scene, rt::world_to_scene(shape, from.p), w, h)))
      << "the body left its old place";
  EXPECT_TRUE(differs(project(scene, rt::world_to_scene(shape, bodies[0].p), w, h)))
      << "the body appears at its new place";
  EXPECT_FALSE(differs(project(scene, rt::world_to_scene(shape, bodies[3].p), w, h)))
      << "the body in the middle, in front of neither place, did not move";
  uint32_t changed = 0;
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) changed += differs({x, y});
  EXPECT_LT(changed, w * h / 4) << "one body moving is not a new picture";
  for (uint32_t y = 0; y < 8; ++y)
    for (uint32_t x = 0; x < 8; ++x)
      EXPECT_FALSE(differs({x, y})) << "far corner " << x << "," << y;
}

TEST(RaytraceWorldTest, BadWorldsAreRefusedBeforeAnyDispatch) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const auto p = world_frame(16, 16, 4);
  const std::vector<Body> good = {at(1.5, 4.5, 0.5), at(1.5, 1.5, 0.5), at(4.5, 1.5, 0.5),
                                  at(3, 3, 2.5)};
  Bytes truncated = kernels::physics::world_blob(good);
  truncated.resize(truncated.size() - 4);
  Bytes bad_magic = kernels::physics::world_blob(good);
  bad_magic[0] ^= 1;
  std::vector<Body> outside = good;
  outside[2] = at(4.5, 1.5, 5.9);  // pokes through the lid of the 6-unit box
  std::vector<Body> five = good;
  five.push_back(at(4.5, 4.5, 4.5));
  const Bytes scene = kernel("raytrace").generate_inputs(params("raytrace", {}))->at(0);
  const std::pair<std::vector<Bytes>, std::string> cases[] = {
      {{truncated}, "bytes, expected"},
      {{bad_magic}, "magic"},
      {{kernels::physics::world_blob(outside)}, "body 2"},
      {{kernels::physics::world_blob(five)}, "holds 5 bodies"},
      {{scene}, "input 'world'"},
      {{}, "expected 1 input blob (world)"},
      {{kernels::physics::world_blob(good), kernels::physics::world_blob(good)}, "got 2"},
  };
  for (const auto& [inputs, expected] : cases) {
    const Status checked = kernel("raytrace").check_inputs(p, inputs);
    EXPECT_EQ(checked.code(), Code::kInvalidArgument) << expected;
    EXPECT_NE(checked.message().find(expected), std::string::npos) << checked.message();
    EXPECT_FALSE(kernel("raytrace").reference(p, inputs, 1).ok()) << expected;
    EXPECT_FALSE(runtime::execute_unit(**device, kernel("raytrace"), p, inputs, 32).ok())
        << expected;
  }
}

TEST(RaytraceWorldTest, ParametersThatCannotDrawAWorldAreRefused) {
  const auto& k = kernel("raytrace");
  EXPECT_FALSE(k.resolve_params(1, {{"from_world", 1}, {"world_bodies", 65}}).ok())
      << "a scene holds at most 64 spheres";
  auto crowded = k.resolve_params(1, {{"from_world", 1}, {"world_bodies", 9}, {"world_grid", 2}});
  ASSERT_FALSE(crowded.ok());
  EXPECT_NE(crowded.status().message().find("world_grid^3"), std::string::npos);
  EXPECT_FALSE(k.resolve_params(1, {{"from_world", 1}, {"world_radius", 1 << 16}}).ok());
  // A world shape past the scene's limit is refused by the scene builder too.
  EXPECT_FALSE(rt::check_world_input({65, 6, kHalf}, Bytes(16 + 65 * 24)).ok());
}

TEST(RaytraceWorldTest, GeneratedWorldRendersOnItsOwn) {
  // `p2c2r run raytrace --param from_world=1` renders a seeded world.
  const auto p = world_frame(32, 24, 64);
  const auto& k = kernel("raytrace");
  EXPECT_EQ(k.input_names_for(p), std::vector<std::string>{"world"});
  EXPECT_EQ(k.input_names_for(params("raytrace", {})), std::vector<std::string>{"scene"});
  auto inputs = k.generate_inputs(p);
  ASSERT_TRUE(inputs.ok());
  auto image = k.reference(p, *inputs, 1);
  ASSERT_TRUE(image.ok()) << image.status().to_string();
  EXPECT_EQ(image->size(), 32u * 24 * 4);
}

}  // namespace
}  // namespace p2c2r
