#version 450
// Test shader: writes word i of a storage buffer as a hash of i, so a later
// dispatch can read the same plan buffer through a texel-buffer view.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer Out { uint words[]; };
layout(push_constant) uniform Push { uint count; uint salt; };

void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i < count) words[i] = (i + salt) * 2654435761u;
}
