// Test helpers for ray-traced images: where a scene point lands in the frame,
// and a pixel's colour (doubles are fine here: the tests only pick pixels).
#pragma once

#include <cstdint>
#include <utility>

#include "common/bytes.h"
#include "kernels/raytrace/scene.h"

namespace p2c2r::raytrace_pixels {

using kernels::raytrace::Scene;
using kernels::raytrace::Vec3;

// Pixel (column, row) of a scene point in a w x h frame.
inline std::pair<uint32_t, uint32_t> project(const Scene& s, Vec3 p, uint32_t w, uint32_t h) {
  auto d = [](int32_t v) { return v / 65536.0; };
  const double vx = d(p.x - s.camera.eye.x), vy = d(p.y - s.camera.eye.y),
               vz = d(p.z - s.camera.eye.z);
  auto dot = [&](Vec3 a) { return vx * d(a.x) + vy * d(a.y) + vz * d(a.z); };
  auto len2 = [&](Vec3 a) { return d(a.x) * d(a.x) + d(a.y) * d(a.y) + d(a.z) * d(a.z); };
  const double lambda = dot(s.camera.forward) / len2(s.camera.forward);
  const double sx = dot(s.camera.right) / (lambda * len2(s.camera.right));
  const double sy = dot(s.camera.up) / (lambda * len2(s.camera.up));
  return {static_cast<uint32_t>((sx * h + w) / 2), static_cast<uint32_t>((h - sy * h) / 2)};
}

struct Rgb {
  int r, g, b;
};

inline Rgb pixel(const Bytes& image, uint32_t w, std::pair<uint32_t, uint32_t> xy) {
  const size_t i = (size_t{xy.second} * w + xy.first) * 4;
  return {image[i], image[i + 1], image[i + 2]};
}

}  // namespace p2c2r::raytrace_pixels
