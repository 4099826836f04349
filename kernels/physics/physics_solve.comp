#version 450
// Narrow phase and integration, Jacobi style: the body in slot t reads the
// old state of itself and its neighbours (the sorted copy) and writes only
// its own new state, so no invocation order can show in the result. Mirrors
// solve() in simulate.cpp. Also bins the new state for the next step.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Start { uint s[]; } start;
layout(std430, set = 0, binding = 1) readonly buffer Sorted { int s[]; } sorted;
layout(std430, set = 0, binding = 2) readonly buffer SortedId { uint id[]; } sorted_id;
layout(std430, set = 0, binding = 3) readonly buffer Contacts { uint k[]; } contacts;
layout(std430, set = 0, binding = 4) writeonly buffer State { int s[]; } state;
layout(std430, set = 0, binding = 5) writeonly buffer CellOf { uint c[]; } cell_of;
layout(std430, set = 0, binding = 6) buffer Count { uint n[]; } count;

i64vec3 dv = i64vec3(0l), dp = i64vec3(0l);

void sphere_contact(uint t, uint u, ivec3 pi, ivec3 vi) {
  i64vec3 d = i64vec3(pi) - i64vec3(sorted.s[6u * u], sorted.s[6u * u + 1u], sorted.s[6u * u + 2u]);
  int64_t d2 = d.x * d.x + d.y * d.y + d.z * d.z;
  if (d2 >= touching_distance2()) return;
  int64_t kmax = int64_t(max(contacts.k[t], contacts.k[u]));
  uint64_t dist = isqrt64(uint64_t(d2));
  i64vec3 n = i64vec3(0l, 0l, sorted_id.id[t] > sorted_id.id[u] ? kOne : -kOne);
  if (dist > 0ul) {
    int64_t inv = int64_t((1ul << 32) / dist);
    n = (d * inv) >> 16;
  }
  int64_t corr = ((2l * int64_t(pc.radius) - int64_t(dist)) >> 1) / kmax;  // both positive
  dp += (corr * n) >> 16;

  i64vec3 vr = i64vec3(vi) - i64vec3(sorted.s[6u * u + 3u], sorted.s[6u * u + 4u], sorted.s[6u * u + 5u]);
  int64_t vn = (vr.x * n.x + vr.y * n.y + vr.z * n.z) >> 16;
  if (vn >= 0l) return;
  int64_t approach = -vn;
  int64_t e = approach > int64_t(pc.rest_speed) ? int64_t(pc.restitution) : 0l;
  int64_t jn = ((kOne + e) * approach) >> 17;
  i64vec3 vt = vr - ((vn * n) >> 16);
  uint64_t vt2 = uint64_t(vt.x * vt.x) + uint64_t(vt.y * vt.y) + uint64_t(vt.z * vt.z);
  i64vec3 imp = (jn * n) >> 16;
  uint64_t vtm = isqrt64(vt2);
  if (vtm > 0ul) {
    int64_t ft = min((int64_t(pc.friction) * jn) >> 16, int64_t(vtm >> 1));
    int64_t inv = int64_t((1ul << 32) / vtm);
    imp -= (ft * ((vt * inv) >> 16)) >> 16;
  }
  dv += i64vec3(div_trunc(imp.x, kmax), div_trunc(imp.y, kmax), div_trunc(imp.z, kmax));
}

void plane_contacts(ivec3 p, inout int64_t v[3]) {
  int64_t box = int64_t(pc.grid) << 16, r = int64_t(pc.radius);
  for (int a = 0; a < 3; ++a) {
    int64_t next = int64_t(p[a]) + ((v[a] * int64_t(pc.dt)) >> 16);
    int64_t approach;
    if (v[a] < 0l && next < r) {
      approach = -v[a];
    } else if (v[a] > 0l && next > box - r) {
      approach = v[a];
    } else {
      continue;
    }
    int64_t e = approach > int64_t(pc.rest_speed) ? int64_t(pc.restitution) : 0l;
    v[a] = -((v[a] * e) >> 16);
    int64_t jn = approach + ((approach * e) >> 16);
    int b1 = (a + 1) % 3, b2 = (a + 2) % 3;
    uint64_t vtm = isqrt64(uint64_t(v[b1] * v[b1] + v[b2] * v[b2]));
    if (vtm > 0ul) {
      int64_t f = min((int64_t(pc.friction) * jn) >> 16, int64_t(vtm));
      int64_t f1 = div_trunc(f * v[b1], int64_t(vtm)), f2 = div_trunc(f * v[b2], int64_t(vtm));
      v[b1] -= f1;
      v[b2] -= f2;
    }
  }
}

void main() {
  uint t = gl_GlobalInvocationID.x;
  if (t >= pc.bodies) return;
  ivec3 p = ivec3(sorted.s[6u * t], sorted.s[6u * t + 1u], sorted.s[6u * t + 2u]);
  ivec3 vi = ivec3(sorted.s[6u * t + 3u], sorted.s[6u * t + 4u], sorted.s[6u * t + 5u]);
  int n = int(pc.grid);
  ivec3 cc = ivec3(cell_coord(p.x), cell_coord(p.y), cell_coord(p.z));
  for (int z = max(cc.z - 1, 0); z <= min(cc.z + 1, n - 1); ++z) {
    for (int y = max(cc.y - 1, 0); y <= min(cc.y + 1, n - 1); ++y) {
      for (int x = max(cc.x - 1, 0); x <= min(cc.x + 1, n - 1); ++x) {
        uint cell = uint((z * n + y) * n + x);
        uint b = start.s[cell];
        uint e = min(min(start.s[cell + 1u], b + pc.cell_cap), pc.bodies);
        for (uint u = b; u < e; ++u) {
          if (u != t) sphere_contact(t, u, p, vi);
        }
      }
    }
  }
  int64_t v[3] = int64_t[3](int64_t(vi.x) + dv.x, int64_t(vi.y) + dv.y, int64_t(vi.z) + dv.z);
  plane_contacts(p, v);
  v[2] -= int64_t(pc.gravity_dt);
  int64_t box = int64_t(pc.grid) << 16, r = int64_t(pc.radius);
  ivec3 np, nv;
  for (int a = 0; a < 3; ++a) {
    v[a] = clamp(v[a], -int64_t(pc.max_speed), int64_t(pc.max_speed));
    np[a] = int(clamp(int64_t(p[a]) + dp[a] + ((v[a] * int64_t(pc.dt)) >> 16), r, box - r));
    nv[a] = int(v[a]);
  }
  uint i = sorted_id.id[t];
  if (i >= pc.bodies) return;
  for (int a = 0; a < 3; ++a) {
    state.s[6u * i + uint(a)] = np[a];
    state.s[6u * i + 3u + uint(a)] = nv[a];
  }
  uint c = cell_index(np);
  cell_of.c[i] = c;
  atomicAdd(count.n[c], 1u);
}
