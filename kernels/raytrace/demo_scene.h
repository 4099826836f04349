// The built-in demo scene, generated from a seed with integer arithmetic only:
// a checkered ground plane, a mirror sphere, coloured spheres, a faceted
// icosphere and a pyramid (triangle meshes under one BVH), two point lights.
#pragma once

#include <cstdint>

#include "kernels/raytrace/scene.h"

namespace p2c2r::kernels::raytrace {

// mesh_detail in [0, 3]: the icosphere has 20 * 4^mesh_detail triangles.
Scene make_demo_scene(uint64_t seed, uint32_t mesh_detail);

// A camera at `eye` looking at `target` with y up (not straight up or down),
// a vertical half-angle of atan(0.55) (about 58 degrees of view).
Camera look_at(Vec3 eye, Vec3 target);

// A material of one colour (no checker).
Material plain(Vec3 albedo, int32_t specular, int32_t shininess_log2, int32_t reflectivity);

// The demo scene's sky and ambient light.
void set_demo_sky(Scene& s);

// Triangles the demo scene has at this detail (cost model).
uint32_t demo_triangle_count(uint32_t mesh_detail);

constexpr uint32_t kDemoSpheres = 6;  // the mirror sphere and five coloured ones
constexpr uint32_t kDemoLights = 2;

}  // namespace p2c2r::kernels::raytrace
