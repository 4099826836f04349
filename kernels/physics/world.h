// The physics family's world: a box of rigid spheres in Q16.16 fixed point.
//
// A world blob is what a physics unit takes as input ("world") and returns as
// output, in the same layout, so one unit's output can be the next frame's
// input. The layout (little-endian) is a 16-byte header
//   u32 magic 'PHYW' (0x57594850), u32 format version (1), u32 body count, u32 0
// followed by one 24-byte record per body, in body-id order:
//   i32 x, y, z  (position of the centre, Q16.16 world units)
//   i32 vx, vy, vz (velocity, Q16.16 world units per second)
// The box is [0, grid]^3 world units; the grid's cells are 1 unit wide. All
// spheres share one radius; gravity pulls along -z. See docs/kernels/physics.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "kernels/kernel.h"

namespace p2c2r::kernels::physics {

constexpr int32_t kOne = 1 << 16;             // 1.0 in Q16.16
constexpr uint32_t kWorldMagic = 0x57594850;  // "PHYW"
constexpr uint32_t kWorldVersion = 1;
constexpr uint64_t kHeaderBytes = 16;
constexpr uint64_t kBodyBytes = 24;

struct Body {
  int32_t p[3];
  int32_t v[3];
};

// The simulation constants of a unit, all Q16.16 except the counts; derived
// once from the kernel parameters so the shaders and the CPU reference see the
// same numbers.
struct Config {
  uint32_t bodies = 0;
  uint32_t steps = 0;
  uint32_t grid = 0;        // cells per box side; box side = grid units
  int32_t radius = 0;       // sphere radius, in [1/4, 1/2] unit
  int32_t dt = 0;           // seconds per step
  int32_t gravity_dt = 0;   // speed gravity adds per step
  int32_t restitution = 0;  // e, in [0, 1]
  int32_t friction = 0;     // Coulomb mu, in [0, 2]
  int32_t max_speed = 0;    // per velocity component
  int32_t rest_speed = 0;   // approach speeds at or below this bounce with e = 0
  uint32_t cell_cap = 0;    // bodies of a cell that take part in contacts

  int32_t box() const { return static_cast<int32_t>(grid) << 16; }
  uint32_t cells() const { return grid * grid * grid; }
};

Config config_from(const Params& params);

// The world's bodies in id order (valid blobs only; see check_world).
std::vector<Body> bodies_of(ByteView world);
// Header + bodies.
Bytes world_blob(const std::vector<Body>& bodies);

// Random non-overlapping spheres, at most one per cell, each at least a radius
// from its cell's walls, with velocities up to a quarter of max_speed.
Bytes generate_world(const Config& config, uint64_t seed);

// Everything a world must satisfy for the kernels to stay in bounds and free
// of overflow: header, size, every centre inside the box by a radius, every
// velocity component within max_speed, no cell holding more than cell_cap.
Status check_world(const Config& config, ByteView world);

// The part of check_world that a reader of positions needs (the ray tracer
// drawing a world): header, size for config.bodies, every centre inside the
// box of config.grid less config.radius. Velocities and crowding, which only
// the simulation cares about, are not checked.
Status check_world_geometry(const Config& config, ByteView world);

// id,x,y,z,vx,vy,vz with decimals.
Status write_world_csv(ByteView world, const std::string& path);

}  // namespace p2c2r::kernels::physics
