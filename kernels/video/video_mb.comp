#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Video stage 1, one dispatch per frame: one invocation per 16x16 macroblock.
// It converts its RGBA pixels to YCbCr 4:2:0; a P-frame searches the previous
// *reconstructed* frame (full search, SAD plus a small motion-vector cost,
// first minimum in raster order); then each of the six 8x8 blocks is
// predicted, transformed, quantised, stored in zig-zag order and
// reconstructed exactly as the decoder will. Mirrors code_macroblock() in
// encoder.cpp.
//
// Written for SIMD CPUs (lavapipe) as much as for GPUs: loops over private
// arrays are unrolled so the arrays live in registers (but not the six-block and
// sixteen-row loops: unrolling those cost lavapipe ~30 s of LLVM compile per
// executor start for no measured speed), the reconstruction is
// stored as packed bytes, and the search scores four neighbouring candidates
// from the same five loaded words. Every buffer load site in unrolled code is
// a per-lane gather that LLVM must schedule and allocate registers for, so
// loads stay few: the source and quantiser loops are rolled, the prediction
// is read and the levels stored as words (12 -> 1.9 s of compile per
// process on Mesa 25, docs/kernels/video.md).
#include "video_common.glsl"

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Frames { uvec4 rgba4[]; };
layout(std430, set = 0, binding = 1) buffer Recon { uint recon[]; };  // two frames, packed bytes, ping-pong
layout(std430, set = 0, binding = 2) writeonly buffer Coefs { uvec4 coefs4[]; };  // four words per store site
layout(std430, set = 0, binding = 3) writeonly buffer Info { uint info[]; };
// 64 luma + 64 chroma steps, read four at a time by a rolled loop: every
// load site is a per-lane gather on lavapipe, and the 128 unrolled ones it
// replaced cost ~4 s of LLVM compile time per process.
layout(std430, set = 0, binding = 4) readonly buffer Quant { uvec4 quant4[]; };

layout(push_constant) uniform Push {
  uint width;
  uint height;
  uint frame;
  uint search;
  uint continued;  // 1: frame 0 is a P-frame too, against the reference the plan put in slot 1
} pc;

int cur[256];  // source luma of the macroblock
int cb[64];
int cr[64];
int blk[64];
int tmp[64];

void fdct8(bool rows, uint line, int shift) {
  // rows: blk[line][*] -> tmp[line][*]; columns: tmp[*][line] -> blk[*][line]
  int add = 1 << (shift - 1);
  int s[8];
  [[unroll]] for (uint k = 0u; k < 8u; ++k) s[k] = rows ? blk[line * 8u + k] : tmp[k * 8u + line];
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
  [[unroll]] for (uint k = 0u; k < 8u; ++k) {
    if (rows) tmp[line * 8u + k] = d[k]; else blk[k * 8u + line] = d[k];
  }
}

void idct8(bool columns, uint line, int shift) {
  // columns: blk[*][line] -> tmp[*][line]; rows: tmp[line][*] -> blk[line][*]
  int add = 1 << (shift - 1);
  int s[8];
  [[unroll]] for (uint k = 0u; k < 8u; ++k) s[k] = columns ? blk[k * 8u + line] : tmp[line * 8u + k];
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
  [[unroll]] for (uint k = 0u; k < 8u; ++k) {
    if (columns) tmp[k * 8u + line] = d[k]; else blk[line * 8u + k] = d[k];
  }
}

int cb_part(uint px) { return -11059 * int(px & 255u) - 21709 * int((px >> 8) & 255u) + 32768 * int((px >> 16) & 255u); }
int cr_part(uint px) { return 32768 * int(px & 255u) - 27439 * int((px >> 8) & 255u) - 5329 * int((px >> 16) & 255u); }
int chroma_of_sum(int s) { return clamp((s + (128 << 18) + (1 << 17)) >> 18, 0, 255); }

void load_source(uint mbx, uint mby) {
  [[unroll]] for (uint i = 0u; i < 64u; ++i) { cb[i] = 0; cr[i] = 0; }
  uint base = (pc.frame * pc.height + mby * 16u) * (pc.width / 4u) + mbx * 4u;
  [[dont_unroll]] for (uint row = 0u; row < 16u; ++row) {
    [[unroll]] for (uint q = 0u; q < 4u; ++q) {
      uvec4 px = rgba4[base + row * (pc.width / 4u) + q];
      [[unroll]] for (uint k = 0u; k < 4u; ++k) {
        uint p = px[k], col = q * 4u + k;
        cur[row * 16u + col] = (19595 * int(p & 255u) + 38470 * int((p >> 8) & 255u) + 7471 * int((p >> 16) & 255u) + 32768) >> 16;
        cb[(row >> 1) * 8u + (col >> 1)] += cb_part(p);
        cr[(row >> 1) * 8u + (col >> 1)] += cr_part(p);
      }
    }
  }
  [[unroll]] for (uint i = 0u; i < 64u; ++i) { cb[i] = chroma_of_sum(cb[i]); cr[i] = chroma_of_sum(cr[i]); }
}

void main() {
  uint mbs_x = pc.width / 16u, mbs = mbs_x * (pc.height / 16u);
  uint mb = gl_GlobalInvocationID.x;
  if (mb >= mbs) return;
  uint mbx = mb % mbs_x, mby = mb / mbs_x;
  int w = int(pc.width), h = int(pc.height);
  int x0 = int(mbx * 16u), y0 = int(mby * 16u);
  uint luma_words = pc.width * pc.height / 4u, frame_words = luma_words + luma_words / 2u;
  uint ref = ((pc.frame - 1u) & 1u) * frame_words;
  uint dst = (pc.frame & 1u) * frame_words;
  bool inter = pc.frame > 0u || pc.continued != 0u;
  int row_words = w / 4;
  load_source(mbx, mby);

  int mvx = 0, mvy = 0;
  if (inter) {
    int r = int(min(pc.search, 16u));
    uint best = 0xFFFFFFFFu;
    for (int dy = -r; dy <= r; ++dy) {
      bool rows_inside = y0 + dy >= 0 && y0 + dy <= h - 16;
      // Candidates dx = 4a .. 4a+3 share the five words from pixel x0 + 4a.
      for (int a = -((r + 3) >> 2); a <= (r >> 2); ++a) {
        uint s0 = 0u, s1 = 0u, s2 = 0u, s3 = 0u;
        [[dont_unroll]] for (int row = 0; row < 16; ++row) {
          uint line = ref + uint(clamp(y0 + dy + row, 0, h - 1) * row_words);
          int p[20];
          [[unroll]] for (int j = 0; j < 5; ++j) {
            uint wd = recon[line + uint(clamp(x0 / 4 + a + j, 0, row_words - 1))];
            [[unroll]] for (int k = 0; k < 4; ++k) p[4 * j + k] = int((wd >> (8u * uint(k))) & 255u);
          }
          [[unroll]] for (int c = 0; c < 16; ++c) {
            int v = cur[row * 16 + c];
            s0 += uint(abs(v - p[c]));
            s1 += uint(abs(v - p[c + 1]));
            s2 += uint(abs(v - p[c + 2]));
            s3 += uint(abs(v - p[c + 3]));
          }
        }
        uint sads[4] = uint[4](s0, s1, s2, s3);
        [[unroll]] for (int k = 0; k < 4; ++k) {
          int dx = 4 * a + k;
          bool inside = rows_inside && dx >= -r && dx <= r && x0 + dx >= 0 && x0 + dx <= w - 16;
          uint cost = sads[k] + 2u * uint(abs(dx) + abs(dy));
          if (inside && cost < best) { best = cost; mvx = dx; mvy = dy; }
        }
      }
    }
  }

  uint cbp = 0u;
  [[dont_unroll]] for (uint b = 0u; b < 6u; ++b) {
    bool chroma = b >= 4u;
    uint plane = chroma ? luma_words + (b - 4u) * (luma_words / 4u) : 0u;
    uint stride = chroma ? pc.width / 8u : pc.width / 4u;  // words per row
    int bx = chroma ? int(mbx * 8u) : x0 + 8 * int(b & 1u);
    int by = chroma ? int(mby * 8u) : y0 + 8 * int(b >> 1);
    int bmx = chroma ? (mvx >> 1) : mvx, bmy = chroma ? (mvy >> 1) : mvy;
    uint qoff = chroma ? 64u : 0u;
    // The prediction as packed bytes, two words per row: a row of eight
    // pixels spans at most three reference words (three loads instead of
    // eight per-pixel gathers, which cost lavapipe seconds of compile time).
    uint predw[16];
    [[unroll]] for (uint sy = 0u; sy < 8u; ++sy) {
      uint lo = 0x80808080u, hi = 0x80808080u;
      if (inter) {
        uint line = ref + plane + uint(by + int(sy) + bmy) * stride;
        int x = bx + bmx;
        uint wa = recon[line + uint(x >> 2)], wb = recon[line + uint(x >> 2) + 1u], wc = recon[line + uint((x + 7) >> 2)];
        uint sh = 8u * uint(x & 3);
        lo = sh == 0u ? wa : (wa >> sh) | (wb << (32u - sh));
        hi = sh == 0u ? wb : (wb >> sh) | (wc << (32u - sh));
      }
      predw[2u * sy] = lo;
      predw[2u * sy + 1u] = hi;
    }
    [[unroll]] for (uint i = 0u; i < 64u; ++i) {
      uint sx = i & 7u, sy = i >> 3;
      int s = b < 4u ? cur[(8u * (b >> 1) + sy) * 16u + 8u * (b & 1u) + sx] : (b == 4u ? cb[i] : cr[i]);
      blk[i] = s - int((predw[i >> 2] >> (8u * (i & 3u))) & 255u);
    }
    [[unroll]] for (uint k = 0u; k < 8u; ++k) fdct8(true, k, 3);
    [[unroll]] for (uint k = 0u; k < 8u; ++k) fdct8(false, k, 9);
    bool nonzero = false;
    uvec4 qs[16];
    [[dont_unroll]] for (uint j = 0u; j < 16u; ++j) qs[j] = quant4[qoff / 4u + j];
    [[unroll]] for (uint i = 0u; i < 64u; ++i) {
      uint q = qs[i >> 2][i & 3u];
      uint a = uint(abs(blk[i]));
      uint rounding = inter ? q / 3u : q >> 1;
      int l = min(int((a + rounding) / q), kMaxLevel);
      l = blk[i] < 0 ? -l : l;
      nonzero = nonzero || l != 0;
      blk[i] = l;
    }
    if (nonzero) cbp |= 1u << b;
    uint cbase = (pc.frame * mbs + mb) * kCoefWordsPerMb + b * 32u;
    [[unroll]] for (uint k4 = 0u; k4 < 8u; ++k4) {
      uvec4 words;
      [[unroll]] for (uint j = 0u; j < 4u; ++j) {
        uint k = 4u * k4 + j;
        words[j] = (uint(blk[kZigzag[2u * k]]) & 0xFFFFu) | (uint(blk[kZigzag[2u * k + 1u]]) << 16);
      }
      coefs4[cbase / 4u + k4] = words;
    }
    [[unroll]] for (uint i = 0u; i < 64u; ++i) blk[i] = clamp(blk[i] * int(qs[i >> 2][i & 3u]), -kMaxCoef, kMaxCoef);
    [[unroll]] for (uint k = 0u; k < 8u; ++k) idct8(true, k, 7);
    [[unroll]] for (uint k = 0u; k < 8u; ++k) idct8(false, k, 11);
    [[unroll]] for (uint sy = 0u; sy < 8u; ++sy) {
      [[unroll]] for (uint part = 0u; part < 2u; ++part) {
        uint word = 0u;
        [[unroll]] for (uint k = 0u; k < 4u; ++k) {
          uint i = sy * 8u + part * 4u + k;
          word |= uint(clamp(int((predw[i >> 2] >> (8u * k)) & 255u) + blk[i], 0, 255)) << (8u * k);
        }
        recon[dst + plane + uint(by + int(sy)) * stride + uint(bx / 4) + part] = word;
      }
    }
  }
  info[pc.frame * mbs + mb] = (uint(mvx + 64) & 255u) | ((uint(mvy + 64) & 255u) << 8) | (cbp << 16);
}
