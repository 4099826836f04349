#version 450
// Broad phase: exclusive prefix sum of the per-cell counts, in one workgroup
// (each invocation a contiguous chunk of cells, chunk totals combined in
// order by invocation 0). Cell c gets the quad of slot starts (s[c], s[c+1],
// s[c+2], s[c+3]), so that one load gives the ranges of up to three cells
// along x, which is all physics_contacts.comp needs per row. llvmpipe runs
// the loads and stores of this loop lane by lane, one operation per access
// whatever its width, so the counts are read eight cells per 32-byte load
// and the starts written two cells per 32-byte store (the count buffers hold
// whole eights of cells and one zero eight past them, the starts buffer whole
// eights); physics_scatter.comp counts the counts back down to zero.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

// Eight cells' counts as (n0 | n1 << 32, n2 | n3 << 32, ...).
layout(std430, set = 0, binding = 0) readonly buffer Count { u64vec4 e[]; } count;
// Two cells' starts quads per element: (s0 | s1 << 32, s2 | s3 << 32,
// s1 | s2 << 32, s3 | s4 << 32) for cells c and c + 1.
layout(std430, set = 0, binding = 1) writeonly buffer Starts { u64vec4 s2[]; } starts;

uint64_t pair(uint lo, uint hi) { return uint64_t(lo) | (uint64_t(hi) << 32); }

uint sum8(u64vec4 q) {
  u64vec4 lo = q & 0xffffffffUL, hi = q >> 32;
  u64vec4 t = lo + hi;
  return uint(t.x + t.y + t.z + t.w);
}

shared uint totals[gl_WorkGroupSize.x];

void main() {
  uint l = gl_LocalInvocationID.x, size = gl_WorkGroupSize.x;
  totals[l] = 0u;
  memoryBarrierShared();
  barrier();
  uint cells = pc.grid * pc.grid * pc.grid;
  uint eights = (cells + 7u) / 8u;
  uint chunk = (eights + size - 1u) / size;
  uint b = min(l * chunk, eights), e = min(b + chunk, eights);
  uint sum = 0u;
  for (uint g = b; g < e; ++g) sum += sum8(count.e[g]);
  totals[l] = sum;
  memoryBarrierShared();
  barrier();
  if (l == 0u) {
    uint running = 0u;
    for (uint m = 0u; m < size; ++m) {
      uint t = totals[m];
      totals[m] = running;
      running += t;
    }
  }
  memoryBarrierShared();
  barrier();
  uint p0 = totals[l];
  u64vec4 n = count.e[b];  // the buffer has one zero eight past the last
  for (uint g = b; g < e; ++g) {
    u64vec4 next = count.e[g + 1u];
    uint p[11];
    p[0] = p0;
    for (uint j = 0u; j < 4u; ++j) {
      uint64_t w = n[j];
      p[2u * j + 1u] = p[2u * j] + uint(w & 0xffffffffUL);
      p[2u * j + 2u] = p[2u * j + 1u] + uint(w >> 32);
    }
    p[9] = p[8] + uint(next.x & 0xffffffffUL);
    p[10] = p[9] + uint(next.x >> 32);
    for (uint j = 0u; j < 4u; ++j) {
      uint c = 2u * j;  // cells 8g + c and 8g + c + 1
      starts.s2[4u * g + j] = u64vec4(pair(p[c], p[c + 1u]), pair(p[c + 2u], p[c + 3u]),
                                      pair(p[c + 1u], p[c + 2u]), pair(p[c + 3u], p[c + 4u]));
    }
    p0 = p[8];
    n = next;
  }
}
