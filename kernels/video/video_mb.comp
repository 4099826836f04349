#version 450
#extension GL_GOOGLE_include_directive : require
// Video stage 2, one dispatch per frame: one invocation per 16x16 macroblock.
// P-frames search the previous *reconstructed* frame (full search, SAD plus a
// small motion-vector cost, first minimum in raster order); then each of the
// six 8x8 blocks is predicted, transformed, quantised, stored in zig-zag
// order, and reconstructed exactly as the decoder will. Mirrors
// code_macroblock() in encoder.cpp.
#include "video_common.glsl"

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Planes { uint planes[]; };
layout(std430, set = 0, binding = 1) buffer Recon { uint recon[]; };        // two frames, ping-pong
layout(std430, set = 0, binding = 2) writeonly buffer Coefs { uint coefs[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Info { uint info[]; };
layout(std430, set = 0, binding = 4) readonly buffer Quant { uint quant[]; };  // 64 luma + 64 chroma steps

layout(push_constant) uniform Push {
  uint width;
  uint height;
  uint frame;
  uint search;
} pc;

int blk[64];
int tmp[64];
const int kWin = 48;  // 16 + 2 * max search
int win[kWin * kWin];

void fdct8(bool rows, uint line, int shift) {
  // rows: blk[line][*] -> tmp[line][*]; columns: tmp[*][line] -> blk[*][line]
  int add = 1 << (shift - 1);
  int s[8];
  for (uint k = 0u; k < 8u; ++k) s[k] = rows ? blk[line * 8u + k] : tmp[k * 8u + line];
  int e0 = s[0] + s[7], e1 = s[1] + s[6], e2 = s[2] + s[5], e3 = s[3] + s[4];
  int o0 = s[0] - s[7], o1 = s[1] - s[6], o2 = s[2] - s[5], o3 = s[3] - s[4];
  int ee0 = e0 + e3, eo0 = e0 - e3, ee1 = e1 + e2, eo1 = e1 - e2;
  int d[8];
  d[0] = (64 * ee0 + 64 * ee1 + add) >> shift;
  d[4] = (64 * ee0 - 64 * ee1 + add) >> shift;
  d[2] = (83 * eo0 + 36 * eo1 + add) >> shift;
  d[6] = (36 * eo0 - 83 * eo1 + add) >> shift;
  d[1] = (89 * o0 + 75 * o1 + 50 * o2 + 18 * o3 + add) >> shift;
  d[3] = (75 * o0 - 18 * o1 - 89 * o2 - 50 * o3 + add) >> shift;
  d[5] = (50 * o0 - 89 * o1 + 18 * o2 + 75 * o3 + add) >> shift;
  d[7] = (18 * o0 - 50 * o1 + 75 * o2 - 89 * o3 + add) >> shift;
  for (uint k = 0u; k < 8u; ++k) {
    if (rows) tmp[line * 8u + k] = d[k]; else blk[k * 8u + line] = d[k];
  }
}

void idct8(bool columns, uint line, int shift) {
  // columns: blk[*][line] -> tmp[*][line]; rows: tmp[line][*] -> blk[line][*]
  int add = 1 << (shift - 1);
  int s[8];
  for (uint k = 0u; k < 8u; ++k) s[k] = columns ? blk[k * 8u + line] : tmp[line * 8u + k];
  int o0 = 89 * s[1] + 75 * s[3] + 50 * s[5] + 18 * s[7];
  int o1 = 75 * s[1] - 18 * s[3] - 89 * s[5] - 50 * s[7];
  int o2 = 50 * s[1] - 89 * s[3] + 18 * s[5] + 75 * s[7];
  int o3 = 18 * s[1] - 50 * s[3] + 75 * s[5] - 89 * s[7];
  int eo0 = 83 * s[2] + 36 * s[6], eo1 = 36 * s[2] - 83 * s[6];
  int ee0 = 64 * s[0] + 64 * s[4], ee1 = 64 * s[0] - 64 * s[4];
  int e0 = ee0 + eo0, e1 = ee1 + eo1, e2 = ee1 - eo1, e3 = ee0 - eo0;
  int d[8];
  d[0] = (e0 + o0 + add) >> shift; d[7] = (e0 - o0 + add) >> shift;
  d[1] = (e1 + o1 + add) >> shift; d[6] = (e1 - o1 + add) >> shift;
  d[2] = (e2 + o2 + add) >> shift; d[5] = (e2 - o2 + add) >> shift;
  d[3] = (e3 + o3 + add) >> shift; d[4] = (e3 - o3 + add) >> shift;
  for (uint k = 0u; k < 8u; ++k) {
    if (columns) tmp[k * 8u + line] = d[k]; else blk[line * 8u + k] = d[k];
  }
}

void main() {
  uint mbs_x = pc.width / 16u, mbs = mbs_x * (pc.height / 16u);
  uint mb = gl_GlobalInvocationID.x;
  if (mb >= mbs) return;
  uint mbx = mb % mbs_x, mby = mb / mbs_x;
  int w = int(pc.width), h = int(pc.height);
  int x0 = int(mbx * 16u), y0 = int(mby * 16u);
  uint luma = pc.width * pc.height, frame_words = luma + luma / 2u;
  uint src = pc.frame * frame_words;
  uint ref = ((pc.frame - 1u) & 1u) * frame_words;
  uint dst = (pc.frame & 1u) * frame_words;
  bool inter = pc.frame > 0u;

  int mvx = 0, mvy = 0;
  if (inter) {
    // The search window is copied into private memory once (edge pixels
    // replicated; candidates outside the frame are never chosen), so every
    // lane of a SIMD group reads it at the same index.
    int cur[256];
    for (uint i = 0u; i < 256u; ++i) cur[i] = int(planes[src + uint(y0 + int(i >> 4)) * pc.width + uint(x0) + (i & 15u)]);
    int r = int(min(pc.search, 16u));
    int span = 16 + 2 * r;
    for (int wy = 0; wy < span; ++wy) {
      uint sy = uint(clamp(y0 - r + wy, 0, h - 1));
      for (int wx = 0; wx < span; ++wx) {
        win[wy * kWin + wx] = int(recon[ref + sy * pc.width + uint(clamp(x0 - r + wx, 0, w - 1))]);
      }
    }
    uint best = 0xFFFFFFFFu;
    for (int dy = -r; dy <= r; ++dy) {
      for (int dx = -r; dx <= r; ++dx) {
        uint sad = 0u;
        for (int row = 0; row < 16; ++row) {
          int base = (dy + r + row) * kWin + dx + r;
          for (int c = 0; c < 16; ++c) sad += uint(abs(cur[row * 16 + c] - win[base + c]));
        }
        bool inside = x0 + dx >= 0 && x0 + dx <= w - 16 && y0 + dy >= 0 && y0 + dy <= h - 16;
        uint cost = sad + 2u * uint(abs(dx) + abs(dy));
        if (inside && cost < best) { best = cost; mvx = dx; mvy = dy; }
      }
    }
  }

  uint cbp = 0u;
  for (uint b = 0u; b < 6u; ++b) {
    bool chroma = b >= 4u;
    uint plane = chroma ? luma + (b - 4u) * (luma / 4u) : 0u;
    uint stride = chroma ? pc.width / 2u : pc.width;
    uint bx = chroma ? mbx * 8u : mbx * 16u + 8u * (b & 1u);
    uint by = chroma ? mby * 8u : mby * 16u + 8u * (b >> 1);
    int bmx = chroma ? (mvx >> 1) : mvx, bmy = chroma ? (mvy >> 1) : mvy;
    uint qoff = chroma ? 64u : 0u;
    int pred[64];
    for (uint i = 0u; i < 64u; ++i) {
      uint x = bx + (i & 7u), y = by + (i >> 3);
      pred[i] = inter ? int(recon[ref + plane + uint(int(y) + bmy) * stride + uint(int(x) + bmx)]) : 128;
      blk[i] = int(planes[src + plane + y * stride + x]) - pred[i];
    }
    for (uint k = 0u; k < 8u; ++k) fdct8(true, k, 3);
    for (uint k = 0u; k < 8u; ++k) fdct8(false, k, 9);
    bool nonzero = false;
    for (uint i = 0u; i < 64u; ++i) {
      uint q = quant[qoff + i];
      uint a = uint(abs(blk[i]));
      uint rounding = inter ? q / 3u : q >> 1;
      int l = min(int((a + rounding) / q), kMaxLevel);
      l = blk[i] < 0 ? -l : l;
      nonzero = nonzero || l != 0;
      blk[i] = l;
    }
    if (nonzero) cbp |= 1u << b;
    uint cbase = (pc.frame * mbs + mb) * kCoefWordsPerMb + b * 32u;
    for (uint k = 0u; k < 32u; ++k) {
      coefs[cbase + k] = (uint(blk[kZigzag[2u * k]]) & 0xFFFFu) | (uint(blk[kZigzag[2u * k + 1u]]) << 16);
    }
    for (uint i = 0u; i < 64u; ++i) blk[i] = clamp(blk[i] * int(quant[qoff + i]), -kMaxCoef, kMaxCoef);
    for (uint k = 0u; k < 8u; ++k) idct8(true, k, 7);
    for (uint k = 0u; k < 8u; ++k) idct8(false, k, 11);
    for (uint i = 0u; i < 64u; ++i) {
      uint x = bx + (i & 7u), y = by + (i >> 3);
      recon[dst + plane + y * stride + x] = uint(clamp(pred[i] + blk[i], 0, 255));
    }
  }
  info[pc.frame * mbs + mb] = (uint(mvx + 64) & 255u) | ((uint(mvy + 64) & 255u) << 8) | (cbp << 16);
}
