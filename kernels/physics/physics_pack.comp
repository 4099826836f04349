#version 450
// Last pass of a unit: packs the bodies' records back into the world's 24-byte
// records (the output has the input's layout, see world.h).
#extension GL_GOOGLE_include_directive : require
#include "physics_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Body { u64vec4 r[]; } body;
layout(std430, set = 0, binding = 1) writeonly buffer State { ivec2 s[]; } state;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= pc.bodies) return;
  u64vec4 r = body.r[i];
  ivec4 p = first_quad(r), v = second_quad(r);
  state.s[3u * i] = p.xy;
  state.s[3u * i + 1u] = ivec2(p.z, v.x);
  state.s[3u * i + 2u] = v.yz;
}
