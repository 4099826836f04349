#include "kernels/video/encoder.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "kernels/image.h"

namespace p2c2r::kernels::video {
namespace {

// Source samples of one macroblock, converted from RGBA as video_mb.comp does.
struct MacroblockSource {
  int32_t y[256], cb[64], cr[64];
};

MacroblockSource load_source(const Geometry& g, const uint32_t* rgba, uint32_t mbx, uint32_t mby) {
  MacroblockSource s{};
  int32_t cb[64] = {}, cr[64] = {};
  for (uint32_t row = 0; row < 16; ++row) {
    for (uint32_t col = 0; col < 16; ++col) {
      const uint32_t px = rgba[(mby * 16 + row) * g.width + mbx * 16 + col];
      s.y[row * 16 + col] = static_cast<int32_t>(rgb_to_y(px));
      cb[(row / 2) * 8 + col / 2] += cb_part(px);
      cr[(row / 2) * 8 + col / 2] += cr_part(px);
    }
  }
  for (int i = 0; i < 64; ++i) {
    s.cb[i] = static_cast<int32_t>(chroma_of_sum(cb[i]));
    s.cr[i] = static_cast<int32_t>(chroma_of_sum(cr[i]));
  }
  return s;
}

// Reconstructed frame planes, one byte per sample: Y, then Cb, then Cr.
struct BlockPlace {
  uint64_t plane;
  uint32_t stride, x, y;
  bool chroma;
};

BlockPlace place_of(const Geometry& g, uint32_t mbx, uint32_t mby, uint32_t b) {
  if (b < 4) return {0, g.width, mbx * 16 + 8 * (b & 1), mby * 16 + 8 * (b >> 1), false};
  return {g.luma() + (b - 4) * g.chroma(), g.width / 2, mbx * 8, mby * 8, true};
}

// Full search over the previous reconstruction: lowest SAD + 2*(|dx|+|dy|),
// first in raster order (dy, then dx, increasing); candidates stay inside the frame.
void search_motion(const Geometry& g, const int32_t* cur, const uint8_t* ref, int32_t x0,
                   int32_t y0, int32_t r, int32_t* mvx, int32_t* mvy) {
  const int32_t w = static_cast<int32_t>(g.width), h = static_cast<int32_t>(g.height);
  uint32_t best = UINT32_MAX;
  for (int32_t dy = -r; dy <= r; ++dy) {
    for (int32_t dx = -r; dx <= r; ++dx) {
      if (x0 + dx < 0 || x0 + dx > w - 16 || y0 + dy < 0 || y0 + dy > h - 16) continue;
      uint32_t sad = 0;
      for (int32_t row = 0; row < 16; ++row) {
        const uint8_t* b = ref + (y0 + dy + row) * w + x0 + dx;
        for (int32_t c = 0; c < 16; ++c)
          sad += static_cast<uint32_t>(std::abs(cur[row * 16 + c] - int32_t(b[c])));
      }
      const uint32_t cost = sad + 2 * static_cast<uint32_t>(std::abs(dx) + std::abs(dy));
      if (cost < best) {
        best = cost;
        *mvx = dx;
        *mvy = dy;
      }
    }
  }
}

// video_mb.comp: colour conversion, motion search, transform, quantisation
// and reconstruction of one macroblock.
void code_macroblock(const Geometry& g, const uint32_t* rgba, const uint8_t* ref, uint8_t* recon,
                     const std::array<uint32_t, 128>& q, int32_t search, uint32_t mb,
                     uint32_t* coefs, uint32_t* info) {
  const uint32_t mbx = mb % g.mbs_x(), mby = mb / g.mbs_x();
  const MacroblockSource src = load_source(g, rgba, mbx, mby);
  int32_t mvx = 0, mvy = 0;
  if (ref != nullptr)
    search_motion(g, src.y, ref, int32_t(mbx * 16), int32_t(mby * 16), search, &mvx, &mvy);
  uint32_t cbp = 0;
  for (uint32_t b = 0; b < kBlocksPerMb; ++b) {
    const BlockPlace p = place_of(g, mbx, mby, b);
    const int32_t bmx = p.chroma ? (mvx >> 1) : mvx, bmy = p.chroma ? (mvy >> 1) : mvy;
    const uint32_t* qt = q.data() + (p.chroma ? 64 : 0);
    int32_t pred[64], res[64], coef[64], level[64];
    for (uint32_t i = 0; i < 64; ++i) {
      const uint32_t sx = i & 7, sy = i >> 3;
      pred[i] = ref == nullptr
                    ? 128
                    : int32_t(ref[p.plane + (p.y + sy + bmy) * p.stride + p.x + sx + bmx]);
      const int32_t s = b < 4 ? src.y[(8 * (b >> 1) + sy) * 16 + 8 * (b & 1) + sx]
                              : (b == 4 ? src.cb[i] : src.cr[i]);
      res[i] = s - pred[i];
    }
    forward_dct(res, coef);
    bool nonzero = false;
    for (uint32_t i = 0; i < 64; ++i) {
      const uint32_t a = static_cast<uint32_t>(std::abs(coef[i]));
      const uint32_t rounding = ref == nullptr ? qt[i] >> 1 : qt[i] / 3;
      const int32_t l = clamp_i(static_cast<int32_t>((a + rounding) / qt[i]), 0, kMaxLevel);
      level[i] = coef[i] < 0 ? -l : l;
      nonzero = nonzero || l != 0;
    }
    if (nonzero) cbp |= 1u << b;
    for (uint32_t k = 0; k < 32; ++k) {
      coefs[b * 32 + k] = (static_cast<uint32_t>(level[kZigzag[2 * k]]) & 0xFFFF) |
                          (static_cast<uint32_t>(level[kZigzag[2 * k + 1]]) << 16);
    }
    dequantize_inverse(level, qt, res);
    for (uint32_t i = 0; i < 64; ++i) {
      const uint32_t x = p.x + (i & 7), y = p.y + (i >> 3);
      recon[p.plane + y * p.stride + x] = static_cast<uint8_t>(clamp_i(pred[i] + res[i], 0, 255));
    }
  }
  *info = pack_mb_info(mvx, mvy, cbp);
}

// Writes bits MSB-first into 32-bit words, like video_entropy.comp.
class BitWriter {
 public:
  BitWriter(uint32_t* words, uint32_t capacity) : words_(words), capacity_(capacity) {}
  void put(uint32_t v, uint32_t n) {  // 1 <= n <= 31, v < 2^n
    const uint32_t space = 32 - fill_;
    bits_ += n;
    if (n < space) {
      acc_ |= v << (space - n);
      fill_ += n;
      return;
    }
    const uint32_t over = n - space;
    emit(acc_ | (v >> over));
    acc_ = over == 0 ? 0 : v << (32 - over);
    fill_ = over;
  }
  void ue(uint32_t v) {
    const uint32_t x = v + 1;
    uint32_t nb = 0;
    while ((x >> nb) > 1) ++nb;  // nb = floor(log2 x)
    if (nb > 0) put(0, nb);
    put(x, nb + 1);
  }
  uint32_t finish() {
    if (fill_ > 0) emit(acc_);
    return bits_;
  }

 private:
  void emit(uint32_t word) {
    if (count_ < capacity_) words_[count_] = word;
    ++count_;
  }
  uint32_t* words_;
  uint32_t capacity_, count_ = 0, acc_ = 0, fill_ = 0, bits_ = 0;
};

int32_t level_at(const uint32_t* block, uint32_t k) {
  return static_cast<int32_t>(block[k >> 1] << (16 - 16 * (k & 1))) >> 16;
}

// video_entropy.comp: one row of macroblocks of one frame; returns its length in bits.
uint32_t code_slice(const Geometry& g, bool inter, const uint32_t* coefs, const uint32_t* info,
                    uint32_t* region, uint32_t region_words) {
  BitWriter out(region, region_words);
  int32_t pmvx = 0, pmvy = 0, pdc[3] = {0, 0, 0};
  for (uint32_t m = 0; m < g.mbs_x(); ++m) {
    const uint32_t word = info[m];
    const uint32_t cbp = word >> 16;
    if (inter) {
      const int32_t mvx = int32_t(word & 255) - 64, mvy = int32_t((word >> 8) & 255) - 64;
      out.ue(se_code(mvx - pmvx));
      out.ue(se_code(mvy - pmvy));
      pmvx = mvx;
      pmvy = mvy;
      out.ue(cbp);
    }
    for (uint32_t b = 0; b < kBlocksPerMb; ++b) {
      const uint32_t* block = coefs + m * kCoefWordsPerMb + b * 32;
      uint32_t start = 0;
      if (inter) {
        if (((cbp >> b) & 1) == 0) continue;
      } else {
        const uint32_t comp = b < 4 ? 0 : b - 3;
        const int32_t dc = level_at(block, 0);
        out.ue(se_code(dc - pdc[comp]));
        pdc[comp] = dc;
        start = 1;
      }
      uint32_t n = 0;
      for (uint32_t k = start; k < 64; ++k) n += level_at(block, k) != 0 ? 1 : 0;
      out.ue(inter ? n - 1 : n);
      uint32_t run = 0;
      for (uint32_t k = start; k < 64; ++k) {
        const int32_t l = level_at(block, k);
        if (l == 0) {
          ++run;
          continue;
        }
        out.ue(run);
        out.ue(level_code(l));
        run = 0;
      }
    }
  }
  return out.finish();
}

}  // namespace

std::vector<uint32_t> stream_header(const EncodeSettings& s) {
  std::vector<uint32_t> header = {kMagic,
                                  s.continued() ? kContinuedFormatVersion : kFormatVersion,
                                  s.geometry.width,
                                  s.geometry.height,
                                  s.frames,
                                  s.quality,
                                  s.search,
                                  s.geometry.mbs_y(),
                                  s.geometry.region_words()};
  if (s.continued()) {
    const Geometry& g = s.geometry;
    header.push_back(reconstruction_checksum(s.reference.subspan(0, g.luma()),
                                             s.reference.subspan(g.luma(), g.chroma()),
                                             s.reference.subspan(g.luma() + g.chroma())));
  }
  return header;
}

StreamLayout layout_of(const EncodeSettings& s) { return {s.geometry, s.frames, s.continued()}; }

Bytes encode_video(const EncodeSettings& s, const std::vector<uint32_t>& rgba, unsigned threads) {
  const Geometry& g = s.geometry;
  const auto q = quant_table(s.quality);
  // Two reconstructed frames, ping-pong: frame f writes slot f & 1 and
  // predicts from the other, where a continued stream's reference starts.
  std::vector<uint8_t> recon(2 * g.frame_words());
  if (s.continued())
    std::copy(s.reference.begin(), s.reference.end(), recon.begin() + g.frame_words());
  std::vector<uint32_t> coefs(uint64_t{g.mbs()} * kCoefWordsPerMb * s.frames),
      info(uint64_t{g.mbs()} * s.frames);
  for (uint32_t f = 0; f < s.frames; ++f) {
    const bool inter = f > 0 || s.continued();
    const uint8_t* ref = inter ? recon.data() + ((f + 1) & 1) * g.frame_words() : nullptr;
    uint8_t* out = recon.data() + (f & 1) * g.frame_words();
    parallel_for(g.mbs(), threads, [&](uint64_t begin, uint64_t end) {
      for (uint64_t mb = begin; mb < end; ++mb) {
        const uint64_t index = uint64_t{f} * g.mbs() + mb;
        code_macroblock(g, rgba.data() + f * g.luma(), ref, out, q, static_cast<int32_t>(s.search),
                        static_cast<uint32_t>(mb), coefs.data() + index * kCoefWordsPerMb,
                        info.data() + index);
      }
    });
  }

  const uint32_t slices = g.mbs_y() * s.frames, region = g.region_words();
  std::vector<uint32_t> stream(slices + uint64_t{slices} * region);
  parallel_for(slices, threads, [&](uint64_t begin, uint64_t end) {
    for (uint64_t sl = begin; sl < end; ++sl) {
      const uint64_t first_mb = sl * g.mbs_x();  // slices are MB rows, frame-major
      stream[sl] =
          code_slice(g, sl >= g.mbs_y() || s.continued(), coefs.data() + first_mb * kCoefWordsPerMb,
                     info.data() + first_mb, stream.data() + slices + sl * region, region);
    }
  });
  Bytes padded = to_bytes(stream_header(s));
  const Bytes body = to_bytes(stream);
  padded.insert(padded.end(), body.begin(), body.end());
  auto compact = compact_stream(layout_of(s), padded);
  // code_slice never writes more than kMaxWordsPerMb words per macroblock.
  if (!compact.ok()) throw std::logic_error("video encoder: " + compact.status().message());
  return std::move(compact).value();
}

}  // namespace p2c2r::kernels::video
