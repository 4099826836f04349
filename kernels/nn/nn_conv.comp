#version 450
// A conv2d layer with SAME padding: each invocation computes OT consecutive
// output channels at NP consecutive output pixels (row-major) of one NPC. Invocations are numbered
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
  uint in_npc_words;   // words per NPC of the input tensor
  uint out_npc_words;  // words per NPC of the output tensor
} pc;

// Output pixels per invocation: every weight word read is used NP times.
const uint NP = 4u;

void main() {
  uint pixels = pc.out_h * pc.out_w;
  uint groups_per_npc = (pixels + NP - 1u) / NP;
  uint id = gl_GlobalInvocationID.x +
            gl_GlobalInvocationID.z * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (id >= pc.batch * groups_per_npc) return;
  uint npc = id / groups_per_npc, p0 = (id % groups_per_npc) * NP;
  uint o0 = gl_WorkGroupID.y * OT;
  int acc[NP][OT];
  int oy[NP], ox[NP];
  [[unroll]] for (uint r = 0u; r < NP; ++r) {
    uint p = min(p0 + r, pixels - 1u);  // past the end: recompute the last pixel, never stored
    oy[r] = int(p / pc.out_w) * int(pc.stride) - int(pc.pad_top);
    ox[r] = int(p % pc.out_w) * int(pc.stride) - int(pc.pad_left);
    [[unroll]] for (uint o = 0u; o < OT; ++o) acc[r][o] = bias.values[pc.b_offset + o0 + o];
  }
  uint x_base = npc * pc.in_npc_words;
  uint row = pc.kernel_size * pc.kernel_size * pc.in_cw;
  uint w_base = pc.w_offset + o0 * row;
  for (uint ky = 0u; ky < pc.kernel_size; ++ky) {
    for (uint kx = 0u; kx < pc.kernel_size; ++kx) {
      bool inside[NP];
      uint x_pixel[NP];
      [[unroll]] for (uint r = 0u; r < NP; ++r) {
        int iy = oy[r] + int(ky), ix = ox[r] + int(kx);
        inside[r] = iy >= 0 && iy < int(pc.in_h) && ix >= 0 && ix < int(pc.in_w);
        x_pixel[r] = x_base + (uint(iy) * pc.in_w + uint(ix)) * pc.in_cw;
      }
      uint w_tap = w_base + (ky * pc.kernel_size + kx) * pc.in_cw;
      for (uint c = 0u; c < pc.in_cw; ++c) {
        uint xw[NP];
        [[unroll]] for (uint r = 0u; r < NP; ++r)
          xw[r] = inside[r] ? act_in.words[x_pixel[r] + c] : pc.pad_word;
        [[unroll]] for (uint o = 0u; o < OT; ++o) {
          uint ww = weights.words[w_tap + o * row + c];
          [[unroll]] for (uint r = 0u; r < NP; ++r) acc[r][o] += dot4(xw[r], ww);
        }
      }
    }
  }
  [[unroll]] for (uint r = 0u; r < NP; ++r) {
    uint p = p0 + r;
    if (p >= pixels) break;
    [[unroll]] for (uint j = 0u; j < OT / 4u; ++j) {
      uint word = 0u;
      [[unroll]] for (uint b = 0u; b < 4u; ++b) {
        word |= requantize_to_byte(acc[r][j * 4u + b], pc.multiplier, pc.shift, pc.zero_point,
                                   pc.act_min) << (8u * b);
      }
      uint index = o0 / 4u + j;
      if (index < pc.out_cw) act_out.words[npc * pc.out_npc_words + p * pc.out_cw + index] = word;
    }
  }
}
