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

int cell_coord(int p) { return clamp(p >> 16, 0, int(pc.grid) - 1); }

uint cell_index(ivec3 p) {
  return (uint(cell_coord(p.z)) * pc.grid + uint(cell_coord(p.y))) * pc.grid + uint(cell_coord(p.x));
}

int64_t touching_distance2() {
  int64_t d = 2l * int64_t(pc.radius);
  return d * d;
}
