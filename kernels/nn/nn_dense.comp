#version 450
// A dense layer: each invocation computes OT consecutive outputs for NR
// consecutive NPCs, reading 16 int8 values per uvec4 load. Rows (NPC
// activations and weight rows) are padded to whole uvec4s with zero weights.
// The output group is the workgroup's y index, so all lanes read the same
// weights. Hidden layers write packed int8 activations; the last layer
// (logits = 1) writes its int32 accumulators.
#extension GL_GOOGLE_include_directive : require
#include "nn_common.glsl"
layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer In { uvec4 v[]; } act_in;
layout(std430, set = 0, binding = 1) readonly buffer Weights { uvec4 v[]; } weights;
layout(std430, set = 0, binding = 2) readonly buffer Bias { int values[]; } bias;
layout(std430, set = 0, binding = 3) writeonly buffer Out { uint words[]; } act_out;

layout(push_constant) uniform Push {
  uint batch;
  uint in_vec4;    // uvec4s per NPC of the input (and per weight row)
  uint out_count;  // real outputs
  uint out_words;  // output words per NPC
  uint w_offset;   // first weight word of this layer (a multiple of 4)
  uint b_offset;   // first folded bias of this layer
  int multiplier;
  int shift;
  int zero_point;
  int act_min;
  uint logits;
} pc;

// NPCs per invocation: every weight vector read is used NR times.
const uint NR = 4u;

void main() {
  uint first = gl_GlobalInvocationID.x * NR;
  if (first >= pc.batch) return;
  uint o0 = gl_WorkGroupID.y * OT;
  int acc[NR][OT];
  uint x_base[NR];
  [[unroll]] for (uint r = 0u; r < NR; ++r) {
    // Past the batch end: recompute the last NPC, never stored.
    x_base[r] = min(first + r, pc.batch - 1u) * pc.in_vec4;
    [[unroll]] for (uint o = 0u; o < OT; ++o) acc[r][o] = bias.values[pc.b_offset + o0 + o];
  }
  uint w_base = pc.w_offset / 4u + o0 * pc.in_vec4;
  for (uint k = 0u; k < pc.in_vec4; ++k) {
    uvec4 xv[NR];
    [[unroll]] for (uint r = 0u; r < NR; ++r) xv[r] = act_in.v[x_base[r] + k];
    [[unroll]] for (uint o = 0u; o < OT; ++o) {
      uvec4 wv = weights.v[w_base + o * pc.in_vec4 + k];
      [[unroll]] for (uint r = 0u; r < NR; ++r)
        acc[r][o] += dot4(xv[r].x, wv.x) + dot4(xv[r].y, wv.y) + dot4(xv[r].z, wv.z) +
                     dot4(xv[r].w, wv.w);
    }
  }
  [[unroll]] for (uint r = 0u; r < NR; ++r) {
    uint npc = first + r;
    if (npc >= pc.batch) break;
    if (pc.logits != 0u) {
      [[unroll]] for (uint o = 0u; o < OT; ++o) {
        if (o0 + o < pc.out_count) act_out.words[npc * pc.out_words + o0 + o] = uint(acc[r][o]);
      }
      continue;
    }
    [[unroll]] for (uint j = 0u; j < OT / 4u; ++j) {
      uint word = 0u;
      [[unroll]] for (uint b = 0u; b < 4u; ++b) {
        word |= requantize_to_byte(acc[r][j * 4u + b], pc.multiplier, pc.shift, pc.zero_point,
                                   pc.act_min) << (8u * b);
      }
      uint index = o0 / 4u + j;
      if (index < pc.out_words) act_out.words[npc * pc.out_words + index] = word;
    }
  }
}
