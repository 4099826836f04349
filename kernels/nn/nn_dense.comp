#version 450
// A dense layer: each invocation computes OT consecutive outputs of one NPC.
// The output group is the workgroup's y index, so the weight words every lane
// reads are the same (dynamically uniform) and only activations differ.
// Hidden layers write packed int8 activations; the last layer (logits = 1)
// writes its int32 accumulators.
#extension GL_GOOGLE_include_directive : require
#include "nn_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer In { uint words[]; } act_in;
layout(std430, set = 0, binding = 1) readonly buffer Weights { uint words[]; } weights;
layout(std430, set = 0, binding = 2) readonly buffer Bias { int values[]; } bias;
layout(std430, set = 0, binding = 3) writeonly buffer Out { uint words[]; } act_out;

layout(push_constant) uniform Push {
  uint batch;
  uint in_words;   // packed input words per NPC (channels padded per pixel)
  uint out_count;  // real outputs
  uint out_words;  // output words per NPC
  uint w_offset;   // first weight word of this layer; rows of in_words per output
  uint b_offset;   // first folded bias of this layer
  int multiplier;
  int shift;
  int zero_point;
  int act_min;
  uint logits;
} pc;

void main() {
  uint npc = gl_GlobalInvocationID.x;
  if (npc >= pc.batch) return;
  uint o0 = gl_WorkGroupID.y * OT;
  int acc[OT];
  [[unroll]] for (uint o = 0u; o < OT; ++o) acc[o] = bias.values[pc.b_offset + o0 + o];
  uint x_base = npc * pc.in_words;
  uint w_base = pc.w_offset + o0 * pc.in_words;
  for (uint k = 0u; k < pc.in_words; ++k) {
    uint xw = act_in.words[x_base + k];
    int x0 = lane8(xw, 0), x1 = lane8(xw, 1), x2 = lane8(xw, 2), x3 = lane8(xw, 3);
    [[unroll]] for (uint o = 0u; o < OT; ++o) {
      uint ww = weights.words[w_base + o * pc.in_words + k];
      acc[o] += x0 * lane8(ww, 0) + x1 * lane8(ww, 1) + x2 * lane8(ww, 2) + x3 * lane8(ww, 3);
    }
  }
  if (pc.logits != 0u) {
    [[unroll]] for (uint o = 0u; o < OT; ++o) {
      if (o0 + o < pc.out_count) act_out.words[npc * pc.out_words + o0 + o] = uint(acc[o]);
    }
    return;
  }
  [[unroll]] for (uint j = 0u; j < OT / 4u; ++j) {
    uint word = 0u;
    [[unroll]] for (uint b = 0u; b < 4u; ++b) {
      word |= requantize_to_byte(acc[j * 4u + b], pc.multiplier, pc.shift, pc.zero_point,
                                 pc.act_min) << (8u * b);
    }
    uint index = o0 / 4u + j;
    if (index < pc.out_words) act_out.words[npc * pc.out_words + index] = word;
  }
}
