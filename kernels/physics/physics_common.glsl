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

// Floor square root, 32 fixed rounds.
uint64_t isqrt64(uint64_t x) {
  uint64_t res = 0ul, bit = 1ul << 62;
  for (int i = 0; i < 32; ++i) {
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

// Signed division rounding toward zero (b > 0), done on magnitudes so that it
// never depends on how a driver rounds negative quotients.
int64_t div_trunc(int64_t a, int64_t b) {
  uint64_t q = uint64_t(a < 0l ? -a : a) / uint64_t(b);
  return a < 0l ? -int64_t(q) : int64_t(q);
}

int cell_coord(int p) { return clamp(p >> 16, 0, int(pc.grid) - 1); }

uint cell_index(ivec3 p) {
  return (uint(cell_coord(p.z)) * pc.grid + uint(cell_coord(p.y))) * pc.grid + uint(cell_coord(p.x));
}

int64_t touching_distance2() {
  int64_t d = 2l * int64_t(pc.radius);
  return d * d;
}
