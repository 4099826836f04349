// The BVH builder: whatever the triangles, the tree it builds passes the
// scene validation (a tree no deeper than the traversal stack, leaves within
// the format's limit), every triangle sits in exactly one leaf whose box
// holds it, and the same triangles always give the same bytes.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/raytrace/bvh.h"
#include "kernels/raytrace/demo_scene.h"
#include "kernels/raytrace/scene.h"

namespace p2c2r {
namespace {

namespace rt = kernels::raytrace;
using rt::kOne;

rt::Scene with_triangles(std::vector<rt::Triangle> tris) {
  rt::Scene s = rt::make_demo_scene(1, 0);
  for (auto& t : tris) t.normal = {0, kOne, 0};
  s.triangles = std::move(tris);
  rt::build_bvh(s);
  return s;
}

bool box_holds(const rt::BvhNode& n, rt::Vec3 v) {
  return v.x >= n.min.x && v.x <= n.max.x && v.y >= n.min.y && v.y <= n.max.y && v.z >= n.min.z &&
         v.z <= n.max.z;
}

void expect_sound(const rt::Scene& built) {
  const auto parsed = rt::parse_scene(rt::serialize_scene(built));
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  std::vector<int> leaves_of(parsed->triangles.size(), 0);
  for (const rt::BvhNode& n : parsed->nodes) {
    EXPECT_LE(n.count, rt::kBuildLeafTriangles);
    for (uint32_t i = n.first; i < n.first + n.count; ++i) {
      ++leaves_of[i];
      const rt::Triangle& t = parsed->triangles[i];
      EXPECT_TRUE(box_holds(n, t.v0) && box_holds(n, t.v1) && box_holds(n, t.v2)) << i;
    }
  }
  for (size_t i = 0; i < leaves_of.size(); ++i) EXPECT_EQ(leaves_of[i], 1) << i;
}

// Slivers of geometrically shrinking length along x, all starting at the
// same point, and many copies of the smallest: the cheapest SAH cut peels
// the largest off one at a time, which would make a chain deeper than the
// stack without the depth limit.
TEST(RaytraceBvhTest, LopsidedMeshesStayWithinTheStackDepth) {
  std::vector<rt::Triangle> tris;
  for (int k = 0; k < 23; ++k) {
    const int32_t len = (127 * kOne) >> k;
    tris.push_back({{0, 0, 0}, {len, 0, 0}, {len, kOne / 4096, 0}, {}, 0});
  }
  for (int k = 0; k < 3000; ++k) {
    const int32_t z = (k % 50) * 256;
    tris.push_back({{0, 0, z}, {16, 0, z}, {16, 16, z}, {}, 0});
  }
  expect_sound(with_triangles(tris));
}

TEST(RaytraceBvhTest, FansAndGridsAreSoundAndDeterministic) {
  std::vector<rt::Triangle> fan, grid;
  for (int k = 0; k < 4096; ++k) {
    const int32_t a = (k % 64 - 32) * kOne, b = (k / 64 - 32) * kOne;
    fan.push_back({{0, 0, 0}, {a, kOne, b}, {a + kOne / 8, kOne, b}, {}, 0});
    grid.push_back({{a, 0, b}, {a + kOne, 0, b}, {a, 0, b + kOne}, {}, 0});
  }
  expect_sound(with_triangles(fan));
  expect_sound(with_triangles(grid));
  EXPECT_EQ(rt::serialize_scene(with_triangles(fan)), rt::serialize_scene(with_triangles(fan)));
}

}  // namespace
}  // namespace p2c2r
