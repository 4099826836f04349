#version 450
// Broad phase: the body in each unordered slot moves to start + (number of
// smaller ids in its cell), i.e. the cell's bodies end up sorted by id, and
// its old state is copied there, so neighbours are read cell by cell.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Unordered { uint id[]; } unordered;
layout(std430, set = 0, binding = 1) readonly buffer CellOf { uint c[]; } cell_of;
layout(std430, set = 0, binding = 2) readonly buffer Start { uint s[]; } start;
layout(std430, set = 0, binding = 3) readonly buffer State { int s[]; } state;
layout(std430, set = 0, binding = 4) writeonly buffer SortedId { uint id[]; } sorted_id;
layout(std430, set = 0, binding = 5) writeonly buffer Sorted { int s[]; } sorted;

void main() {
  uint u = gl_GlobalInvocationID.x;
  if (u >= pc.bodies) return;
  uint i = unordered.id[u];
  if (i >= pc.bodies) return;
  uint c = cell_of.c[i];
  uint b = start.s[c], e = min(start.s[c + 1u], pc.bodies);
  uint rank = 0u;
  for (uint w = b; w < e; ++w) rank += unordered.id[w] < i ? 1u : 0u;
  uint t = b + rank;
  if (t >= pc.bodies) return;
  sorted_id.id[t] = i;
  for (uint q = 0u; q < 6u; ++q) sorted.s[6u * t + q] = state.s[6u * i + q];
}
