#version 450
#extension GL_GOOGLE_include_directive : require
// Video stage 2: one invocation per slice (a row of macroblocks of one
// frame) writes its run-length + Exp-Golomb bits into its own fixed-size
// region and its length in bits into the length table, so the stream never
// depends on scheduling. Mirrors code_slice() in encoder.cpp.
#include "video_common.glsl"

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Coefs { uint coefs[]; };
layout(std430, set = 0, binding = 1) readonly buffer Info { uint info[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Stream { uint stream[]; };  // lengths, then regions

layout(push_constant) uniform Push {
  uint width;
  uint height;
  uint frames;
  uint region_words;
  uint continued;  // 1: frame 0 is a P-frame too (a stream that continues another)
} pc;

uint g_base, g_count, g_acc, g_fill, g_bits;

void emit(uint word) {
  if (g_count < pc.region_words) stream[g_base + g_count] = word;
  ++g_count;
}

void put(uint v, uint n) {  // 1 <= n <= 31, v < 2^n
  uint space = 32u - g_fill;
  g_bits += n;
  if (n < space) {
    g_acc |= v << (space - n);
    g_fill += n;
    return;
  }
  uint over = n - space;
  emit(g_acc | (v >> over));
  g_acc = over == 0u ? 0u : v << (32u - over);
  g_fill = over;
}

void ue(uint v) {
  uint x = v + 1u;
  uint nb = uint(findMSB(x));
  if (nb > 0u) put(0u, nb);
  put(x, nb + 1u);
}

uint se_code(int v) { return v > 0 ? 2u * uint(v) - 1u : 2u * uint(-v); }
uint level_code(int l) { return 2u * uint(abs(l) - 1) + (l < 0 ? 1u : 0u); }

int level_at(uint base, uint k) { return int(coefs[base + (k >> 1)] << (16u - 16u * (k & 1u))) >> 16; }

void main() {
  uint mbs_x = pc.width / 16u, mbs_y = pc.height / 16u;
  uint slices = mbs_y * pc.frames;
  uint slice = gl_GlobalInvocationID.x;
  if (slice >= slices) return;
  bool inter = slice >= mbs_y || pc.continued != 0u;
  g_base = slices + slice * pc.region_words;
  g_count = 0u; g_acc = 0u; g_fill = 0u; g_bits = 0u;
  int pmvx = 0, pmvy = 0;
  int pdc[3] = int[3](0, 0, 0);
  uint first_mb = slice * mbs_x;
  for (uint m = 0u; m < mbs_x; ++m) {
    uint word = info[first_mb + m];
    uint cbp = word >> 16;
    if (inter) {
      int mvx = int(word & 255u) - 64, mvy = int((word >> 8) & 255u) - 64;
      ue(se_code(mvx - pmvx));
      ue(se_code(mvy - pmvy));
      pmvx = mvx;
      pmvy = mvy;
      ue(cbp);
    }
    for (uint b = 0u; b < 6u; ++b) {
      uint block = (first_mb + m) * kCoefWordsPerMb + b * 32u;
      uint start = 0u;
      if (inter) {
        if (((cbp >> b) & 1u) == 0u) continue;
      } else {
        uint comp = b < 4u ? 0u : b - 3u;
        int dc = level_at(block, 0u);
        ue(se_code(dc - pdc[comp]));
        pdc[comp] = dc;
        start = 1u;
      }
      uint n = 0u;
      for (uint k = start; k < 64u; ++k) n += level_at(block, k) != 0 ? 1u : 0u;
      ue(inter ? n - 1u : n);
      uint run = 0u;
      for (uint k = start; k < 64u; ++k) {
        int l = level_at(block, k);
        if (l == 0) { ++run; continue; }
        ue(run);
        ue(level_code(l));
        run = 0u;
      }
    }
  }
  if (g_fill > 0u) emit(g_acc);
  stream[slice] = g_bits;
}
