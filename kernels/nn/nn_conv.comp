#version 450
// A conv2d layer with SAME padding: each invocation computes OT consecutive
// output channels at one output pixel of one NPC. Invocations are numbered
// NPC-major over x and z (so huge batches stay within the group-count limit);
// the channel group is the workgroup's y index, which keeps weight reads
// dynamically uniform. Taps outside the input read the input zero point.
#extension GL_GOOGLE_include_directive : require
#include "nn_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer In { uint words[]; } act_in;
layout(std430, set = 0, binding = 1) readonly buffer Weights { uint words[]; } weights;
layout(std430, set = 0, binding = 2) readonly buffer Bias { int values[]; } bias;
layout(std430, set = 0, binding = 3) writeonly buffer Out { uint words[]; } act_out;

layout(push_constant) uniform Push {
  uint batch;
  uint in_h;
  uint in_w;
  uint in_cw;  // packed words per input pixel
  uint out_h;
  uint out_w;
  uint out_cw;  // packed words per output pixel
  uint kernel_size;
  uint stride;
  uint pad_top;
  uint pad_left;
  uint w_offset;  // rows of kernel_size^2 * in_cw words per output channel
  uint b_offset;
  int multiplier;
  int shift;
  int zero_point;
  int act_min;
  uint pad_word;  // the input zero point in all four lanes
} pc;

void main() {
  uint pixels = pc.out_h * pc.out_w;
  uint id = gl_GlobalInvocationID.x + gl_GlobalInvocationID.z * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (id >= pc.batch * pixels) return;
  uint npc = id / pixels, p = id % pixels;
  int oy = int(p / pc.out_w), ox = int(p % pc.out_w);
  uint o0 = gl_WorkGroupID.y * OT;
  int acc[OT];
  [[unroll]] for (uint o = 0u; o < OT; ++o) acc[o] = bias.values[pc.b_offset + o0 + o];
  uint x_base = npc * pc.in_h * pc.in_w * pc.in_cw;
  uint row = pc.kernel_size * pc.kernel_size * pc.in_cw;
  uint w_base = pc.w_offset + o0 * row;
  for (uint ky = 0u; ky < pc.kernel_size; ++ky) {
    int iy = oy * int(pc.stride) + int(ky) - int(pc.pad_top);
    for (uint kx = 0u; kx < pc.kernel_size; ++kx) {
      int ix = ox * int(pc.stride) + int(kx) - int(pc.pad_left);
      bool inside = iy >= 0 && iy < int(pc.in_h) && ix >= 0 && ix < int(pc.in_w);
      uint x_pixel = x_base + (uint(iy) * pc.in_w + uint(ix)) * pc.in_cw;
      uint w_tap = w_base + (ky * pc.kernel_size + kx) * pc.in_cw;
      for (uint c = 0u; c < pc.in_cw; ++c) {
        uint xw = inside ? act_in.words[x_pixel + c] : pc.pad_word;
        int x0 = lane8(xw, 0), x1 = lane8(xw, 1), x2 = lane8(xw, 2), x3 = lane8(xw, 3);
        [[unroll]] for (uint o = 0u; o < OT; ++o) {
          uint ww = weights.words[w_tap + o * row + c];
          acc[o] += x0 * lane8(ww, 0) + x1 * lane8(ww, 1) + x2 * lane8(ww, 2) + x3 * lane8(ww, 3);
        }
      }
    }
  }
  [[unroll]] for (uint j = 0u; j < OT / 4u; ++j) {
    uint word = 0u;
    [[unroll]] for (uint b = 0u; b < 4u; ++b) {
      word |= requantize_to_byte(acc[j * 4u + b], pc.multiplier, pc.shift, pc.zero_point,
                                 pc.act_min) << (8u * b);
    }
    uint index = o0 / 4u + j;
    if (index < pc.out_cw) act_out.words[(npc * pixels + p) * pc.out_cw + index] = word;
  }
}
