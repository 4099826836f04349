#version 450
// Narrow phase, first pass: k = how many spheres touch the body in slot t
// (the cells within 2r of it, at most cell_cap bodies per cell), stored in the
// w of its velocity quad, and the slots of the first kMaxContacts of them in
// neighbour order. physics_solve.comp works from this list (so its costly part
// runs per contact, not per candidate) and scales each pair's response by
// 1/max(k of both), see simulate.cpp.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Range { uvec2 r[]; } range;
layout(std430, set = 0, binding = 1) readonly buffer SortedPos { ivec4 p[]; } sorted_pos;
layout(std430, set = 0, binding = 2) buffer SortedVel { ivec4 v[]; } sorted_vel;
layout(std430, set = 0, binding = 3) writeonly buffer ContactList { uint u[]; } list;

void main() {
  uint t = gl_GlobalInvocationID.x;
  if (t >= pc.bodies) return;
  ivec3 p = sorted_pos.p[t].xyz;
  int64_t limit = touching_distance2();
  int n = int(pc.grid);
  // A sphere touching this one has its centre within 2r on every axis: 2 cells
  // per axis when r <= 1/4, at most 3.
  int reach = 2 * pc.radius;
  ivec3 lo = ivec3(cell_coord(p.x - reach), cell_coord(p.y - reach), cell_coord(p.z - reach));
  ivec3 hi = ivec3(cell_coord(p.x + reach), cell_coord(p.y + reach), cell_coord(p.z + reach));
  uint k = 0u;
  for (int z = lo.z; z <= hi.z; ++z) {
    for (int y = lo.y; y <= hi.y; ++y) {
      for (int x = lo.x; x <= hi.x; ++x) {
        uvec2 r = range.r[uint((z * n + y) * n + x)];
        uint e = min(min(r.y, r.x + pc.cell_cap), pc.bodies);
        for (uint u = r.x; u < e; ++u) {
          if (u == t) continue;
          ivec3 d = p - sorted_pos.p[u].xyz;
          int64_t d2 = int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z;
          if (d2 < limit) {
            if (k < kMaxContacts) list.u[kMaxContacts * t + k] = u;
            ++k;
          }
        }
      }
    }
  }
  sorted_vel.v[t].w = int(k);
}
