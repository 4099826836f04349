#version 450
// Broad phase: exclusive prefix sum of the per-cell counts into each cell's
// slot range (begin, end), in one workgroup (each invocation a contiguous
// chunk of cells, chunk totals combined in order by invocation 0). Clears the
// counters for the next step as it goes.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) buffer Count { uint n[]; } count;
layout(std430, set = 0, binding = 1) writeonly buffer Fill { uint n[]; } fill;
layout(std430, set = 0, binding = 2) writeonly buffer Range { uvec2 r[]; } range;

shared uint totals[gl_WorkGroupSize.x];

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
  for (uint c = b; c < e; ++c) {
    uint n = count.n[c];
    range.r[c] = uvec2(running, running + n);
    running += n;
    count.n[c] = 0u;
    fill.n[c] = 0u;
  }
}
