#version 450
// Narrow phase, first pass: k = how many spheres touch the body in slot t
// (the cells within 2r of it, at most cell_cap bodies per cell, in z, y, x,
// slot order), stored in the
// w of its velocity quad, and the slots of the first kMaxContacts of them in
// neighbour order. physics_solve.comp works from this list (so its costly part
// runs per contact, not per candidate) and scales each pair's response by
// 1/max(k of both), see simulate.cpp.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Starts { uvec4 s[]; } starts;
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
  // 2r <= 1 cell, so at most 3 cells per axis; along x they are adjacent,
  // and one starts quad holds their slot ranges.
  uint nx = uint(hi.x - lo.x + 1);
  uint k = 0u;
  for (int z = lo.z; z <= hi.z; ++z) {
    for (int y = lo.y; y <= hi.y; ++y) {
      uvec4 q = starts.s[uint((z * n + y) * n + lo.x)];
      // The row's candidates, cell by cell: at most cell_cap from each. One
      // flat loop over their concatenation, so SIMD lanes with different
      // cell occupancies share iterations.
      uint len0 = min(q.y - q.x, pc.cell_cap);
      uint len1 = nx > 1u ? min(q.z - q.y, pc.cell_cap) : 0u;
      uint len2 = nx > 2u ? min(q.w - q.z, pc.cell_cap) : 0u;
      uint total = len0 + len1 + len2;
      for (uint i = 0u; i < total; ++i) {
        uint u = i < len0 ? q.x + i : (i < len0 + len1 ? q.y + (i - len0) : q.z + (i - len0 - len1));
        if (u == t || u >= pc.bodies) continue;
        ivec3 d = p - sorted_pos.p[u].xyz;
        int64_t d2 = int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z;
        if (d2 < limit) {
          if (k < kMaxContacts) list.u[kMaxContacts * t + k] = u;
          ++k;
        }
      }
    }
  }
  sorted_vel.v[t].w = int(k);
}
