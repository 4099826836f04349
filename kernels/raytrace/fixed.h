// Fixed-point arithmetic of the ray tracer, shared by the CPU reference and
// the scene generator. Every function here has a twin of the same name in
// raytrace_math.glsl; both must give the same bits for every input the scene
// validation admits (docs/kernels/raytrace.md lists the bounds that keep every
// intermediate inside int64).
//
// Q16.16: an int32 `v` stands for v / 65536. Products are formed in int64;
// right shifts of negative values are arithmetic (C++20 and GLSL agree).
// Divisions only ever see non-negative operands, so rounding toward zero and
// flooring coincide on both sides.
#pragma once

#include <cstdint>

#include "kernels/isqrt.h"

namespace p2c2r::kernels::raytrace {

constexpr int32_t kOne = 1 << 16;

// numerator / denominator in Q16.16 (scene constants: q(9, 10) is 0.9).
constexpr int32_t q(int32_t numerator, int32_t denominator) {
  return static_cast<int32_t>(int64_t{numerator} * kOne / denominator);
}

struct Vec3 {
  int32_t x = 0, y = 0, z = 0;
};

inline Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
inline Vec3 operator-(Vec3 a) { return {-a.x, -a.y, -a.z}; }

// a * b for Q16.16 values whose product fits in Q16.16.
inline int32_t fmul(int32_t a, int32_t b) {
  return static_cast<int32_t>((int64_t{a} * int64_t{b}) >> 16);
}
inline Vec3 vscale(Vec3 v, int32_t s) { return {fmul(v.x, s), fmul(v.y, s), fmul(v.z, s)}; }

// Exact dot product in Q32.32 (the bounds keep it below 2^62).
inline int64_t dot64(Vec3 a, Vec3 b) {
  return int64_t{a.x} * b.x + int64_t{a.y} * b.y + int64_t{a.z} * b.z;
}
inline int32_t dotq(Vec3 a, Vec3 b) { return static_cast<int32_t>(dot64(a, b) >> 16); }

// Cross product of two Q16.16 vectors, rounded back to Q16.16.
inline Vec3 crossq(Vec3 a, Vec3 b) {
  return {static_cast<int32_t>((int64_t{a.y} * b.z - int64_t{a.z} * b.y) >> 16),
          static_cast<int32_t>((int64_t{a.z} * b.x - int64_t{a.x} * b.z) >> 16),
          static_cast<int32_t>((int64_t{a.x} * b.y - int64_t{a.y} * b.x) >> 16)};
}

using kernels::isqrt32;  // kernels/isqrt.h: as the shaders compute them
using kernels::isqrt64;

// Scales v (each |component| <= about len) to unit length, given len = |v| in
// Q16.16 (len >= 1): multiplies by 2^46 / len so the product stays below 2^47.
inline Vec3 scale_to_unit(Vec3 v, int32_t len) {
  const int64_t inv = int64_t{1} << 46;
  const int64_t k = inv / len;
  return {static_cast<int32_t>((v.x * k) >> 30), static_cast<int32_t>((v.y * k) >> 30),
          static_cast<int32_t>((v.z * k) >> 30)};
}

// |v| in Q16.16.
inline int32_t length_q(Vec3 v) { return static_cast<int32_t>(isqrt64(uint64_t(dot64(v, v)))); }

// Mirror direction of d about the unit normal n.
inline Vec3 reflect_dir(Vec3 d, Vec3 n) {
  const int32_t k = dotq(d, n) * 2;
  return d - vscale(n, k);
}

// Reciprocal of a direction component for slab tests, in Q17.15 (2^31 / d
// for d in Q16.16), clamped to fit int32 so the slab products are single
// 32x32->64 multiplies; a zero component counts as +2^-16.
inline int32_t inv_component(int32_t d) {
  const uint32_t mag = d == 0 ? 1u : (d < 0 ? 0u - uint32_t(d) : uint32_t(d));
  uint32_t inv = (1u << 31) / mag;
  if (inv > 0x7FFFFFFFu) inv = 0x7FFFFFFFu;
  return d < 0 ? -int32_t(inv) : int32_t(inv);
}

// Deterministic jitter: Chris Wellons' lowbias32 integer hash.
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

}  // namespace p2c2r::kernels::raytrace
