#include "kernels/raytrace/demo_scene.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "common/rng.h"
#include "kernels/raytrace/bvh.h"

namespace p2c2r::kernels::raytrace {
namespace {

Vec3 normalize(Vec3 v) { return scale_to_unit(v, length_q(v)); }

// Unit normal of a triangle of any size: the exact Q32.32 cross product,
// shifted down just enough to normalize in Q16.16.
Vec3 face_normal(Vec3 a, Vec3 b, Vec3 c) {
  const Vec3 e1 = b - a, e2 = c - a;
  int64_t n[3] = {int64_t{e1.y} * e2.z - int64_t{e1.z} * e2.y,
                  int64_t{e1.z} * e2.x - int64_t{e1.x} * e2.z,
                  int64_t{e1.x} * e2.y - int64_t{e1.y} * e2.x};
  auto big = [&] {
    for (int64_t v : n) {
      if (v > (1 << 24) || v < -(1 << 24)) return true;
    }
    return false;
  };
  while (big()) {
    for (int64_t& v : n) v >>= 1;
  }
  return normalize(
      {static_cast<int32_t>(n[0]), static_cast<int32_t>(n[1]), static_cast<int32_t>(n[2])});
}

void add_triangle(Scene& s, Vec3 a, Vec3 b, Vec3 c, uint32_t material) {
  s.triangles.push_back({a, b, c, face_normal(a, b, c), material});
}

// A unit icosphere: the icosahedron, each face split into four `detail` times.
void add_icosphere(Scene& s, Vec3 center, int32_t radius, uint32_t detail, uint32_t material) {
  const int32_t phi = 106039;  // golden ratio in Q16.16
  std::vector<Vec3> v = {{-kOne, phi, 0}, {kOne, phi, 0}, {-kOne, -phi, 0}, {kOne, -phi, 0},
                         {0, -kOne, phi}, {0, kOne, phi}, {0, -kOne, -phi}, {0, kOne, -phi},
                         {phi, 0, -kOne}, {phi, 0, kOne}, {-phi, 0, -kOne}, {-phi, 0, kOne}};
  for (Vec3& p : v) p = normalize(p);
  std::vector<std::array<uint32_t, 3>> faces = {
      {0, 11, 5},  {0, 5, 1},  {0, 1, 7},  {0, 7, 10}, {0, 10, 11}, {1, 5, 9}, {5, 11, 4},
      {11, 10, 2}, {10, 7, 6}, {7, 1, 8},  {3, 9, 4},  {3, 4, 2},   {3, 2, 6}, {3, 6, 8},
      {3, 8, 9},   {4, 9, 5},  {2, 4, 11}, {6, 2, 10}, {8, 6, 7},   {9, 8, 1}};
  for (uint32_t level = 0; level < detail; ++level) {
    std::map<std::pair<uint32_t, uint32_t>, uint32_t> midpoints;
    auto mid = [&](uint32_t a, uint32_t b) {
      const auto key = std::minmax(a, b);
      auto [it, fresh] = midpoints.try_emplace(key, static_cast<uint32_t>(v.size()));
      if (fresh) v.push_back(normalize(v[a] + v[b]));
      return it->second;
    };
    std::vector<std::array<uint32_t, 3>> next;
    for (const auto& f : faces) {
      const uint32_t ab = mid(f[0], f[1]), bc = mid(f[1], f[2]), ca = mid(f[2], f[0]);
      next.push_back({f[0], ab, ca});
      next.push_back({f[1], bc, ab});
      next.push_back({f[2], ca, bc});
      next.push_back({ab, bc, ca});
    }
    faces = std::move(next);
  }
  for (const auto& f : faces) {
    add_triangle(s, center + vscale(v[f[0]], radius), center + vscale(v[f[1]], radius),
                 center + vscale(v[f[2]], radius), material);
  }
}

void add_pyramid(Scene& s, Vec3 base_center, int32_t half, int32_t height, uint32_t material) {
  const Vec3 apex = base_center + Vec3{0, height, 0};
  const Vec3 c[4] = {base_center + Vec3{-half, 0, -half}, base_center + Vec3{half, 0, -half},
                     base_center + Vec3{half, 0, half}, base_center + Vec3{-half, 0, half}};
  for (int i = 0; i < 4; ++i) add_triangle(s, c[i], c[(i + 1) % 4], apex, material);
  add_triangle(s, c[0], c[1], c[2], material);
  add_triangle(s, c[0], c[2], c[3], material);
}

}  // namespace

Material plain(Vec3 albedo, int32_t specular, int32_t shininess_log2, int32_t reflectivity) {
  return {albedo, albedo, specular, shininess_log2, reflectivity, 0};
}

Camera look_at(Vec3 eye, Vec3 target) {
  const Vec3 forward = normalize(target - eye);
  const int32_t tan_half = q(55, 100);
  const Vec3 right = vscale(normalize(crossq({0, kOne, 0}, forward)), tan_half);
  const Vec3 up = vscale(normalize(crossq(forward, right)), tan_half);
  return {eye, forward, right, up};
}

void set_demo_sky(Scene& s) {
  s.sky_top = {q(30, 100), q(50, 100), q(90, 100)};
  s.sky_horizon = {q(85, 100), q(90, 100), kOne};
  s.ambient = {q(12, 100), q(12, 100), q(14, 100)};
}

uint32_t demo_triangle_count(uint32_t mesh_detail) { return (20u << (2 * mesh_detail)) + 6; }

Scene make_demo_scene(uint64_t seed, uint32_t mesh_detail) {
  Rng rng(seed);
  auto jitter = [&](int32_t amount) { return static_cast<int32_t>(rng.between(-amount, amount)); };
  Scene s;
  const Vec3 eye{jitter(q(1, 2)), q(22, 10) + jitter(q(1, 4)), q(-13, 2)};
  s.camera = look_at(eye, {0, q(8, 10), q(8, 10)});
  set_demo_sky(s);

  s.materials = {
      {{q(9, 10), q(9, 10), q(9, 10)}, {q(22, 100), q(22, 100), q(28, 100)}, 0, 0, q(15, 100), 16},
      plain({q(9, 10), q(9, 10), q(9, 10)}, q(8, 10), 6, q(85, 100)),  // mirror
      plain({q(9, 10), q(7, 10), q(2, 10)}, q(6, 10), 5, q(25, 100)),  // gold icosphere
      plain({q(8, 10), q(35, 100), q(2, 10)}, q(2, 10), 3, 0),         // terracotta pyramid
  };
  const Vec3 palette[] = {{q(9, 10), q(15, 100), q(15, 100)}, {q(15, 100), q(75, 100), q(2, 10)},
                          {q(2, 10), q(35, 100), q(9, 10)},   {q(95, 100), q(85, 100), q(15, 100)},
                          {q(7, 10), q(25, 100), q(85, 100)}, {q(15, 100), q(8, 10), q(8, 10)}};
  for (const Vec3& c : palette) s.materials.push_back(plain(c, q(5, 10), 5, q(5, 100)));

  s.planes.push_back({{0, kOne, 0}, 0, 0});
  s.spheres.push_back({{q(-17, 10) + jitter(q(1, 5)), kOne, q(6, 10)}, kOne, 1});
  // Five coloured spheres on spots of a ring in front of the meshes.
  const Vec3 spots[] = {{q(-30, 10), 0, q(-15, 10)}, {q(-12, 10), 0, q(-22, 10)},
                        {q(5, 10), 0, q(-18, 10)},   {q(25, 10), 0, q(-14, 10)},
                        {q(-38, 10), 0, q(20, 10)},  {q(38, 10), 0, q(25, 10)}};
  const uint32_t skip = static_cast<uint32_t>(rng.below(6));
  for (uint32_t i = 0; i < 6; ++i) {
    if (i == skip) continue;
    const int32_t r = q(35, 100) + static_cast<int32_t>(rng.below(q(25, 100)));
    const uint32_t m = 4 + static_cast<uint32_t>(rng.below(6));
    s.spheres.push_back({{spots[i].x + jitter(q(2, 10)), r, spots[i].z + jitter(q(2, 10))}, r, m});
  }
  add_icosphere(s, {q(14, 10), q(11, 10), q(6, 10)}, q(11, 10), mesh_detail, 2);
  add_pyramid(s, {jitter(q(3, 10)), 0, q(32, 10)}, q(9, 10), q(16, 10), 3);
  build_bvh(s);

  s.lights.push_back({{q(45, 10) + jitter(kOne), q(65, 10), q(-35, 10) + jitter(kOne)},
                      {q(95, 100), q(9, 10), q(85, 100)}});
  s.lights.push_back(
      {{q(-55, 10) + jitter(kOne), q(45, 10), q(-15, 10)}, {q(3, 10), q(35, 100), q(45, 100)}});
  return s;
}

}  // namespace p2c2r::kernels::raytrace
