#version 450
// Narrow phase and integration, Jacobi style: the body in slot t reads the
// old state of itself and its listed contacts (the sorted copy) and writes
// only its own new state, so no invocation order can show in the result.
// Mirrors solve() in simulate.cpp. Also bins the new state for the next step.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Sorted { int s[]; } sorted;
layout(std430, set = 0, binding = 1) readonly buffer SortedId { uint id[]; } sorted_id;
layout(std430, set = 0, binding = 2) readonly buffer Contacts { uint k[]; } contacts;
layout(std430, set = 0, binding = 3) readonly buffer ContactList { uint u[]; } list;
layout(std430, set = 0, binding = 4) writeonly buffer State { int s[]; } state;
layout(std430, set = 0, binding = 5) writeonly buffer CellOf { uint c[]; } cell_of;
layout(std430, set = 0, binding = 6) buffer Count { uint n[]; } count;

int mulq(int64_t a, int64_t b, int shift) { return int((a * b) >> shift); }

// One touching neighbour (slot u) of slot t: t's share of the impulse and of
// the separation. Magnitudes: |d| < 2^16, |vr| < 2^24, so 32-bit square roots
// and quotients suffice.
void sphere_contact(uint t, uint u, ivec3 pi, ivec3 vi, inout ivec3 dv, inout ivec3 dp) {
  ivec3 d = pi - ivec3(sorted.s[6u * u], sorted.s[6u * u + 1u], sorted.s[6u * u + 2u]);
  uint d2 = uint(int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z);
  uint dist = isqrt32(d2);
  uint s = 65536u / max(contacts.k[t], contacts.k[u]);  // 1/max(k_t, k_u) in Q16.16
  ivec3 n = ivec3(0, 0, sorted_id.id[t] > sorted_id.id[u] ? 65536 : -65536);
  if (dist > 0u) {
    int64_t inv = int64_t(0x80000000u / dist);
    n = ivec3(mulq(d.x, inv, 15), mulq(d.y, inv, 15), mulq(d.z, inv, 15));
  }
  int corr = int((uint(2 * pc.radius - int(dist)) >> 1) * s >> 16);
  dp += ivec3(mulq(corr, n.x, 16), mulq(corr, n.y, 16), mulq(corr, n.z, 16));

  ivec3 vr = vi - ivec3(sorted.s[6u * u + 3u], sorted.s[6u * u + 4u], sorted.s[6u * u + 5u]);
  int vn = int((int64_t(vr.x) * n.x + int64_t(vr.y) * n.y + int64_t(vr.z) * n.z) >> 16);
  if (vn >= 0) return;  // separating
  int approach = -vn;
  int e = approach > pc.rest_speed ? pc.restitution : 0;
  int jn = mulq(65536 + e, approach, 17);  // (1+e)/2 |vn|: equal masses
  ivec3 vt = vr - ivec3(mulq(vn, n.x, 16), mulq(vn, n.y, 16), mulq(vn, n.z, 16));
  ivec3 imp = ivec3(mulq(jn, n.x, 16), mulq(jn, n.y, 16), mulq(jn, n.z, 16));
  int64_t vt2 = int64_t(vt.x) * vt.x + int64_t(vt.y) * vt.y + int64_t(vt.z) * vt.z;
  uint q = isqrt32(uint(vt2 >> 16));  // |vt| / 256
  if (q > 0u) {  // Coulomb friction, never reversing the sliding direction
    int ft = min(mulq(pc.friction, jn, 16), int(q << 7));
    int64_t inv = int64_t(0x80000000u / q);
    ivec3 unit = ivec3(mulq(vt.x >> 8, inv, 15), mulq(vt.y >> 8, inv, 15), mulq(vt.z >> 8, inv, 15));
    imp -= ivec3(mulq(ft, unit.x, 16), mulq(ft, unit.y, 16), mulq(ft, unit.z, 16));
  }
  dv += ivec3(mulq(imp.x, s, 16), mulq(imp.y, s, 16), mulq(imp.z, s, 16));
}

// The six walls: a sphere moving into a wall it would reach within this step
// bounces now (restitution, Coulomb friction on the other two axes).
ivec3 plane_contacts(ivec3 p, ivec3 v) {
  int box = int(pc.grid) << 16;
  for (int a = 0; a < 3; ++a) {
    int next = p[a] + mulq(v[a], pc.dt, 16);
    bool low = v[a] < 0 && next < pc.radius;
    bool high = v[a] > 0 && next > box - pc.radius;
    if (!low && !high) continue;
    int approach = abs(v[a]);
    int e = approach > pc.rest_speed ? pc.restitution : 0;
    v[a] = -mulq(v[a], e, 16);
    int jn = approach + mulq(approach, e, 16);
    int b1 = (a + 1) % 3, b2 = (a + 2) % 3;
    uint q = isqrt32(uint((int64_t(v[b1]) * v[b1] + int64_t(v[b2]) * v[b2]) >> 16));
    if (q > 0u) {
      int f = min(mulq(pc.friction, jn, 16), int(q << 8));
      int64_t inv = int64_t(0x80000000u / q);
      int u1 = mulq(v[b1] >> 8, inv, 15), u2 = mulq(v[b2] >> 8, inv, 15);
      v[b1] -= mulq(f, u1, 16);
      v[b2] -= mulq(f, u2, 16);
    }
  }
  return v;
}

void main() {
  uint t = gl_GlobalInvocationID.x;
  if (t >= pc.bodies) return;
  ivec3 p = ivec3(sorted.s[6u * t], sorted.s[6u * t + 1u], sorted.s[6u * t + 2u]);
  ivec3 v = ivec3(sorted.s[6u * t + 3u], sorted.s[6u * t + 4u], sorted.s[6u * t + 5u]);
  ivec3 dv = ivec3(0), dp = ivec3(0);
  uint m_end = min(contacts.k[t], kMaxContacts);
  for (uint m = 0u; m < m_end; ++m) {
    uint u = list.u[kMaxContacts * t + m];
    if (u < pc.bodies) sphere_contact(t, u, p, v, dv, dp);
  }
  ivec3 vmax = ivec3(pc.max_speed);
  v = plane_contacts(p, clamp(v + dv, -vmax, vmax));
  v.z -= pc.gravity_dt;
  v = clamp(v, -vmax, vmax);
  ivec3 lo = ivec3(pc.radius), hi = ivec3((int(pc.grid) << 16) - pc.radius);
  ivec3 np = clamp(p + dp + ivec3(mulq(v.x, pc.dt, 16), mulq(v.y, pc.dt, 16), mulq(v.z, pc.dt, 16)), lo, hi);
  uint i = sorted_id.id[t];
  if (i >= pc.bodies) return;
  for (int a = 0; a < 3; ++a) {
    state.s[6u * i + uint(a)] = np[a];
    state.s[6u * i + 3u + uint(a)] = v[a];
  }
  uint c = cell_index(np);
  cell_of.c[i] = c;
  atomicAdd(count.n[c], 1u);
}
