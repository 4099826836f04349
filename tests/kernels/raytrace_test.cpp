// The raytrace kernel beyond the generic conformance checks: malformed scene
// blobs are refused with a message naming the problem, a rendered image shows
// what the scene holds (sky, coloured sphere, shadow), tiles compose into the
// full frame, and the device agrees with the reference on more than one scene.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "common/digest.h"
#include "kernels/raytrace/demo_scene.h"
#include "kernels/raytrace/scene.h"
#include "kernels/registry.h"
#include "runtime/execute.h"
#include "tests/kernels/raytrace_pixels.h"
#include "tests/support/kernels.h"

namespace p2c2r {
namespace {

using kernels::raytrace::kOne;
using kernels::raytrace::Scene;
using kernels::raytrace::Vec3;
namespace rt = kernels::raytrace;
using raytrace_pixels::pixel;
using raytrace_pixels::project;
using raytrace_pixels::Rgb;

const kernels::Kernel& raytrace_kernel() { return testing::kernel("raytrace"); }

kernels::Params params(std::map<std::string, int64_t> given, uint64_t seed = 1) {
  return testing::resolved("raytrace", given, seed);
}

constexpr int32_t u(int32_t num, int32_t den = 1) {
  return static_cast<int32_t>(int64_t{num} * kOne / den);
}

Scene demo() { return rt::make_demo_scene(7, 1); }

// Checks that a blob is refused by check_inputs and by the reference, with a
// message containing `expected`.
void expect_rejected(const Bytes& blob, const std::string& expected) {
  const auto& k = raytrace_kernel();
  const auto p = params({{"width", 16}, {"height", 16}, {"tile_width", 16}, {"tile_height", 16}});
  const Status status = k.check_inputs(p, {blob});
  EXPECT_EQ(status.code(), Code::kInvalidArgument) << expected;
  EXPECT_NE(status.message().find(expected), std::string::npos) << status.message();
  EXPECT_FALSE(k.reference(p, {blob}, 1).ok()) << expected;
}

void put_word(Bytes& blob, size_t word, uint32_t value) {
  std::memcpy(blob.data() + word * 4, &value, 4);
}

TEST(RaytraceSceneTest, DemoSceneRoundTrips) {
  const Bytes blob = rt::serialize_scene(demo());
  auto parsed = rt::parse_scene(blob);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(rt::serialize_scene(*parsed), blob);
  EXPECT_EQ(parsed->triangles.size(), rt::demo_triangle_count(1));
  EXPECT_GT(parsed->nodes.size(), 1u);
}

TEST(RaytraceSceneTest, DemoSceneDependsOnSeed) {
  EXPECT_NE(rt::serialize_scene(rt::make_demo_scene(1, 0)),
            rt::serialize_scene(rt::make_demo_scene(2, 0)));
  EXPECT_EQ(rt::serialize_scene(rt::make_demo_scene(3, 0)),
            rt::serialize_scene(rt::make_demo_scene(3, 0)));
}

TEST(RaytraceSceneTest, RejectsTruncatedBlobs) {
  const Bytes blob = rt::serialize_scene(demo());
  expect_rejected(Bytes(blob.begin(), blob.begin() + 20), "shorter than the");
  expect_rejected(Bytes(blob.begin(), blob.end() - 4), "counts need");
  Bytes longer = blob;
  longer.resize(blob.size() + 16);
  expect_rejected(longer, "counts need");
}

TEST(RaytraceSceneTest, RejectsBadMagicAndVersion) {
  Bytes blob = rt::serialize_scene(demo());
  put_word(blob, 0, 0x12345678);
  expect_rejected(blob, "bad magic");
  blob = rt::serialize_scene(demo());
  put_word(blob, 1, rt::kSceneVersion + 1);
  expect_rejected(blob, "version 3 is not supported");
  blob = rt::serialize_scene(demo());
  put_word(blob, 1, 1);  // version 1: BVH nodes of 8 words
  expect_rejected(blob, "version 1 is not supported (this build reads version 2)");
}

TEST(RaytraceSceneTest, RejectsCountsOverTheLimits) {
  Bytes blob = rt::serialize_scene(demo());
  put_word(blob, 3, rt::kMaxSpheres + 1);  // sphere count
  expect_rejected(blob, "sphere count");
  blob = rt::serialize_scene(demo());
  put_word(blob, 2, 0);  // material count
  expect_rejected(blob, "material count");
}

TEST(RaytraceSceneTest, RejectsOutOfRangeIndices) {
  Scene s = demo();
  s.spheres[0].material = static_cast<uint32_t>(s.materials.size());
  expect_rejected(rt::serialize_scene(s), "sphere 0 uses material");
  s = demo();
  s.triangles.back().material = 1000;
  expect_rejected(rt::serialize_scene(s), "uses material 1000");
  s = demo();
  for (auto& node : s.nodes) {
    if (node.count > 0) {
      node.first = static_cast<uint32_t>(s.triangles.size()) - 1;
      break;
    }
  }
  expect_rejected(rt::serialize_scene(s), "triangles past the end");
  s = demo();
  s.nodes[0].first = static_cast<uint32_t>(s.nodes.size()) - 1;  // second child past the end
  expect_rejected(rt::serialize_scene(s), "children must follow their parent");
}

// Version 2 stores a node as one quad: int16 box corners in 1/256 units and
// first * 16 + count; a count field over 8 is refused, and boxes written from
// off-grid values are rounded outwards so they still contain their contents.
TEST(RaytraceSceneTest, RejectsPackedLeafCountsOverTheLimit) {
  const Scene s = demo();
  const size_t node0 = rt::kHeaderWords;
  for (uint32_t count = rt::kMaxLeafTriangles + 1; count <= 15; ++count) {
    Bytes blob = rt::serialize_scene(s);
    put_word(blob, node0 + 3, count);  // the root as a leaf of `count` triangles
    expect_rejected(blob, "is a leaf of " + std::to_string(count) + " triangles");
  }
}

TEST(RaytraceSceneTest, RejectsTrianglePaddingAndReadsItsFieldsBack) {
  const Scene s = demo();
  const Bytes blob = rt::serialize_scene(s);
  const auto parsed = rt::parse_scene(blob);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  const rt::Triangle &a = s.triangles[1], &b = parsed->triangles[1];
  EXPECT_EQ(b.v0.x, a.v0.x);
  EXPECT_EQ(b.v2.z, a.v2.z);
  EXPECT_EQ(b.normal.z, a.normal.z);
  EXPECT_EQ(b.material, a.material);
  // Triangle 0's words 13..15 (after `material`) are padding.
  const size_t tri0 = rt::kHeaderWords + s.nodes.size() * rt::kNodeWords;
  Bytes bad = blob;
  put_word(bad, tri0 + 14, 1);
  expect_rejected(bad, "padding word");
}

TEST(RaytraceSceneTest, BoxCornersAreRoundedOutwardsToTheGrid) {
  Scene s = demo();
  s.nodes[0].min = {-rt::kBoxGrid - 1, 5, rt::kSceneBound};
  s.nodes[0].max = {-rt::kBoxGrid + 1, rt::kBoxGrid, rt::kSceneBound};
  const auto parsed = rt::parse_scene(rt::serialize_scene(s));
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  const rt::BvhNode& n = parsed->nodes[0];
  EXPECT_EQ(n.min.x, -2 * rt::kBoxGrid);
  EXPECT_EQ(n.min.y, 0);
  EXPECT_EQ(n.min.z, rt::kBoxHighest);  // 128 units is just past the int16 grid
  EXPECT_EQ(n.max.x, 0);
  EXPECT_EQ(n.max.y, rt::kBoxGrid);
  EXPECT_EQ(n.max.z, rt::kBoxHighest);
  EXPECT_EQ(parsed->nodes[0].first, s.nodes[0].first);
  EXPECT_EQ(parsed->nodes[0].count, s.nodes[0].count);
}

TEST(RaytraceSceneTest, RejectsCyclicBvh) {
  Scene s = demo();
  s.nodes[0].first = 0;  // the root its own child
  expect_rejected(rt::serialize_scene(s), "children must follow their parent");
  s = demo();
  // An internal node pointing back at an earlier node.
  for (uint32_t i = 1; i < s.nodes.size(); ++i) {
    if (s.nodes[i].count == 0) {
      s.nodes[i].first = 1;
      break;
    }
  }
  expect_rejected(rt::serialize_scene(s), "children must follow their parent");
}

TEST(RaytraceSceneTest, RejectsSharedAndOrphanNodes) {
  Scene s = demo();
  ASSERT_EQ(s.nodes[0].count, 0u);
  const uint32_t child = s.nodes[0].first;
  ASSERT_EQ(s.nodes[child].count, 0u);
  s.nodes[child].first = s.nodes[child + 1].first;  // two parents for the same pair
  expect_rejected(rt::serialize_scene(s), "parents, must have exactly 1");
}

TEST(RaytraceSceneTest, RejectsBvhDeeperThanTheStack) {
  Scene s = demo();
  s.nodes.clear();
  // A chain: node 2k has children 2k+1 (leaf) and 2k+2, kStackDepth + 1 levels deep.
  for (uint32_t level = 0; level <= rt::kStackDepth; ++level) {
    rt::BvhNode inner{s.triangles[0].v0, s.triangles[0].v0, 2 * level + 1, 0};
    rt::BvhNode leaf{s.triangles[0].v0, s.triangles[0].v0, 0, 1};
    if (level == rt::kStackDepth) inner = leaf;
    s.nodes.push_back(inner);
    if (level < rt::kStackDepth) s.nodes.push_back(leaf);
  }
  expect_rejected(rt::serialize_scene(s), "deeper than");
}

TEST(RaytraceSceneTest, RejectsValuesOutsideTheFixedPointBounds) {
  Scene s = demo();
  s.spheres[1].center.x = rt::kSceneBound + 1;
  expect_rejected(rt::serialize_scene(s), "sphere 1 centre.x");
  s = demo();
  s.planes[0].normal = {kOne / 2, 0, 0};
  expect_rejected(rt::serialize_scene(s), "not a unit vector");
  s = demo();
  s.spheres[0].radius = 0;
  expect_rejected(rt::serialize_scene(s), "radius");
  s = demo();
  s.lights[0].intensity.y = -1;
  expect_rejected(rt::serialize_scene(s), "light 0 intensity.y");
  s = demo();
  s.nodes[0].min.x = s.nodes[0].max.x + rt::kBoxGrid;
  expect_rejected(rt::serialize_scene(s), "min > max");
  Bytes blob = rt::serialize_scene(demo());
  put_word(blob, 11, 7);  // the padding word after the camera eye
  expect_rejected(blob, "padding word");
}

TEST(RaytraceParamsTest, RejectsTilesOutsideTheFrameAndExtremeAspect) {
  const auto& k = raytrace_kernel();
  auto outside =
      k.resolve_params(1, {{"width", 64}, {"height", 64}, {"tile_x", 40}, {"tile_width", 32}});
  EXPECT_EQ(outside.status().code(), Code::kInvalidArgument);
  EXPECT_NE(outside.status().message().find("does not fit"), std::string::npos);
  auto aspect = k.resolve_params(
      1, {{"width", 1000}, {"height", 100}, {"tile_width", 64}, {"tile_height", 64}});
  EXPECT_EQ(aspect.status().code(), Code::kInvalidArgument);
  EXPECT_NE(aspect.status().message().find("aspect"), std::string::npos);
}

// A scene built by hand: a grey ground plane, a red sphere floating above it,
// a light straight above the sphere, a camera looking down at an angle.
Scene shadow_scene() {
  Scene s;
  const Vec3 eye{0, u(4), u(-8)}, target{u(3, 2), 0, 0};
  const Vec3 f = rt::scale_to_unit(target - eye, rt::length_q(target - eye));
  const Vec3 r = rt::vscale(
      rt::scale_to_unit(rt::crossq({0, kOne, 0}, f), rt::length_q(rt::crossq({0, kOne, 0}, f))),
      u(6, 10));
  const Vec3 up0 = rt::crossq(f, r);
  const Vec3 up = rt::vscale(rt::scale_to_unit(up0, rt::length_q(up0)), u(6, 10));
  s.camera = {eye, f, r, up};
  s.sky_top = {u(2, 10), u(4, 10), u(9, 10)};
  s.sky_horizon = {u(4, 10), u(55, 100), u(9, 10)};
  s.ambient = {u(1, 10), u(1, 10), u(1, 10)};
  s.materials = {{{u(8, 10), u(8, 10), u(8, 10)}, {u(8, 10), u(8, 10), u(8, 10)}, 0, 0, 0, 0},
                 {{u(9, 10), u(1, 10), u(1, 10)}, {u(9, 10), u(1, 10), u(1, 10)}, 0, 0, 0, 0}};
  s.planes = {{{0, kOne, 0}, 0, 0}};
  s.spheres = {{{0, u(3, 2), 0}, kOne, 1}};
  s.lights = {{{0, u(10), 0}, {kOne, kOne, kOne}}};
  return s;
}

TEST(RaytraceRenderTest, ImageShowsSkySphereAndShadow) {
  const Scene s = shadow_scene();
  const uint32_t w = 96, h = 72;
  const auto p = params({{"width", w},
                         {"height", h},
                         {"tile_width", w},
                         {"tile_height", h},
                         {"samples", 1},
                         {"max_depth", 1}});
  auto image = raytrace_kernel().reference(p, {rt::serialize_scene(s)}, 1);
  ASSERT_TRUE(image.ok()) << image.status().to_string();

  const Rgb sky = pixel(*image, w, {w / 2, 0});
  EXPECT_GT(sky.b, sky.r + 40) << "the top row is blue sky";
  const Rgb sphere = pixel(*image, w, project(s, s.spheres[0].center, w, h));
  EXPECT_GT(sphere.r, sphere.g + 60) << "the sphere is red";
  EXPECT_GT(sphere.r, sphere.b + 60);
  const Rgb shadowed = pixel(*image, w, project(s, {0, 0, u(-1, 2)}, w, h));
  const Rgb lit = pixel(*image, w, project(s, {u(3), 0, u(-1, 2)}, w, h));
  EXPECT_LT(shadowed.g + 80, lit.g) << "the ground under the sphere is in its shadow";
  EXPECT_NEAR(shadowed.r, shadowed.g, 3) << "the shadow is grey ground, not the red sphere";
}

TEST(RaytraceRenderTest, QuarterTilesComposeTheFullFrame) {
  const auto& k = raytrace_kernel();
  const uint32_t w = 48, h = 40;
  const std::vector<Bytes> inputs = {rt::serialize_scene(rt::make_demo_scene(5, 0))};
  auto full = k.reference(
      params({{"width", w}, {"height", h}, {"tile_width", w}, {"tile_height", h}, {"samples", 2}}),
      inputs, 2);
  ASSERT_TRUE(full.ok());
  Bytes stitched(full->size());
  for (uint32_t ty = 0; ty < 2; ++ty) {
    for (uint32_t tx = 0; tx < 2; ++tx) {
      auto tile = k.reference(params({{"width", w},
                                      {"height", h},
                                      {"tile_x", tx * w / 2},
                                      {"tile_y", ty * h / 2},
                                      {"tile_width", w / 2},
                                      {"tile_height", h / 2},
                                      {"samples", 2}}),
                              inputs, 1);
      ASSERT_TRUE(tile.ok());
      for (uint32_t y = 0; y < h / 2; ++y) {
        std::memcpy(stitched.data() + ((ty * h / 2 + y) * w + tx * w / 2) * 4,
                    tile->data() + y * (w / 2) * 4, w / 2 * 4);
      }
    }
  }
  EXPECT_EQ(stitched, *full);
}

// The shader gives eight consecutive invocations a 4x2 pixel block and the
// leftover columns and row to the rest, row by row: tiles whose sides are not
// multiples of 4 and 2 (or smaller than a block) must still come out whole.
TEST(RaytraceRenderTest, DeviceMatchesReferenceOnTilesOfAnyShape) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const auto& k = raytrace_kernel();
  for (auto [w, h] : {std::pair{37, 23}, {3, 5}, {6, 1}, {1, 9}, {9, 3}}) {
    const auto p = params({{"width", 80},
                           {"height", 60},
                           {"tile_x", 21},
                           {"tile_y", 17},
                           {"tile_width", w},
                           {"tile_height", h},
                           {"samples", 2},
                           {"max_depth", 2},
                           {"mesh_detail", 1}});
    auto inputs = k.generate_inputs(p);
    ASSERT_TRUE(inputs.ok());
    auto reference = k.reference(p, *inputs, 1);
    ASSERT_TRUE(reference.ok());
    auto run = runtime::execute_unit(**device, k, p, *inputs, 32);
    ASSERT_TRUE(run.ok()) << run.status().to_string();
    EXPECT_EQ(run->digest, digest_of(*reference)) << w << "x" << h;
  }
}

TEST(RaytraceRenderTest, DeviceMatchesReferenceOnOtherScenes) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const auto& k = raytrace_kernel();
  for (uint64_t seed : {2u, 3u}) {
    const auto p = params({{"width", 80},
                           {"height", 60},
                           {"tile_x", 8},
                           {"tile_y", 20},
                           {"tile_width", 64},
                           {"tile_height", 40},
                           {"samples", 3},
                           {"max_depth", 4},
                           {"mesh_detail", 2}},
                          seed);
    auto inputs = k.generate_inputs(p);
    ASSERT_TRUE(inputs.ok());
    auto reference = k.reference(p, *inputs, 2);
    ASSERT_TRUE(reference.ok());
    auto run = runtime::execute_unit(**device, k, p, *inputs, 64);
    ASSERT_TRUE(run.ok()) << run.status().to_string();
    EXPECT_EQ(run->digest, digest_of(*reference)) << "seed " << seed;
  }
  // The hand-built scene too (no triangles, no BVH).
  const auto p = params(
      {{"width", 64}, {"height", 48}, {"tile_width", 64}, {"tile_height", 48}, {"samples", 2}});
  const std::vector<Bytes> inputs = {rt::serialize_scene(shadow_scene())};
  auto reference = k.reference(p, inputs, 1);
  ASSERT_TRUE(reference.ok());
  auto run = runtime::execute_unit(**device, k, p, inputs, 32);
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->digest, digest_of(*reference));

  // Rays starting inside a sphere (the far root: camera, light and every
  // shadow ray sit inside a mirror dome) and more than 32 spheres, most of
  // which a ray's line meets: the shader tests spheres by square-root-free
  // candidates first, and must still agree with the reference's plain loop.
  Scene dome = shadow_scene();
  dome.materials.push_back({{u(1, 2), u(1, 2), u(6, 10)}, {}, u(1, 2), 3, u(1, 2), 0});
  dome.spheres.push_back({{0, 0, 0}, u(30), 2});
  for (int32_t i = 0; i < 40; ++i) {
    dome.spheres.push_back(
        {{u(i % 8 - 4), u(1, 2) + u(i / 8, 2), u(6) + u(i % 3, 4)}, u(1, 3), uint32_t(i % 3)});
  }
  const std::vector<Bytes> dome_inputs = {rt::serialize_scene(dome)};
  const auto pd = params({{"width", 64},
                          {"height", 48},
                          {"tile_width", 64},
                          {"tile_height", 48},
                          {"samples", 2},
                          {"max_depth", 3}});
  auto dome_reference = k.reference(pd, dome_inputs, 1);
  ASSERT_TRUE(dome_reference.ok()) << dome_reference.status().to_string();
  auto dome_run = runtime::execute_unit(**device, k, pd, dome_inputs, 64);
  ASSERT_TRUE(dome_run.ok()) << dome_run.status().to_string();
  EXPECT_EQ(dome_run->digest, digest_of(*dome_reference));

  // No spheres at all (the box around the spheres is empty): triangles and
  // the plane only.
  Scene bare = demo();
  bare.spheres.clear();
  const std::vector<Bytes> bare_inputs = {rt::serialize_scene(bare)};
  auto bare_reference = k.reference(pd, bare_inputs, 1);
  ASSERT_TRUE(bare_reference.ok()) << bare_reference.status().to_string();
  auto bare_run = runtime::execute_unit(**device, k, pd, bare_inputs, 64);
  ASSERT_TRUE(bare_run.ok()) << bare_run.status().to_string();
  EXPECT_EQ(bare_run->digest, digest_of(*bare_reference));
}

}  // namespace
}  // namespace p2c2r
