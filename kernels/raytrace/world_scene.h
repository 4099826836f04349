// A game frame's scene drawn from its physics world (docs/kernels/raytrace.md,
// "Scene from a physics world"): one sphere per body at the body's position
// and radius, a checkered floor under the box, a fixed camera looking at the
// box, the demo scene's sky and lights. Built on the CPU from the physics
// unit's output blob (kernels/physics/world.h), serialized as an ordinary
// scene, so the device and the CPU reference render the very same bytes and
// the shader knows nothing about worlds.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "kernels/physics/world.h"
#include "kernels/raytrace/scene.h"

namespace p2c2r::kernels::raytrace {

// What the ray tracer must know of the physics parameters to draw a world:
// the body count (the blob's size), the box (grid x grid x grid units) and the
// spheres' radius (Q16.16 units, physics' range [1/4, 1/2]).
struct WorldShape {
  uint32_t bodies = 0;
  uint32_t grid = 0;
  int32_t radius = 0;
};

// The physics box spans this many scene units on each side: x and z in
// [-side/2, side/2], y (up; physics' z) in [0, side]. 16 keeps the smallest
// sphere (radius 1/4 in a 64-cell box) at the scene's minimum radius, 1/16.
constexpr int32_t kWorldBoxSide = 16 * kOne;
// Bodies beyond this cannot be drawn: the shader holds at most this many spheres.
constexpr uint32_t kMaxWorldBodies = kMaxSpheres;

// The physics parameters of such a world (the rest at the physics defaults).
physics::Config physics_config(const WorldShape& shape);

// Refuses a world blob that is not a valid world of this shape (the physics
// module's own header, size and position checks), or a shape that the scene
// cannot hold, with a message naming the problem.
Status check_world_input(const WorldShape& shape, ByteView world);

// Where a physics point (Q16.16 box units, z up) lands in the scene.
Vec3 world_to_scene(const WorldShape& shape, const int32_t p[3]);

// The scene of a world that passed check_world_input. Body i is sphere i.
Scene scene_from_world(const WorldShape& shape, ByteView world);

}  // namespace p2c2r::kernels::raytrace
