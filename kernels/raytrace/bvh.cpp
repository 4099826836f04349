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
  // Padded, then rounded outwards to the grid the format stores boxes on.
  auto lo = [](int32_t v) { return box_floor(v - kPad); };
  auto hi = [](int32_t v) { return box_ceil(v + kPad); };
  node.min = {lo(node.min.x), lo(node.min.y), lo(node.min.z)};
  node.max = {hi(node.max.x), hi(node.max.y), hi(node.max.z)};
  return node;
}

// Half the surface area of a set of triangles' bounds, in (1/256 unit)^2:
// extents below 2^16, so a cost (area times count) stays below 2^51.
struct Area {
  std::array<int32_t, 3> lo{kSceneBound, kSceneBound, kSceneBound};
  std::array<int32_t, 3> hi{-kSceneBound, -kSceneBound, -kSceneBound};
  void add(const Triangle& t) {
    for (Vec3 v : {t.v0, t.v1, t.v2}) {
      const int32_t c[3] = {v.x, v.y, v.z};
      for (int a = 0; a < 3; ++a) {
        lo[a] = std::min(lo[a], c[a]);
        hi[a] = std::max(hi[a], c[a]);
      }
    }
  }
  int64_t half_area() const {
    int64_t e[3];
    for (int a = 0; a < 3; ++a) e[a] = std::max<int64_t>(int64_t{hi[a]} - lo[a], 0) >> 8;
    return e[0] * e[1] + e[1] * e[2] + e[2] * e[0];
  }
};

uint32_t ceil_log2(uint64_t n) {
  uint32_t k = 0;
  while ((uint64_t{1} << k) < n) ++k;
  return k;
}

// Levels below a node of n triangles that median splits need.
uint32_t median_levels(uint64_t n) {
  return ceil_log2((n + kBuildLeafTriangles - 1) / kBuildLeafTriangles);
}

struct Split {
  int axis = -1;
  uint32_t mid = 0;  // the left child holds order[begin, mid) after sorting on axis
  int64_t cost = INT64_MAX;
};

void sort_on(const std::vector<std::array<int64_t, 3>>& c, std::vector<uint32_t>& order,
             uint32_t begin, uint32_t end, int axis) {
  std::sort(order.begin() + begin, order.begin() + end, [&](uint32_t a, uint32_t b) {
    return c[a][axis] != c[b][axis] ? c[a][axis] < c[b][axis] : a < b;
  });
}

// The surface-area-heuristic split of order[begin, end): on each axis, the
// triangles sorted by centroid (ties by index) are cut where
// area(left) * |left| + area(right) * |right| is least; ties go to the lower
// axis, then the lower cut. Cuts that would leave a side deeper than the
// traversal stack allows (depth is the node's) are skipped; the median
// always qualifies when the node itself did.
Split best_split(const std::vector<Triangle>& tris, const std::vector<std::array<int64_t, 3>>& c,
                 std::vector<uint32_t>& order, uint32_t begin, uint32_t end, uint32_t depth) {
  Split best;
  const uint32_t n = end - begin;
  std::vector<int64_t> right_area(n + 1, 0);
  for (int axis = 0; axis < 3; ++axis) {
    sort_on(c, order, begin, end, axis);
    Area right;
    for (uint32_t k = n; k-- > 1;) {
      right.add(tris[order[begin + k]]);
      right_area[k] = right.half_area();
    }
    Area left;
    for (uint32_t k = 1; k < n; ++k) {
      left.add(tris[order[begin + k - 1]]);
      if (depth + 1 + std::max(median_levels(k), median_levels(n - k)) >= kStackDepth) continue;
      const int64_t cost = left.half_area() * k + right_area[k] * (n - k);
      if (cost < best.cost) best = {axis, begin + k, cost};
    }
  }
  if (best.axis < 0) best = {0, begin + n / 2, 0};
  return best;
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
    uint32_t begin, end, depth;
  };
  std::vector<Range> ranges{{0, static_cast<uint32_t>(tris.size()), 0}};
  scene.nodes.push_back({});
  // Nodes are finished in index order; each internal node appends its two children.
  for (size_t n = 0; n < scene.nodes.size(); ++n) {
    const auto [begin, end, depth] = ranges[n];
    BvhNode node = bounds(tris, order, begin, end);
    if (end - begin <= kBuildLeafTriangles) {
      node.first = begin;
      node.count = end - begin;
    } else {
      const Split split = best_split(tris, c, order, begin, end, depth);
      sort_on(c, order, begin, end, split.axis);
      node.first = static_cast<uint32_t>(scene.nodes.size());
      node.count = 0;
      ranges.push_back({begin, split.mid, depth + 1});
      ranges.push_back({split.mid, end, depth + 1});
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
