#version 450
// Broad phase, first pass of the first step: unpacks the world's bodies into
// the 32-byte (position, cell, velocity, 0) records the other passes read
// with one load each (see record()), and counts the bodies per cell. atomicAdd only counts, so
// its order never shows. (Later steps bin in physics_solve.comp.)
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

// The world's 24-byte body records as three ivec2: (x, y), (z, vx), (vy, vz).
layout(std430, set = 0, binding = 0) readonly buffer State { ivec2 s[]; } state;
// By id: (x, y, z, cell) and (vx, vy, vz, 0), see record().
layout(std430, set = 0, binding = 1) writeonly buffer Body { u64vec4 r[]; } body;
layout(std430, set = 0, binding = 2) buffer Count { uint n[]; } count;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= pc.bodies) return;
  ivec2 a = state.s[3u * i], b = state.s[3u * i + 1u], c = state.s[3u * i + 2u];
  ivec3 p = ivec3(a, b.x);
  uint cell = cell_index(p);
  body.r[i] = record(ivec4(p, int(cell)), ivec4(b.y, c, 0));
  atomicAdd(count.n[cell], 1u);
}
