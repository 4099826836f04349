#version 450
// Broad phase, first pass of the first step: each body's cell, and the
// per-cell body counts. atomicAdd only counts, so its order never shows.
// (Later steps bin in physics_solve.comp as they write the new state.)
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer State { int s[]; } state;
layout(std430, set = 0, binding = 1) writeonly buffer CellOf { uint c[]; } cell_of;
layout(std430, set = 0, binding = 2) buffer Count { uint n[]; } count;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= pc.bodies) return;
  ivec3 p = ivec3(state.s[6 * i], state.s[6 * i + 1], state.s[6 * i + 2]);
  uint c = cell_index(p);
  cell_of.c[i] = c;
  atomicAdd(count.n[c], 1u);
}
