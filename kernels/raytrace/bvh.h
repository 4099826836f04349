// Deterministic BVH construction over a scene's triangles, on the CPU: the
// same triangles always give the same node array, so a scene generated from
// a seed is byte-identical on every machine.
#pragma once

#include "kernels/raytrace/scene.h"

namespace p2c2r::kernels::raytrace {

// Reorders scene.triangles and fills scene.nodes: surface-area-heuristic
// splits of the triangles sorted by centroid (integer costs, ties by axis,
// cut and triangle index; no node deeper than the traversal stack allows),
// leaves of at most kBuildLeafTriangles, children allocated in pairs after
// their parent. Boxes are padded by 1/1024 so that flat boxes do not lose
// hits to rounding, then rounded outwards to the format's 1/256 grid.
void build_bvh(Scene& scene);

constexpr uint32_t kBuildLeafTriangles = 4;

}  // namespace p2c2r::kernels::raytrace
