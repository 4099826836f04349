#version 450
// Test shader: texel_gather over a signed-integer texel buffer, which the
// runtime refuses (texel bindings are uvec4 only).
#extension GL_EXT_samplerless_texture_functions : require
layout(local_size_x_id = 0) in;
layout(binding = 0) uniform itextureBuffer texels;
layout(std430, binding = 1) writeonly buffer Out { uint digests[]; };
layout(push_constant) uniform Push { uint invocations; uint texel_count; uint steps; };

void main() {
  const uint i = gl_GlobalInvocationID.x;
  uint index = i;
  uint acc = 0u;
  for (uint k = 0u; k < steps; ++k) {
    const uvec4 t = uvec4(texelFetch(texels, int(index)));
    acc = acc * 31u + (t.x ^ t.y) + t.z * 3u + t.w;
    index = (index * 1103515245u + t.x + 12345u) % (texel_count + 4u);
  }
  if (i < invocations) digests[i] = acc;
}
