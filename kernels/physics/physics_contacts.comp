#version 450
// Narrow phase, first pass: k = how many spheres touch the body in slot t
// (the cells within 2r of it, at most cell_cap bodies per cell, the lowest
// ids), stored in the w of its velocity quad, and the slots of kMaxContacts
// of them: the first in the reference's z, y, x, id order. physics_solve.comp
// works from this list (so its costly part runs per contact, not per
// candidate) and scales each pair's response by 1/max(k of both), see
// simulate.cpp. Slots inside a cell are in no particular order
// (physics_scatter.comp), which changes nothing as long as the sets agree:
// the solve pass sums integers, so the order of the list does not show.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Starts { uvec4 s[]; } starts;
layout(std430, set = 0, binding = 1) readonly buffer SortedPos { ivec4 p[]; } sorted_pos;
layout(std430, set = 0, binding = 2) buffer SortedVel { ivec4 v[]; } sorted_vel;
layout(std430, set = 0, binding = 3) buffer ContactList { uint u[]; } list;

// Whether body `id` is among the cell_cap lowest ids of the cell in slots
// [b, e) (the reference takes those). Only runs for crowded cells.
bool within_cap(int id, uint b, uint e) {
  uint rank = 0u;
  for (uint w = b; w < e && w < pc.bodies; ++w) rank += sorted_pos.p[w].w < id ? 1u : 0u;
  return rank < pc.cell_cap;
}

// Slot t already lists kMaxContacts contacts; contact u (state pu) replaces
// the listed one of its cell with the highest id if its own id is lower.
// Cells are visited in ascending index order, so a listed contact of an
// earlier cell always stays: the list keeps the first kMaxContacts in the
// reference's order. Only runs when a body has more than kMaxContacts.
void keep_first(uint t, uint u, ivec4 pu) {
  uint cell = cell_index(pu.xyz);
  uint worst = kMaxContacts;
  int worst_id = pu.w;
  for (uint m = 0u; m < kMaxContacts; ++m) {
    uint e = list.u[kMaxContacts * t + m];
    if (e >= pc.bodies) continue;
    ivec4 pe = sorted_pos.p[e];
    if (cell_index(pe.xyz) == cell && pe.w > worst_id) {
      worst = m;
      worst_id = pe.w;
    }
  }
  if (worst < kMaxContacts) list.u[kMaxContacts * t + worst] = u;
}

// The most bodies in one of the first nx cells of a row's starts quad.
uint most_in_a_cell(uvec4 q, uint nx) {
  uint m = q.y - q.x;
  if (nx > 1u) m = max(m, q.z - q.y);
  if (nx > 2u) m = max(m, q.w - q.z);
  return m;
}

// Counts the spheres touching the body in slot t (at p) and lists the first
// kMaxContacts it finds. Fast (`exact` false): every body of every cell counts
// and the list takes whichever come first; it tells through `crowded` whether
// a cell held more than cell_cap bodies. Exact: only the lowest cell_cap ids
// of a cell count, and the list keeps the reference's first kMaxContacts. The
// two agree unless a cell is crowded or k > kMaxContacts, which is rare, so
// main() runs the exact search only then (llvmpipe runs both sides of a
// branch inside the candidate loop, so the rare work stays out of it).
uint search(uint t, ivec3 p, bool exact, inout bool crowded) {
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
  uint ny = uint(hi.y - lo.y + 1);
  for (int z = lo.z; z <= hi.z; ++z) {
    // The (up to 3) rows along y of this z, each one starts quad for its
    // (up to 3) cells along x; rows past hi.y are empty.
    uint row = uint((z * n + lo.y) * n + lo.x);
    uvec4 qa = starts.s[row];
    uvec4 qb = ny > 1u ? starts.s[row + uint(n)] : uvec4(0u);
    uvec4 qc = ny > 2u ? starts.s[row + 2u * uint(n)] : uvec4(0u);
    uint ta = nx > 2u ? qa.w - qa.x : (nx > 1u ? qa.z - qa.x : qa.y - qa.x);
    uint tb = nx > 2u ? qb.w - qb.x : (nx > 1u ? qb.z - qb.x : qb.y - qb.x);
    uint tc = nx > 2u ? qc.w - qc.x : (nx > 1u ? qc.z - qc.x : qc.y - qc.x);
    // The candidates of all rows, cell by cell, in one flat loop over their
    // concatenation, so SIMD lanes with different occupancies share
    // iterations (the cost is the most candidates of any lane).
    uint total = ta + tb + tc;
    crowded = crowded || most_in_a_cell(qa, nx) > pc.cell_cap ||
              most_in_a_cell(qb, nx) > pc.cell_cap || most_in_a_cell(qc, nx) > pc.cell_cap;
    for (uint i = 0u; i < total; ++i) {
      bool in_a = i < ta, in_b = !in_a && i < ta + tb;
      uvec4 q = in_a ? qa : (in_b ? qb : qc);
      uint j = in_a ? i : (in_b ? i - ta : i - ta - tb);
      // Within the row: cell 0, 1 or 2; a slot at or past q.y is in cell 1
      // or 2 (the ranges are contiguous), so u = q.x + j.
      uint u = q.x + j;
      if (u == t || u >= pc.bodies) continue;
      ivec4 pu = sorted_pos.p[u];
      ivec3 d = p - pu.xyz;
      int64_t d2 = int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z;
      if (d2 >= limit) continue;
      if (exact) {
        uint b = u < q.y ? q.x : (u < q.z ? q.y : q.z);
        uint e = u < q.y ? q.y : (u < q.z ? q.z : q.w);
        if (e - b > pc.cell_cap && !within_cap(pu.w, b, e)) continue;
      }
      if (k < kMaxContacts) {
        list.u[kMaxContacts * t + k] = u;
      } else if (exact) {
        keep_first(t, u, pu);
      }
      ++k;
    }
  }
  return k;
}

void main() {
  uint t = gl_GlobalInvocationID.x;
  if (t >= pc.bodies) return;
  ivec3 p = sorted_pos.p[t].xyz;
  bool crowded = false;
  uint k = search(t, p, false, crowded);
  if (crowded || k > kMaxContacts) k = search(t, p, true, crowded);
  sorted_vel.v[t].w = int(k);
}
