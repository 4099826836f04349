// Shared by the physics shaders: the push constants (one block for every
// pass, 40 bytes, filled by physics.cpp from physics::Config) and the integer
// helpers that simulate.cpp mirrors line for line.
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

layout(push_constant) uniform Push {
  uint bodies;
  uint grid;
  int radius;
  int dt;
  int gravity_dt;
  int restitution;
  int friction;
  int max_speed;
  int rest_speed;
  uint cell_cap;
} pc;

const int64_t kOne = 65536l;

// At most this many contacts per body are solved (the first found, in the
// fixed neighbour order); more than 12 equal spheres cannot touch one without
// deep overlap.
const uint kMaxContacts = 16u;

// Floor square root of a 32-bit value, 16 fixed rounds.
uint isqrt32(uint x) {
  uint res = 0u, bit = 1u << 30;
  for (int i = 0; i < 16; ++i) {
    if (x >= res + bit) {
      x -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return res;
}

// A body's record on the device: two quads in one 32-byte element, so that
// one access (a single lane-by-lane operation on llvmpipe) reads or writes
// both. The first quad is (x, y, z, cell or id), the second (vx, vy, vz, 0
// or k); little-endian, so the same memory read as ivec4 q[] is q[2i], q[2i+1].
u64vec4 record(ivec4 a, ivec4 b) {
  return u64vec4(uint64_t(uint(a.x)) | (uint64_t(uint(a.y)) << 32),
                 uint64_t(uint(a.z)) | (uint64_t(uint(a.w)) << 32),
                 uint64_t(uint(b.x)) | (uint64_t(uint(b.y)) << 32),
                 uint64_t(uint(b.z)) | (uint64_t(uint(b.w)) << 32));
}
ivec4 first_quad(u64vec4 r) {
  return ivec4(int(uint(r.x)), int(uint(r.x >> 32)), int(uint(r.y)), int(uint(r.y >> 32)));
}
ivec4 second_quad(u64vec4 r) {
  return ivec4(int(uint(r.z)), int(uint(r.z >> 32)), int(uint(r.w)), int(uint(r.w >> 32)));
}

int cell_coord(int p) { return clamp(p >> 16, 0, int(pc.grid) - 1); }

uint cell_index(ivec3 p) {
  return (uint(cell_coord(p.z)) * pc.grid + uint(cell_coord(p.y))) * pc.grid + uint(cell_coord(p.x));
}

int64_t touching_distance2() {
  int64_t d = 2l * int64_t(pc.radius);
  return d * d;
}
