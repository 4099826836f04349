#version 450
// Broad phase: the body in each unordered slot moves to its cell's begin +
// (number of smaller ids in its cell), i.e. the cell's bodies end up sorted by
// id, and its old state is copied there as (x, y, z, id) and (vx, vy, vz, 0)
// quads, so neighbours are read cell by cell with one load per quad.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Unordered { uint id[]; } unordered;
layout(std430, set = 0, binding = 1) readonly buffer Pos { ivec4 p[]; } pos;
layout(std430, set = 0, binding = 2) readonly buffer Vel { ivec4 v[]; } vel;
layout(std430, set = 0, binding = 3) readonly buffer Starts { uvec4 s[]; } starts;
layout(std430, set = 0, binding = 4) writeonly buffer SortedPos { ivec4 p[]; } sorted_pos;
layout(std430, set = 0, binding = 5) writeonly buffer SortedVel { ivec4 v[]; } sorted_vel;

void main() {
  uint u = gl_GlobalInvocationID.x;
  if (u >= pc.bodies) return;
  uint i = unordered.id[u];
  if (i >= pc.bodies) return;
  ivec4 p = pos.p[i];
  uvec2 r = starts.s[uint(p.w)].xy;
  uint e = min(r.y, pc.bodies);
  uint rank = 0u;
  for (uint w = r.x; w < e; ++w) rank += unordered.id[w] < i ? 1u : 0u;
  uint t = r.x + rank;
  if (t >= pc.bodies) return;
  sorted_pos.p[t] = ivec4(p.xyz, int(i));
  sorted_vel.v[t] = ivec4(vel.v[i].xyz, 0);
}
