#include "kernels/raytrace/world_scene.h"

#include <string>

#include "kernels/physics/world.h"
#include "kernels/raytrace/demo_scene.h"

namespace p2c2r::kernels::raytrace {
namespace {

// Box units to scene units; box coordinates and the radius are positive, so
// the division truncates the same way everywhere.
int32_t to_scene(const WorldShape& shape, int32_t v) {
  return static_cast<int32_t>(int64_t{v} * (kWorldBoxSide / kOne) / shape.grid);
}

// Material 0 is the floor; a body's colour is 1 + id % kBodyColours, so
// neighbouring ids differ and every seventh body is a mirror.
constexpr uint32_t kBodyColours = 7;

void add_materials(Scene& s) {
  s.materials.push_back(
      {{q(9, 10), q(9, 10), q(9, 10)}, {q(22, 100), q(22, 100), q(28, 100)}, 0, 0, q(15, 100), 16});
  const Vec3 palette[] = {{q(9, 10), q(15, 100), q(15, 100)}, {q(15, 100), q(75, 100), q(2, 10)},
                          {q(2, 10), q(35, 100), q(9, 10)},   {q(95, 100), q(85, 100), q(15, 100)},
                          {q(7, 10), q(25, 100), q(85, 100)}, {q(15, 100), q(8, 10), q(8, 10)}};
  for (const Vec3& c : palette) s.materials.push_back(plain(c, q(5, 10), 5, q(5, 100)));
  s.materials.push_back(plain({q(9, 10), q(9, 10), q(9, 10)}, q(8, 10), 6, q(85, 100)));
}

}  // namespace

physics::Config physics_config(const WorldShape& shape) {
  physics::Config c;
  c.bodies = shape.bodies;
  c.grid = shape.grid;
  c.radius = shape.radius;
  return c;
}

Status check_world_input(const WorldShape& shape, ByteView world) {
  if (shape.bodies > kMaxWorldBodies) {
    return invalid_argument("a world of " + std::to_string(shape.bodies) +
                            " bodies cannot be drawn: a scene holds at most " +
                            std::to_string(kMaxWorldBodies) + " spheres");
  }
  return physics::check_world_geometry(physics_config(shape), world);
}

Vec3 world_to_scene(const WorldShape& shape, const int32_t p[3]) {
  // Physics' z is up, the scene's y: (x, y, z) -> (x, z, -y), a rotation,
  // so the picture is not mirrored; the box is centred on the scene's origin.
  const int32_t half = kWorldBoxSide / 2;
  return {to_scene(shape, p[0]) - half, to_scene(shape, p[2]), half - to_scene(shape, p[1])};
}

Scene scene_from_world(const WorldShape& shape, ByteView world) {
  Scene s;
  // Above and in front of the box's -z face, a little to the right, looking
  // at its lower half, where gravity gathers the bodies.
  s.camera = look_at({q(12, 1), q(16, 1), q(-28, 1)}, {0, q(5, 1), 0});
  set_demo_sky(s);
  add_materials(s);
  s.planes.push_back({{0, kOne, 0}, 0, 0});
  const int32_t radius = to_scene(shape, shape.radius);
  const auto bodies = physics::bodies_of(world);
  for (uint32_t i = 0; i < bodies.size(); ++i) {
    s.spheres.push_back({world_to_scene(shape, bodies[i].p), radius, 1 + i % kBodyColours});
  }
  s.lights.push_back({{q(16, 1), q(32, 1), q(-20, 1)}, {q(95, 100), q(9, 10), q(85, 100)}});
  s.lights.push_back({{q(-24, 1), q(20, 1), q(-8, 1)}, {q(3, 10), q(35, 100), q(45, 100)}});
  return s;
}

}  // namespace p2c2r::kernels::raytrace
