#version 450
// Memory bandwidth: each invocation reads `words_per_invocation` uint4s from
// `src` with a grid stride and writes a transformed copy to `dst`, so every
// byte is read once and written once. Bytes moved = 2 * size.
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst { uvec4 dst[]; };

layout(push_constant) uniform Push {
  uint count;     // uvec4 elements
  uint invocations;
  uint salt;
} pc;

void main() {
  uint id = gl_GlobalInvocationID.x;
  if (id >= pc.invocations) return;
  uint per = (pc.count + pc.invocations - 1u) / pc.invocations;
  for (uint k = 0u; k < per; ++k) {  // bounded by count / invocations
    uint i = id + k * pc.invocations;
    if (i >= pc.count) break;
    dst[i] = src[i] ^ uvec4(pc.salt);
  }
}
