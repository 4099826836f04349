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

// Candidates per body visited without a loop (see search()).
const uint kUnrolled = 6u;

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

// The rows lo.y .. lo.y + ny - 1 (up to 3) of layer z, cells lo.x ..
// lo.x + nx - 1 of each: first slots and candidate counts (0 past ny); notes
// a cell holding more than cell_cap bodies.
void layer_rows(uint z, uint nx, uint ny, uvec2 lo_yx, out uvec3 first, out uvec3 count,
                inout bool crowded) {
  uint row = (z * pc.grid + lo_yx.x) * pc.grid + lo_yx.y;
  uvec4 qa = starts.s[row];
  uvec4 qb = ny > 1u ? starts.s[row + pc.grid] : uvec4(0u);
  uvec4 qc = ny > 2u ? starts.s[row + 2u * pc.grid] : uvec4(0u);
  first = uvec3(qa.x, qb.x, qc.x);
  count = nx > 2u ? uvec3(qa.w, qb.w, qc.w) - first
                  : (nx > 1u ? uvec3(qa.z, qb.z, qc.z) - first : uvec3(qa.y, qb.y, qc.y) - first);
  crowded = crowded || most_in_a_cell(qa, nx) > pc.cell_cap ||
            most_in_a_cell(qb, nx) > pc.cell_cap || most_in_a_cell(qc, nx) > pc.cell_cap;
}

// Candidate n of the concatenated rows, the body itself (index `self`)
// left out: its slot.
uint candidate(uint n, uint self, uint s0, uint s1, uvec3 b0, uvec3 b1, uvec3 b2, uvec3 t0,
               uvec3 t1, uvec3 t2) {
  uint i = n < self ? n : n + 1u;
  bool l0 = i < s0, l1 = !l0 && i < s0 + s1;
  uint j = l0 ? i : (l1 ? i - s0 : i - s0 - s1);
  uvec3 b = l0 ? b0 : (l1 ? b1 : b2), tt = l0 ? t0 : (l1 ? t1 : t2);
  bool in_a = j < tt.x, in_b = !in_a && j < tt.x + tt.y;
  // Within a row the cells' slots are contiguous.
  return in_a ? b.x + j : (in_b ? b.y + (j - tt.x) : b.z + (j - tt.x - tt.y));
}

// Candidate u (state pu; `ok` false: no candidate) of the body in slot t at
// p: counts and lists it if it touches (and, exact, if its cell lets it).
void visit(uint t, uint u, ivec3 p, ivec4 pu, bool ok, bool exact, inout uint k) {
  ivec3 d = p - pu.xyz;
  int64_t d2 = int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z;
  ok = ok && d2 < touching_distance2();
  if (exact && ok) {
    uvec2 r = starts.s[cell_index(pu.xyz)].xy;  // u's own cell
    ok = r.y - r.x <= pc.cell_cap || within_cap(pu.w, r.x, r.y);
  }
  if (!ok) return;
  if (k < kMaxContacts) {
    list.u[kMaxContacts * t + k] = u;
  } else if (exact) {
    keep_first(t, u, pu);
  }
  ++k;
}

// Counts the spheres touching the body in slot t (at p) and lists the first
// kMaxContacts it finds. Fast (`exact` false): every body of every cell counts
// and the list takes whichever come first; it tells through `crowded` whether
// a cell held more than cell_cap bodies. Exact: only the lowest cell_cap ids
// of a cell count, and the list keeps the reference's first kMaxContacts. The
// two agree unless a cell is crowded or k > kMaxContacts, which is rare, so
// main() runs the exact search only then (llvmpipe runs both sides of a
// branch inside the candidate loop, so the rare work stays out of it).
uint search(uint t, bool live, ivec3 p, bool exact, inout bool crowded) {
  // A sphere touching this one has its centre within 2r on every axis: 2 cells
  // per axis when r <= 1/4, at most 3.
  int reach = 2 * pc.radius;
  ivec3 lo = ivec3(cell_coord(p.x - reach), cell_coord(p.y - reach), cell_coord(p.z - reach));
  ivec3 hi = ivec3(cell_coord(p.x + reach), cell_coord(p.y + reach), cell_coord(p.z + reach));
  // 2r <= 1 cell, so at most 3 cells per axis; along x they are adjacent,
  // and one starts quad holds their slot ranges.
  uint nx = uint(hi.x - lo.x + 1);
  uint k = 0u;
  uint ny = uint(hi.y - lo.y + 1), nz = uint(hi.z - lo.z + 1);
  // The (up to 3 x 3) rows: first slots and candidate counts, three rows
  // along y per layer along z; rows and layers past hi are empty.
  uvec3 b0, b1, b2, t0, t1, t2;
  layer_rows(uint(lo.z), nx, ny, uvec2(lo.yx), b0, t0, crowded);
  if (nz > 1u) layer_rows(uint(lo.z + 1), nx, ny, uvec2(lo.yx), b1, t1, crowded);
  else b1 = t1 = uvec3(0u);
  if (nz > 2u) layer_rows(uint(lo.z + 2), nx, ny, uvec2(lo.yx), b2, t2, crowded);
  else b2 = t2 = uvec3(0u);
  uint s0 = t0.x + t0.y + t0.z, s1 = t1.x + t1.y + t1.z, s2 = t2.x + t2.y + t2.z;
  // All candidates in one flat loop over their concatenation, so SIMD lanes
  // with different occupancies share iterations (the cost is the most
  // candidates of any lane).
  uint total = s0 + s1 + s2;
  // Body t is one of the candidates (its own cell is among them): the loop
  // skips its index in the concatenation instead of spending an iteration
  // on it, one fewer for the busiest lane of the SIMD group.
  uint dz = uint(cell_coord(p.z) - lo.z), dy = uint(cell_coord(p.y) - lo.y);
  uvec3 bz = dz == 0u ? b0 : (dz == 1u ? b1 : b2), tz = dz == 0u ? t0 : (dz == 1u ? t1 : t2);
  uint self = (dz == 0u ? 0u : (dz == 1u ? s0 : s0 + s1)) +
              (dy == 0u ? 0u : (dy == 1u ? tz.x : tz.x + tz.y)) + t -
              (dy == 0u ? bz.x : (dy == 1u ? bz.y : bz.z));
  uint others = live && total > 0u ? total - 1u : 0u;
  // The first kUnrolled candidates outside any loop or branch: llvmpipe
  // gathers such a load in one go, while a load in a loop runs lane by lane
  // for every iteration the busiest lane needs. Lanes without that many
  // candidates read body t and discard it.
  for (uint n = 0u; n < kUnrolled; ++n) {
    uint u = candidate(n, self, s0, s1, b0, b1, b2, t0, t1, t2);
    bool ok = n < others && u != t && u < pc.bodies;
    ivec4 pu = sorted_pos.p[ok ? u : t];
    visit(t, u, p, pu, ok, exact, k);
  }
  for (uint n = kUnrolled; n < others; ++n) {
    uint u = candidate(n, self, s0, s1, b0, b1, b2, t0, t1, t2);
    if (u == t || u >= pc.bodies) continue;
    visit(t, u, p, sorted_pos.p[u], true, exact, k);
  }
  return k;
}

void main() {
  // No early return for the invocations past the last body (they search
  // nothing and store nothing), so that the unrolled candidate loads in
  // search() stay outside control flow.
  bool live = gl_GlobalInvocationID.x < pc.bodies;
  uint t = min(gl_GlobalInvocationID.x, pc.bodies - 1u);
  ivec3 p = sorted_pos.p[t].xyz;
  bool crowded = false;
  uint k = search(t, live, p, false, crowded);
  if (live && (crowded || k > kMaxContacts)) k = search(t, live, p, true, crowded);
  if (live) sorted_vel.v[t].w = int(k);
}
