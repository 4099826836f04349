#version 450
// Broad phase: exclusive prefix sum of the per-cell counts, in one workgroup
// (each invocation a contiguous chunk of cells, chunk totals combined in
// order by invocation 0). Cell c gets the quad of slot starts (s[c], s[c+1],
// s[c+2], s[c+3]), so that one load gives the ranges of up to three cells
// along x, which is all physics_contacts.comp needs per row. The counts are
// double-buffered by step parity: this pass reads one buffer and clears the
// other, which physics_solve.comp fills for the next step.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Count { uint n[]; } count;
layout(std430, set = 0, binding = 1) writeonly buffer NextCount { uint n[]; } next_count;
layout(std430, set = 0, binding = 2) writeonly buffer Fill { uint n[]; } fill;
layout(std430, set = 0, binding = 3) writeonly buffer Starts { uvec4 s[]; } starts;

shared uint totals[gl_WorkGroupSize.x];

uint count_of(uint c, uint cells) { return c < cells ? count.n[c] : 0u; }

void main() {
  uint l = gl_LocalInvocationID.x, size = gl_WorkGroupSize.x;
  totals[l] = 0u;
  memoryBarrierShared();
  barrier();
  uint cells = pc.grid * pc.grid * pc.grid;
  uint chunk = (cells + size - 1u) / size;
  uint b = min(l * chunk, cells), e = min(b + chunk, cells);
  uint sum = 0u;
  for (uint c = b; c < e; ++c) sum += count.n[c];
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
  uint running = totals[l];
  uint n0 = count_of(b, cells), n1 = count_of(b + 1u, cells), n2 = count_of(b + 2u, cells);
  for (uint c = b; c < e; ++c) {
    starts.s[c] = uvec4(running, running + n0, running + n0 + n1, running + n0 + n1 + n2);
    running += n0;
    n0 = n1;
    n1 = n2;
    n2 = count_of(c + 3u, cells);
    next_count.n[c] = 0u;
    fill.n[c] = 0u;
  }
}
