#include "kernels/raytrace/bvh.h"

#include <algorithm>
#include <array>
#include <numeric>

namespace p2c2r::kernels::raytrace {
namespace {

constexpr int32_t kPad = kOne / 1024;

// Three times the centroid, exact.
std::array<int64_t, 3> centroid3(const Triangle& t) {
  return {int64_t{t.v0.x} + t.v1.x + t.v2.x, int64_t{t.v0.y} + t.v1.y + t.v2.y,
          int64_t{t.v0.z} + t.v1.z + t.v2.z};
}

BvhNode bounds(const std::vector<Triangle>& tris, const std::vector<uint32_t>& order,
               uint32_t begin, uint32_t end) {
  BvhNode node;
  node.min = {kSceneBound, kSceneBound, kSceneBound};
  node.max = {-kSceneBound, -kSceneBound, -kSceneBound};
  for (uint32_t i = begin; i < end; ++i) {
    const Triangle& t = tris[order[i]];
    for (Vec3 v : {t.v0, t.v1, t.v2}) {
      node.min = {std::min(node.min.x, v.x), std::min(node.min.y, v.y), std::min(node.min.z, v.z)};
      node.max = {std::max(node.max.x, v.x), std::max(node.max.y, v.y), std::max(node.max.z, v.z)};
    }
  }
  auto lo = [](int32_t v) { return std::max(v - kPad, -kSceneBound); };
  auto hi = [](int32_t v) { return std::min(v + kPad, kSceneBound); };
  node.min = {lo(node.min.x), lo(node.min.y), lo(node.min.z)};
  node.max = {hi(node.max.x), hi(node.max.y), hi(node.max.z)};
  return node;
}

int longest_axis(const std::vector<std::array<int64_t, 3>>& c, const std::vector<uint32_t>& order,
                 uint32_t begin, uint32_t end) {
  std::array<int64_t, 3> lo = c[order[begin]], hi = lo;
  for (uint32_t i = begin; i < end; ++i) {
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], c[order[i]][a]);
      hi[a] = std::max(hi[a], c[order[i]][a]);
    }
  }
  int axis = 0;
  for (int a = 1; a < 3; ++a) {
    if (hi[a] - lo[a] > hi[axis] - lo[axis]) axis = a;
  }
  return axis;
}

}  // namespace

void build_bvh(Scene& scene) {
  scene.nodes.clear();
  const auto& tris = scene.triangles;
  if (tris.empty()) return;
  std::vector<std::array<int64_t, 3>> c(tris.size());
  for (size_t i = 0; i < tris.size(); ++i) c[i] = centroid3(tris[i]);
  std::vector<uint32_t> order(tris.size());
  std::iota(order.begin(), order.end(), 0u);

  struct Range {
    uint32_t begin, end;
  };
  std::vector<Range> ranges{{0, static_cast<uint32_t>(tris.size())}};
  scene.nodes.push_back({});
  // Nodes are finished in index order; each internal node appends its two children.
  for (size_t n = 0; n < scene.nodes.size(); ++n) {
    const auto [begin, end] = ranges[n];
    BvhNode node = bounds(tris, order, begin, end);
    if (end - begin <= kBuildLeafTriangles) {
      node.first = begin;
      node.count = end - begin;
    } else {
      const int axis = longest_axis(c, order, begin, end);
      std::sort(order.begin() + begin, order.begin() + end, [&](uint32_t a, uint32_t b) {
        return c[a][axis] != c[b][axis] ? c[a][axis] < c[b][axis] : a < b;
      });
      const uint32_t mid = begin + (end - begin) / 2;
      node.first = static_cast<uint32_t>(scene.nodes.size());
      node.count = 0;
      ranges.push_back({begin, mid});
      ranges.push_back({mid, end});
      scene.nodes.push_back({});
      scene.nodes.push_back({});
    }
    scene.nodes[n] = node;
  }
  std::vector<Triangle> sorted(tris.size());
  for (size_t i = 0; i < order.size(); ++i) sorted[i] = tris[order[i]];
  scene.triangles = std::move(sorted);
}

}  // namespace p2c2r::kernels::raytrace
