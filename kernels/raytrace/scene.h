// The ray tracer's scene: its binary format (docs/kernels/raytrace.md), a
// parsed form for the CPU reference and the generator, and the validation
// that every uploaded scene passes before it reaches the CPU reference or a
// shader. A scene that parses is safe: every index is in range, the BVH is a
// tree whose children follow their parent and whose depth fits the traversal
// stack, and every coordinate is inside the bounds that keep the fixed-point
// intermediates inside int64.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "kernels/raytrace/fixed.h"

namespace p2c2r::kernels::raytrace {

constexpr uint32_t kSceneMagic = 0x54523250;  // "P2RT" little-endian
constexpr uint32_t kSceneVersion = 2;         // 1: BVH nodes of 8 words with Q16.16 boxes

// Word counts of the header and of each record (all words are 32-bit LE).
// Every record is a whole number of 16-byte quads, so the shader reads it
// with ivec4 loads; sections follow the header in the order nodes, triangles,
// materials, spheres, planes, lights. Padding words must be 0.
constexpr uint32_t kHeaderWords = 36;
constexpr uint32_t kNodeWords = 4;  // one quad: a 16-bit box and first * 16 + count
constexpr uint32_t kTriangleWords = 16;
constexpr uint32_t kMaterialWords = 12;
constexpr uint32_t kSphereWords = 8;
constexpr uint32_t kPlaneWords = 8;
constexpr uint32_t kLightWords = 8;

// Limits; the shader bounds its loops with the same numbers.
constexpr uint32_t kMaxMaterials = 64;
constexpr uint32_t kMaxSpheres = 64;
constexpr uint32_t kMaxPlanes = 8;
constexpr uint32_t kMaxTriangles = 65536;
constexpr uint32_t kMaxNodes = 2 * kMaxTriangles;
constexpr uint32_t kMaxLights = 8;
constexpr uint32_t kMaxLeafTriangles = 8;
constexpr uint32_t kStackDepth = 32;  // deepest BVH node allowed is at depth kStackDepth - 1

// Coordinate bounds (Q16.16): primitives, lights, the camera and BVH boxes lie
// within +-kSceneBound; a plane hit outside +-kWorldBound is a miss, so every
// ray origin stays within kWorldBound.
constexpr int32_t kSceneBound = 128 * kOne;
constexpr int32_t kWorldBound = 256 * kOne;
constexpr int32_t kMinRadius = kOne / 16;
constexpr int32_t kMaxRadius = 64 * kOne;
constexpr int32_t kMaxCameraComponent = 4 * kOne;
constexpr int32_t kMaxLightIntensity = 4 * kOne;

// BVH boxes are stored as int16 corners in units of kBoxGrid (1/256 unit), so
// both children of a node are two 16-byte reads; the shader's loads, not its
// arithmetic, are what lavapipe spends its time on. A box corner in memory
// is the stored value times kBoxGrid, within [kBoxLowest, kBoxHighest].
constexpr int32_t kBoxGrid = 256;
constexpr int32_t kBoxLowest = -32768 * kBoxGrid;
constexpr int32_t kBoxHighest = 32767 * kBoxGrid;

// The grid points at or below / at or above v, clamped to the box range, so
// a box rounded with them still contains what it contained.
constexpr int32_t box_floor(int32_t v) {
  const int64_t f = int64_t{v} & ~int64_t{kBoxGrid - 1};  // two's complement: rounds down
  return static_cast<int32_t>(f < kBoxLowest ? kBoxLowest : (f > kBoxHighest ? kBoxHighest : f));
}
constexpr int32_t box_ceil(int32_t v) {
  const int64_t c = (int64_t{v} + kBoxGrid - 1) & ~int64_t{kBoxGrid - 1};
  return static_cast<int32_t>(c < kBoxLowest ? kBoxLowest : (c > kBoxHighest ? kBoxHighest : c));
}

struct Material {
  Vec3 albedo;                 // Q16.16 in [0, 1] per channel
  Vec3 albedo2;                // second checker colour
  int32_t specular = 0;        // [0, 1]
  int32_t shininess_log2 = 0;  // exponent 2^k, k in [0, 7]
  int32_t reflectivity = 0;    // [0, 1]
  int32_t checker_shift = 0;   // 0 = plain; 12..24 = checker cells of 2^shift / 65536 units
};

struct Sphere {
  Vec3 center;
  int32_t radius = 0;
  uint32_t material = 0;
};

struct Plane {
  Vec3 normal;         // unit length (within 0.1%)
  int32_t offset = 0;  // points p with dot(normal, p) = offset
  uint32_t material = 0;
};

struct Triangle {
  Vec3 v0, v1, v2;
  Vec3 normal;  // unit shading normal (within 0.1%)
  uint32_t material = 0;
};

// count == 0: internal node with children `first` and `first + 1`;
// count in [1, kMaxLeafTriangles]: leaf over triangles [first, first + count).
// min and max are multiples of kBoxGrid in [kBoxLowest, kBoxHighest] in a
// parsed scene; serialize_scene rounds other values outwards to the grid.
struct BvhNode {
  Vec3 min, max;
  uint32_t first = 0;
  uint32_t count = 0;
};

struct Light {
  Vec3 position;
  Vec3 intensity;  // Q16.16 in [0, 4] per channel
};

struct Camera {
  Vec3 eye;
  Vec3 forward;  // towards the image centre
  Vec3 right;    // half the image height's width at distance |forward|
  Vec3 up;       // half the image height at distance |forward|
};

struct Scene {
  Camera camera;
  Vec3 sky_top, sky_horizon, ambient;  // Q16.16 in [0, 1]
  std::vector<Material> materials;
  std::vector<Sphere> spheres;
  std::vector<Plane> planes;
  std::vector<Triangle> triangles;
  std::vector<BvhNode> nodes;
  std::vector<Light> lights;
};

Bytes serialize_scene(const Scene& scene);

// Parses and fully validates a scene blob; the error names the first problem.
Result<Scene> parse_scene(ByteView blob);

}  // namespace p2c2r::kernels::raytrace
