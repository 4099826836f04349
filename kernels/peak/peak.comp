#version 450
// Peak integer throughput (vkpeak-style): each invocation runs 8 independent
// 32-bit multiply-add chains for `iterations` rounds and writes one word that
// depends on all of them, so no compiler can drop the work.
// Ops per invocation: iterations * 8 chains * 2 (mul + add).
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Out { uint words[]; } out_buf;

layout(push_constant) uniform Push {
  uint invocations;
  uint iterations;
  uint seed;
} pc;

void main() {
  uint id = gl_GlobalInvocationID.x;
  if (id >= pc.invocations) return;
  uint a0 = id ^ pc.seed, a1 = a0 + 1u, a2 = a0 + 2u, a3 = a0 + 3u;
  uint a4 = a0 + 4u, a5 = a0 + 5u, a6 = a0 + 6u, a7 = a0 + 7u;
  const uint m = 1664525u, c = 1013904223u;
  for (uint i = 0u; i < pc.iterations; ++i) {
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
  }
  out_buf.words[id] = a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7;
}
