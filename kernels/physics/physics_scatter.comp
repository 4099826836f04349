#version 450
// Broad phase: each body takes a slot in its cell's range by counting its
// cell's count back down (which also leaves the count buffer zeroed for
// physics_solve.comp two steps on). Which slot comes from an atomic, so the
// order inside a cell is not yet deterministic; physics_order.comp sorts each
// cell's range by body id next.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Pos { ivec4 p[]; } pos;
layout(std430, set = 0, binding = 1) readonly buffer Starts { uvec4 s[]; } starts;
layout(std430, set = 0, binding = 2) buffer Count { uint n[]; } count;
layout(std430, set = 0, binding = 3) writeonly buffer Unordered { uint id[]; } unordered;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= pc.bodies) return;
  uint c = uint(pos.p[i].w);
  uint slot = starts.s[c].x + atomicAdd(count.n[c], 0xffffffffu) - 1u;
  if (slot < pc.bodies) unordered.id[slot] = i;
}
