#version 450
// Narrow phase and integration, Jacobi style: the body in slot t reads the
// old state of itself and its listed contacts (the sorted copy) and writes
// only its own new state, so no invocation order can show in the result.
// Mirrors solve() in simulate.cpp. Also bins the new state for the next step.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_vote : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

// Slot order: (x, y, z, id) and (vx, vy, vz, contact count k).
// Read-only data as texel buffers (one vector gather per fetch on llvmpipe,
// see docs/kernels.md); slot t's record is texels 2t and 2t + 1.
#extension GL_EXT_samplerless_texture_functions : require
layout(set = 0, binding = 0) uniform utextureBuffer records;
// Slot t's contacts: texels 4t .. 4t + 3 (kMaxContacts words).
layout(set = 0, binding = 1) uniform utextureBuffer list;
// Id order: (x, y, z, cell) and (vx, vy, vz, 0).
layout(std430, set = 0, binding = 2) writeonly buffer Body { u64vec4 r[]; } body;
layout(std430, set = 0, binding = 3) buffer Count { uint n[]; } count;
// Slot starts per cell (physics_scan.comp), for the search in first_contacts().
layout(set = 0, binding = 4) uniform utextureBuffer starts;

int mulq(int64_t a, int64_t b, int shift) { return int((a * b) >> shift); }

// One touching neighbour (slot u) of slot t: t's share of the impulse and of
// the separation. Magnitudes: |d| < 2^16, |vr| < 2^24, so 32-bit square roots
// and quotients suffice.
void sphere_contact(ivec4 pi, ivec4 vi, uint u, inout ivec3 dv, inout ivec3 dp) {
  ivec4 pu = ivec4(texelFetch(records, int(2u * u)));
  ivec4 vu = ivec4(texelFetch(records, int(2u * u + 1u)));
  ivec3 d = pi.xyz - pu.xyz;
  uint d2 = uint(int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z);
  uint dist = isqrt32(d2);
  uint s = 65536u / uint(max(vi.w, vu.w));  // 1/max(k_t, k_u) in Q16.16
  ivec3 n = ivec3(0, 0, pi.w > pu.w ? 65536 : -65536);  // coincident centres: by id
  if (dist > 0u) {
    int64_t inv = int64_t(0x80000000u / dist);
    n = ivec3(mulq(d.x, inv, 15), mulq(d.y, inv, 15), mulq(d.z, inv, 15));
  }
  int corr = int((uint(2 * pc.radius - int(dist)) >> 1) * s >> 16);
  dp += ivec3(mulq(corr, n.x, 16), mulq(corr, n.y, 16), mulq(corr, n.z, 16));

  ivec3 vr = vi.xyz - vu.xyz;
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

// A body touching more than kMaxContacts spheres solves the first
// kMaxContacts in the reference's order: cells in z, y, x order, in each the
// lowest cell_cap ids in ascending order (the list physics_contacts.comp made
// holds whichever its atomics counted first). Rare: it picks each next id by
// a sweep over the cell.
void first_contacts(uint t, ivec4 pt, ivec4 vt, inout ivec3 dv, inout ivec3 dp) {
  int reach = 2 * pc.radius;
  ivec3 lo = ivec3(cell_coord(pt.x - reach), cell_coord(pt.y - reach), cell_coord(pt.z - reach));
  ivec3 hi = ivec3(cell_coord(pt.x + reach), cell_coord(pt.y + reach), cell_coord(pt.z + reach));
  uint listed = 0u;
  for (int z = lo.z; z <= hi.z; ++z) {
    for (int y = lo.y; y <= hi.y; ++y) {
      for (int x = lo.x; x <= hi.x; ++x) {
        uvec2 r = texelFetch(starts, int((uint(z) * pc.grid + uint(y)) * pc.grid + uint(x))).xy;
        int last = -1;
        for (uint rank = 0u; rank < pc.cell_cap && listed < kMaxContacts; ++rank) {
          uint next = pc.bodies;
          int next_id = 0x7fffffff;
          for (uint w = r.x; w < r.y && w < pc.bodies; ++w) {
            int id = int(texelFetch(records, int(2u * w)).w);
            if (id > last && id < next_id) {
              next = w;
              next_id = id;
            }
          }
          if (next >= pc.bodies) break;
          last = next_id;
          if (next == t) continue;
          ivec3 d = pt.xyz - ivec4(texelFetch(records, int(2u * next))).xyz;
          int64_t d2 = int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z;
          if (d2 < touching_distance2()) {
            sphere_contact(pt, vt, next, dv, dp);
            ++listed;
          }
        }
      }
    }
  }
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
  ivec4 pt = ivec4(texelFetch(records, int(2u * t)));
  ivec4 vt = ivec4(texelFetch(records, int(2u * t + 1u)));
  ivec3 dv = ivec3(0), dp = ivec3(0);
  bool many = uint(vt.w) > kMaxContacts;
  uint m_end = many ? 0u : uint(vt.w);
  for (uint m = 0u; m < m_end; ++m) {
    uint u = texelFetch(list, int((kMaxContacts * t + m) >> 2))[m & 3u];
    if (u < pc.bodies) sphere_contact(pt, vt, u, dv, dp);
  }
  // Uniform across the SIMD group, so llvmpipe skips it unless a lane needs it.
  if (subgroupAny(many) && many) first_contacts(t, pt, vt, dv, dp);
  ivec3 vmax = ivec3(pc.max_speed);
  ivec3 v = plane_contacts(pt.xyz, clamp(vt.xyz + dv, -vmax, vmax));
  v.z -= pc.gravity_dt;
  v = clamp(v, -vmax, vmax);
  ivec3 lo = ivec3(pc.radius), hi = ivec3((int(pc.grid) << 16) - pc.radius);
  ivec3 np = clamp(pt.xyz + dp + ivec3(mulq(v.x, pc.dt, 16), mulq(v.y, pc.dt, 16), mulq(v.z, pc.dt, 16)), lo, hi);
  uint i = uint(pt.w);
  if (i >= pc.bodies) return;
  uint c = cell_index(np);
  body.r[i] = record(ivec4(np, int(c)), ivec4(v, 0));
  atomicAdd(count.n[c], 1u);
}
