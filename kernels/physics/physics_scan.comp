#version 450
// Broad phase: exclusive prefix sum of the per-cell counts, in one workgroup
// (each invocation a contiguous chunk of cells, chunk totals combined in
// order by invocation 0). Cell c gets the quad of slot starts (s[c], s[c+1],
// s[c+2], s[c+3]), so that one load gives the ranges of up to three cells
// along x, which is all physics_contacts.comp needs per row. Counts are read
// four cells per load (the count buffers hold whole quads of cells, zero past
// the last cell); physics_scatter.comp counts them back down to zero.
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Count { uvec4 q[]; } count;
layout(std430, set = 0, binding = 1) writeonly buffer Starts { uvec4 s[]; } starts;

shared uint totals[gl_WorkGroupSize.x];

void main() {
  uint l = gl_LocalInvocationID.x, size = gl_WorkGroupSize.x;
  totals[l] = 0u;
  memoryBarrierShared();
  barrier();
  uint cells = pc.grid * pc.grid * pc.grid;
  uint quads = (cells + 3u) / 4u;
  uint chunk = (quads + size - 1u) / size;
  uint b = min(l * chunk, quads), e = min(b + chunk, quads);
  uint sum = 0u;
  for (uint g = b; g < e; ++g) {
    uvec4 n = count.q[g];
    sum += n.x + n.y + n.z + n.w;
  }
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
  uvec4 n = count.q[b];  // the buffer has one zero quad past the last
  for (uint g = b; g < e; ++g) {
    uvec4 next = count.q[g + 1u];
    uint p1 = p0 + n.x, p2 = p1 + n.y, p3 = p2 + n.z, p4 = p3 + n.w;
    uint p5 = p4 + next.x, p6 = p5 + next.y;
    uint c = 4u * g;
    starts.s[c] = uvec4(p0, p1, p2, p3);
    if (c + 1u < cells) starts.s[c + 1u] = uvec4(p1, p2, p3, p4);
    if (c + 2u < cells) starts.s[c + 2u] = uvec4(p2, p3, p4, p5);
    if (c + 3u < cells) starts.s[c + 3u] = uvec4(p3, p4, p5, p6);
    p0 = p4;
    n = next;
  }
}
