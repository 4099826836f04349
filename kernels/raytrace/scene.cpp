#include "kernels/raytrace/scene.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace p2c2r::kernels::raytrace {
namespace {

// Writes words in the order of the format.
class Writer {
 public:
  void u32(uint32_t v) { append_le(out_, v); }
  void i32(int32_t v) { append_le(out_, v); }
  void vec(Vec3 v) {
    i32(v.x);
    i32(v.y);
    i32(v.z);
  }
  void quad(Vec3 v, uint32_t w) {
    vec(v);
    u32(w);
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

// Reads words; the caller checked the total size first.
class Reader : public WordReader {
 public:
  using WordReader::WordReader;
  Vec3 vec() {
    Vec3 v;
    v.x = i32();
    v.y = i32();
    v.z = i32();
    return v;
  }
  // A vector followed by a padding word.
  Vec3 quad0() {
    const Vec3 v = vec();
    zero();
    return v;
  }
  void zero() { bad_padding_ = bad_padding_ || u32() != 0; }
  bool bad_padding() const { return bad_padding_; }

 private:
  bool bad_padding_ = false;
};

// A box corner on the grid as its stored 16 bits, and back (sign-extended).
uint32_t grid16(int32_t v) { return static_cast<uint32_t>(v / kBoxGrid) & 0xFFFFu; }
int32_t from_grid16(uint32_t bits) {
  return static_cast<int32_t>(static_cast<int16_t>(bits & 0xFFFFu)) * kBoxGrid;
}

std::string q(int32_t v) { return std::to_string(v) + "/65536"; }

Status check_range(const std::string& what, int32_t v, int32_t lo, int32_t hi) {
  if (v < lo || v > hi) {
    return invalid_argument("scene: " + what + " is " + q(v) + ", must be in [" + q(lo) + ", " +
                            q(hi) + "]");
  }
  return Status::Ok();
}

Status check_vec(const std::string& what, Vec3 v, int32_t lo, int32_t hi) {
  P2C2R_RETURN_IF_ERROR(check_range(what + ".x", v.x, lo, hi));
  P2C2R_RETURN_IF_ERROR(check_range(what + ".y", v.y, lo, hi));
  return check_range(what + ".z", v.z, lo, hi);
}

// Unit within 0.1%: |n|^2 in [0.998, 1.002] (Q32.32), so that mirror rays
// keep their length over kMaxDepth bounces.
Status check_unit(const std::string& what, Vec3 n) {
  P2C2R_RETURN_IF_ERROR(check_vec(what, n, -2 * kOne, 2 * kOne));
  const int64_t len2 = dot64(n, n), one = int64_t{1} << 32;
  if (len2 < one - one / 500 || len2 > one + one / 500) {
    return invalid_argument("scene: " + what + " is not a unit vector");
  }
  return Status::Ok();
}

Status check_material_index(const std::string& what, uint32_t m, size_t count) {
  if (m >= count) {
    return invalid_argument("scene: " + what + " uses material " + std::to_string(m) + " of " +
                            std::to_string(count));
  }
  return Status::Ok();
}

Status check_count(const std::string& what, uint32_t n, uint32_t lo, uint32_t hi) {
  if (n < lo || n > hi) {
    return invalid_argument("scene: " + what + " count is " + std::to_string(n) + ", must be in [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return Status::Ok();
}

Status check_header(const Scene& s) {
  const Camera& c = s.camera;
  P2C2R_RETURN_IF_ERROR(check_vec("camera eye", c.eye, -kSceneBound, kSceneBound));
  P2C2R_RETURN_IF_ERROR(
      check_vec("camera forward", c.forward, -kMaxCameraComponent, kMaxCameraComponent));
  P2C2R_RETURN_IF_ERROR(
      check_vec("camera right", c.right, -kMaxCameraComponent, kMaxCameraComponent));
  P2C2R_RETURN_IF_ERROR(check_vec("camera up", c.up, -kMaxCameraComponent, kMaxCameraComponent));
  if (dot64(c.forward, c.forward) < (int64_t{1} << 28)) {
    return invalid_argument("scene: camera forward is shorter than 1/4");
  }
  P2C2R_RETURN_IF_ERROR(check_vec("sky top colour", s.sky_top, 0, kOne));
  P2C2R_RETURN_IF_ERROR(check_vec("sky horizon colour", s.sky_horizon, 0, kOne));
  return check_vec("ambient colour", s.ambient, 0, kOne);
}

Status check_materials(const Scene& s) {
  for (size_t i = 0; i < s.materials.size(); ++i) {
    const Material& m = s.materials[i];
    const std::string w = "material " + std::to_string(i);
    P2C2R_RETURN_IF_ERROR(check_vec(w + " albedo", m.albedo, 0, kOne));
    P2C2R_RETURN_IF_ERROR(check_vec(w + " albedo2", m.albedo2, 0, kOne));
    P2C2R_RETURN_IF_ERROR(check_range(w + " specular", m.specular, 0, kOne));
    P2C2R_RETURN_IF_ERROR(check_range(w + " reflectivity", m.reflectivity, 0, kOne));
    if (m.shininess_log2 < 0 || m.shininess_log2 > 7) {
      return invalid_argument("scene: " + w + " shininess_log2 must be in [0, 7]");
    }
    if (m.checker_shift != 0 && (m.checker_shift < 12 || m.checker_shift > 24)) {
      return invalid_argument("scene: " + w + " checker_shift must be 0 or in [12, 24]");
    }
  }
  return Status::Ok();
}

Status check_primitives(const Scene& s) {
  const size_t nm = s.materials.size();
  for (size_t i = 0; i < s.spheres.size(); ++i) {
    const std::string w = "sphere " + std::to_string(i);
    P2C2R_RETURN_IF_ERROR(check_vec(w + " centre", s.spheres[i].center, -kSceneBound, kSceneBound));
    P2C2R_RETURN_IF_ERROR(check_range(w + " radius", s.spheres[i].radius, kMinRadius, kMaxRadius));
    P2C2R_RETURN_IF_ERROR(check_material_index(w, s.spheres[i].material, nm));
  }
  for (size_t i = 0; i < s.planes.size(); ++i) {
    const std::string w = "plane " + std::to_string(i);
    P2C2R_RETURN_IF_ERROR(check_unit(w + " normal", s.planes[i].normal));
    P2C2R_RETURN_IF_ERROR(
        check_range(w + " offset", s.planes[i].offset, -kSceneBound, kSceneBound));
    P2C2R_RETURN_IF_ERROR(check_material_index(w, s.planes[i].material, nm));
  }
  for (size_t i = 0; i < s.triangles.size(); ++i) {
    const Triangle& t = s.triangles[i];
    const std::string w = "triangle " + std::to_string(i);
    P2C2R_RETURN_IF_ERROR(check_vec(w + " v0", t.v0, -kSceneBound, kSceneBound));
    P2C2R_RETURN_IF_ERROR(check_vec(w + " v1", t.v1, -kSceneBound, kSceneBound));
    P2C2R_RETURN_IF_ERROR(check_vec(w + " v2", t.v2, -kSceneBound, kSceneBound));
    P2C2R_RETURN_IF_ERROR(check_unit(w + " normal", t.normal));
    P2C2R_RETURN_IF_ERROR(check_material_index(w, t.material, nm));
  }
  for (size_t i = 0; i < s.lights.size(); ++i) {
    const std::string w = "light " + std::to_string(i);
    P2C2R_RETURN_IF_ERROR(
        check_vec(w + " position", s.lights[i].position, -kSceneBound, kSceneBound));
    P2C2R_RETURN_IF_ERROR(
        check_vec(w + " intensity", s.lights[i].intensity, 0, kMaxLightIntensity));
  }
  return Status::Ok();
}

// The BVH must be a tree rooted at node 0 whose children come after their
// parent (so it has no cycles), each non-root node with exactly one parent,
// no deeper than the shader's traversal stack, with every leaf's triangles in
// range. Then a traversal visits each node at most once.
Status check_bvh(const Scene& s) {
  const size_t n = s.nodes.size();
  if (s.triangles.empty() != (n == 0)) {
    return invalid_argument("scene: a BVH is required exactly when there are triangles (" +
                            std::to_string(s.triangles.size()) + " triangles, " +
                            std::to_string(n) + " nodes)");
  }
  std::vector<uint32_t> parents(n, 0), depth(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const BvhNode& node = s.nodes[i];
    const std::string w = "BVH node " + std::to_string(i);
    if (node.min.x > node.max.x || node.min.y > node.max.y || node.min.z > node.max.z) {
      return invalid_argument("scene: " + w + " has min > max");
    }
    if (i > 0 && parents[i] != 1) {
      return invalid_argument("scene: " + w + " has " + std::to_string(parents[i]) +
                              " parents, must have exactly 1");
    }
    if (node.count > kMaxLeafTriangles) {
      return invalid_argument("scene: " + w + " is a leaf of " + std::to_string(node.count) +
                              " triangles, at most " + std::to_string(kMaxLeafTriangles) +
                              " allowed");
    }
    if (node.count > 0) {
      if (uint64_t{node.first} + node.count > s.triangles.size()) {
        return invalid_argument("scene: " + w + " references triangles past the end");
      }
      continue;
    }
    if (node.first <= i || uint64_t{node.first} + 1 >= n) {
      return invalid_argument("scene: " + w + " has child index " + std::to_string(node.first) +
                              ", children must follow their parent and lie below " +
                              std::to_string(n));
    }
    if (depth[i] + 1 >= kStackDepth) {
      return invalid_argument("scene: BVH is deeper than " + std::to_string(kStackDepth) +
                              " levels");
    }
    for (uint32_t c = node.first; c <= node.first + 1; ++c) {
      ++parents[c];
      depth[c] = depth[i] + 1;
    }
  }
  return Status::Ok();
}

}  // namespace

Bytes serialize_scene(const Scene& s) {
  Writer w;
  w.u32(kSceneMagic);
  w.u32(kSceneVersion);
  for (size_t n : {s.materials.size(), s.spheres.size(), s.planes.size(), s.triangles.size(),
                   s.nodes.size(), s.lights.size()}) {
    w.u32(static_cast<uint32_t>(n));
  }
  for (Vec3 v : {s.camera.eye, s.camera.forward, s.camera.right, s.camera.up, s.sky_top,
                 s.sky_horizon, s.ambient}) {
    w.quad(v, 0);
  }
  for (const auto& node : s.nodes) {
    const uint32_t lo[3] = {grid16(box_floor(node.min.x)), grid16(box_floor(node.min.y)),
                            grid16(box_floor(node.min.z))};
    const uint32_t hi[3] = {grid16(box_ceil(node.max.x)), grid16(box_ceil(node.max.y)),
                            grid16(box_ceil(node.max.z))};
    w.u32(lo[0] | lo[1] << 16);
    w.u32(lo[2] | hi[0] << 16);
    w.u32(hi[1] | hi[2] << 16);
    w.u32(node.first << 4 | std::min(node.count, 15u));
  }
  for (const auto& t : s.triangles) {
    for (Vec3 v : {t.v0, t.v1, t.v2, t.normal}) w.vec(v);
    w.quad({static_cast<int32_t>(t.material), 0, 0}, 0);
  }
  for (const auto& m : s.materials) {
    w.quad(m.albedo, static_cast<uint32_t>(m.specular));
    w.quad(m.albedo2, static_cast<uint32_t>(m.shininess_log2));
    w.quad({m.reflectivity, m.checker_shift, 0}, 0);
  }
  for (const auto& sp : s.spheres) {
    w.quad(sp.center, static_cast<uint32_t>(sp.radius));
    w.quad({static_cast<int32_t>(sp.material), 0, 0}, 0);
  }
  for (const auto& p : s.planes) {
    w.quad(p.normal, static_cast<uint32_t>(p.offset));
    w.quad({static_cast<int32_t>(p.material), 0, 0}, 0);
  }
  for (const auto& l : s.lights) {
    w.quad(l.position, 0);
    w.quad(l.intensity, 0);
  }
  return w.take();
}

Result<Scene> parse_scene(ByteView blob) {
  if (blob.size() < kHeaderWords * 4) {
    return invalid_argument("scene: " + std::to_string(blob.size()) +
                            " bytes is shorter than the " + std::to_string(kHeaderWords * 4) +
                            "-byte header");
  }
  Reader r(blob);
  if (r.u32() != kSceneMagic) return invalid_argument("scene: bad magic (not a P2RT scene)");
  const uint32_t version = r.u32();
  if (version != kSceneVersion) {
    return invalid_argument("scene: version " + std::to_string(version) +
                            " is not supported (this build reads version " +
                            std::to_string(kSceneVersion) + ")");
  }
  const uint32_t nm = r.u32(), ns = r.u32(), np = r.u32(), nt = r.u32(), nn = r.u32(), nl = r.u32();
  P2C2R_RETURN_IF_ERROR(check_count("material", nm, 1, kMaxMaterials));
  P2C2R_RETURN_IF_ERROR(check_count("sphere", ns, 0, kMaxSpheres));
  P2C2R_RETURN_IF_ERROR(check_count("plane", np, 0, kMaxPlanes));
  P2C2R_RETURN_IF_ERROR(check_count("triangle", nt, 0, kMaxTriangles));
  P2C2R_RETURN_IF_ERROR(check_count("BVH node", nn, 0, kMaxNodes));
  P2C2R_RETURN_IF_ERROR(check_count("light", nl, 0, kMaxLights));
  const uint64_t words = uint64_t{kHeaderWords} + uint64_t{nm} * kMaterialWords +
                         uint64_t{ns} * kSphereWords + uint64_t{np} * kPlaneWords +
                         uint64_t{nt} * kTriangleWords + uint64_t{nn} * kNodeWords +
                         uint64_t{nl} * kLightWords;
  if (blob.size() != words * 4) {
    return invalid_argument("scene: " + std::to_string(blob.size()) +
                            " bytes, but its counts need " + std::to_string(words * 4));
  }
  Scene s;
  s.camera.eye = r.quad0();
  s.camera.forward = r.quad0();
  s.camera.right = r.quad0();
  s.camera.up = r.quad0();
  s.sky_top = r.quad0();
  s.sky_horizon = r.quad0();
  s.ambient = r.quad0();
  s.nodes.resize(nn);
  for (auto& node : s.nodes) {
    const uint32_t w0 = r.u32(), w1 = r.u32(), w2 = r.u32(), work = r.u32();
    node.min = {from_grid16(w0), from_grid16(w0 >> 16), from_grid16(w1)};
    node.max = {from_grid16(w1 >> 16), from_grid16(w2), from_grid16(w2 >> 16)};
    node.first = work >> 4;
    node.count = work & 15u;
  }
  s.triangles.resize(nt);
  for (auto& t : s.triangles) {
    t.v0 = r.vec();
    t.v1 = r.vec();
    t.v2 = r.vec();
    t.normal = r.vec();
    t.material = r.u32();
    r.zero();
    r.zero();
    r.zero();
  }
  s.materials.resize(nm);
  for (auto& m : s.materials) {
    m.albedo = r.vec();
    m.specular = r.i32();
    m.albedo2 = r.vec();
    m.shininess_log2 = r.i32();
    m.reflectivity = r.i32();
    m.checker_shift = r.i32();
    r.zero();
    r.zero();
  }
  s.spheres.resize(ns);
  for (auto& sp : s.spheres) {
    sp.center = r.vec();
    sp.radius = r.i32();
    sp.material = r.u32();
    r.zero();
    r.zero();
    r.zero();
  }
  s.planes.resize(np);
  for (auto& p : s.planes) {
    p.normal = r.vec();
    p.offset = r.i32();
    p.material = r.u32();
    r.zero();
    r.zero();
    r.zero();
  }
  s.lights.resize(nl);
  for (auto& l : s.lights) {
    l.position = r.quad0();
    l.intensity = r.quad0();
  }
  if (r.bad_padding()) return invalid_argument("scene: a padding word is not 0");

  P2C2R_RETURN_IF_ERROR(check_header(s));
  P2C2R_RETURN_IF_ERROR(check_materials(s));
  P2C2R_RETURN_IF_ERROR(check_primitives(s));
  P2C2R_RETURN_IF_ERROR(check_bvh(s));
  return s;
}

}  // namespace p2c2r::kernels::raytrace
