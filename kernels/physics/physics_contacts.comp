#version 450
// Narrow phase, first pass: k[t] = how many spheres touch the body in slot t
// (27 cells around it, at most cell_cap bodies per cell). physics_solve.comp
// scales each pair's response by 1/max(k of both), see simulate.cpp.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Start { uint s[]; } start;
layout(std430, set = 0, binding = 1) readonly buffer Sorted { int s[]; } sorted;
layout(std430, set = 0, binding = 2) writeonly buffer Contacts { uint k[]; } contacts;

void main() {
  uint t = gl_GlobalInvocationID.x;
  if (t >= pc.bodies) return;
  ivec3 p = ivec3(sorted.s[6u * t], sorted.s[6u * t + 1u], sorted.s[6u * t + 2u]);
  int64_t limit = touching_distance2();
  int n = int(pc.grid);
  ivec3 cc = ivec3(cell_coord(p.x), cell_coord(p.y), cell_coord(p.z));
  uint k = 0u;
  for (int z = max(cc.z - 1, 0); z <= min(cc.z + 1, n - 1); ++z) {
    for (int y = max(cc.y - 1, 0); y <= min(cc.y + 1, n - 1); ++y) {
      for (int x = max(cc.x - 1, 0); x <= min(cc.x + 1, n - 1); ++x) {
        uint cell = uint((z * n + y) * n + x);
        uint b = start.s[cell];
        uint e = min(min(start.s[cell + 1u], b + pc.cell_cap), pc.bodies);
        for (uint u = b; u < e; ++u) {
          if (u == t) continue;
          ivec3 d = p - ivec3(sorted.s[6u * u], sorted.s[6u * u + 1u], sorted.s[6u * u + 2u]);
          int64_t d2 = int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z;
          if (d2 < limit) ++k;
        }
      }
    }
  }
  contacts.k[t] = k;
}
