#version 450
// Narrow phase, first pass: finds every pair of touching spheres once, from
// the body with the lower slot, and lists it on both sides: k (the number of
// spheres touching a body: the cells within 2r of it, at most cell_cap
// bodies per cell, the lowest ids) is counted with atomics in the last word
// of the slot's record (physics_scatter.comp zeroed it), and the first
// kMaxContacts counted go into the slot's list. Looking only at the slots
// after its own halves each body's candidates. physics_solve.comp works from
// the list (so its costly part runs per contact, not per candidate) and
// scales each pair's response by 1/max(k of both), see simulate.cpp. Neither
// the order of the slots inside a cell (physics_scatter.comp) nor the order
// the atomics list the contacts in can show, as long as the sets agree: the
// solve pass sums integers. Where the reference's order matters (k >
// kMaxContacts: which contacts are solved), physics_solve.comp searches
// again in that order.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_vote : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

#extension GL_EXT_samplerless_texture_functions : require
// Read-only data as texel buffers: llvmpipe fetches a texel in one vector
// gather, where a storage-buffer load inside a branch or loop is a per-lane
// loop (docs/kernels.md).
layout(set = 0, binding = 0) uniform utextureBuffer starts;
// Slot t's record (see record()) as quads: q[2t] = (x, y, z, id), q[2t + 1]
// = (vx, vy, vz, k), k counted here.
layout(std430, set = 0, binding = 1) buffer Sorted { ivec4 q[]; } sorted;
layout(std430, set = 0, binding = 2) writeonly buffer ContactList { uint u[]; } list;
// The same slot records as `sorted`, for reading positions and ids (written
// by physics_scatter.comp; only the k words change during this pass).
layout(set = 0, binding = 3) uniform utextureBuffer records;

// Candidates per body visited without a loop (see search()).
const uint kUnrolled = 4u;

// Whether body `id` is among the cell_cap lowest ids of the cell in slots
// [b, e) (the reference takes those). Only runs near crowded cells.
bool within_cap(int id, uint b, uint e) {
  uint rank = 0u;
  for (uint w = b; w < e && w < pc.bodies; ++w) rank += ivec4(texelFetch(records, int(2u * w))).w < id ? 1u : 0u;
  return rank < pc.cell_cap;
}

// Whether the body in slot u counts as a neighbour: its cell holds at most
// cell_cap bodies, or it is among their lowest ids. (Its id is loaded here,
// not with the candidate's position: a word fewer per candidate load.)
bool counts(uint u) {
  ivec4 pu = ivec4(texelFetch(records, int(2u * u)));
  uvec2 r = texelFetch(starts, int(cell_index(pu.xyz))).xy;
  return r.y - r.x <= pc.cell_cap || within_cap(pu.w, r.x, r.y);
}

// Slot a touches slot b: one more contact for a, listed if among its first
// kMaxContacts.
void add_contact(uint a, uint b) {
  uint m = uint(atomicAdd(sorted.q[2u * a + 1u].w, 1));
  if (m < kMaxContacts) list.u[kMaxContacts * a + m] = b;
}

// The most bodies in one of the first nx cells of a row's starts quad.
uint most_in_a_cell(uvec4 q, uint nx) {
  uint m = q.y - q.x;
  if (nx > 1u) m = max(m, q.z - q.y);
  if (nx > 2u) m = max(m, q.w - q.z);
  return m;
}

// The rows lo.y .. lo.y + ny - 1 (up to 3) of layer z, cells lo.x ..
// lo.x + nx - 1 of each: first slots and candidate counts, only slots from
// `after` on (0 past ny); notes a cell holding more than cell_cap bodies.
void layer_rows(uint z, uint nx, uint ny, uvec2 lo_yx, uint after, out uvec3 first,
                out uvec3 count, inout bool crowded) {
  uint row = (z * pc.grid + lo_yx.x) * pc.grid + lo_yx.y;
  uvec4 qa = texelFetch(starts, int(row));
  uvec4 qb = ny > 1u ? texelFetch(starts, int(row + pc.grid)) : uvec4(0u);
  uvec4 qc = ny > 2u ? texelFetch(starts, int(row + 2u * pc.grid)) : uvec4(0u);
  first = uvec3(qa.x, qb.x, qc.x);
  uvec3 end = nx > 2u ? uvec3(qa.w, qb.w, qc.w) : (nx > 1u ? uvec3(qa.z, qb.z, qc.z) : uvec3(qa.y, qb.y, qc.y));
  crowded = crowded || most_in_a_cell(qa, nx) > pc.cell_cap ||
            most_in_a_cell(qb, nx) > pc.cell_cap || most_in_a_cell(qc, nx) > pc.cell_cap;
  first = max(first, uvec3(after));
  count = end - min(first, end);
}

// Candidate n of the concatenated rows: its slot.
uint candidate(uint n, uint s0, uint s1, uvec3 b0, uvec3 b1, uvec3 b2, uvec3 t0, uvec3 t1,
               uvec3 t2) {
  bool l0 = n < s0, l1 = !l0 && n < s0 + s1;
  uint j = l0 ? n : (l1 ? n - s0 : n - s0 - s1);
  uvec3 b = l0 ? b0 : (l1 ? b1 : b2), tt = l0 ? t0 : (l1 ? t1 : t2);
  bool in_a = j < tt.x, in_b = !in_a && j < tt.x + tt.y;
  // Within a row the cells' slots are contiguous.
  return in_a ? b.x + j : (in_b ? b.y + (j - tt.x) : b.z + (j - tt.x - tt.y));
}

// Candidate u (at pu; `ok` false: no candidate) of the body in slot t at
// p: if they touch, each is listed on the other's side where it counts
// (exact false: every body counts; true: only the lowest cell_cap ids of a
// cell).
void visit(uint t, uint u, ivec3 p, ivec3 pu, bool ok, bool exact) {
  ivec3 d = p - pu;
  int64_t d2 = int64_t(d.x) * d.x + int64_t(d.y) * d.y + int64_t(d.z) * d.z;
  if (!ok || d2 >= touching_distance2()) return;
  if (!exact || counts(u)) add_contact(t, u);
  if (!exact || counts(t)) add_contact(u, t);
}

// Visits the candidates of the body in slot t (at p) in the slots after t.
void search(uint t, bool live, ivec3 p) {
  // A sphere touching this one has its centre within 2r on every axis: 2 cells
  // per axis when r <= 1/4, at most 3.
  int reach = 2 * pc.radius;
  ivec3 lo = ivec3(cell_coord(p.x - reach), cell_coord(p.y - reach), cell_coord(p.z - reach));
  ivec3 hi = ivec3(cell_coord(p.x + reach), cell_coord(p.y + reach), cell_coord(p.z + reach));
  // 2r <= 1 cell, so at most 3 cells per axis; along x they are adjacent,
  // and one starts quad holds their slot ranges.
  uint nx = uint(hi.x - lo.x + 1), ny = uint(hi.y - lo.y + 1), nz = uint(hi.z - lo.z + 1);
  // A touching pair is visited from its lower slot: the rows keep the slots
  // after t only (none for the invocations past the last body).
  uint after = live ? t + 1u : 0xffffffffu;
  // The (up to 3 x 3) rows: first slots and candidate counts, three rows
  // along y per layer along z; rows and layers past hi are empty.
  uvec3 b0, b1, b2, t0, t1, t2;
  bool crowded = false;
  layer_rows(uint(lo.z), nx, ny, uvec2(lo.yx), after, b0, t0, crowded);
  if (nz > 1u) layer_rows(uint(lo.z + 1), nx, ny, uvec2(lo.yx), after, b1, t1, crowded);
  else b1 = t1 = uvec3(0u);
  if (nz > 2u) layer_rows(uint(lo.z + 2), nx, ny, uvec2(lo.yx), after, b2, t2, crowded);
  else b2 = t2 = uvec3(0u);
  uint s0 = t0.x + t0.y + t0.z, s1 = t1.x + t1.y + t1.z, s2 = t2.x + t2.y + t2.z;
  // All candidates in one flat loop over their concatenation, so SIMD lanes
  // with different occupancies share iterations (the cost is the most
  // candidates of any lane).
  uint total = s0 + s1 + s2;
  // The first kUnrolled candidates outside any loop or branch: llvmpipe
  // gathers such a load in one go, while a load in a loop runs lane by lane
  // for every iteration the busiest lane needs. Lanes without that many
  // candidates read body t and discard it. Near a crowded cell only the
  // lowest cell_cap ids of a cell count, on either side of a pair (t's own
  // cell is among the rows, so `crowded` covers it): such a body (rare)
  // takes part only in the second search below, so that the checks stay out
  // of the loops every body runs.
  uint n_fast = crowded ? 0u : total;
  for (uint n = 0u; n < kUnrolled; ++n) {
    uint u = candidate(n, s0, s1, b0, b1, b2, t0, t1, t2);
    bool ok = n < n_fast && u < pc.bodies;
    visit(t, u, p, ivec4(texelFetch(records, int(2u * (ok ? u : t)))).xyz, ok, false);
  }
  for (uint n = kUnrolled; n < n_fast; ++n) {
    uint u = candidate(n, s0, s1, b0, b1, b2, t0, t1, t2);
    if (u >= pc.bodies) continue;
    visit(t, u, p, ivec4(texelFetch(records, int(2u * u))).xyz, true, false);
  }
  // Uniform across the SIMD group: skipped unless a lane needs it.
  if (subgroupAny(crowded)) {
    uint n_exact = crowded ? total : 0u;
    for (uint n = 0u; n < n_exact; ++n) {
      uint u = candidate(n, s0, s1, b0, b1, b2, t0, t1, t2);
      if (u >= pc.bodies) continue;
      visit(t, u, p, ivec4(texelFetch(records, int(2u * u))).xyz, true, true);
    }
  }
}

void main() {
  // No early return for the invocations past the last body (they search
  // nothing), so that the unrolled candidate loads in search() stay outside
  // control flow.
  bool live = gl_GlobalInvocationID.x < pc.bodies;
  uint t = min(gl_GlobalInvocationID.x, pc.bodies - 1u);
  search(t, live, ivec4(texelFetch(records, int(2u * t))).xyz);
}
