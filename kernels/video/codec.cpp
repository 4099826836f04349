#include "kernels/video/codec.h"

namespace p2c2r::kernels::video {

const std::array<uint8_t, 64> kZigzag = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

namespace {

// JPEG Annex K.1 and K.2, natural order.
constexpr std::array<uint8_t, 64> kLumaBase = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr std::array<uint8_t, 64> kChromaBase = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
    99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

// HEVC's 8-point integer DCT (rows of 64*sqrt(8)*DCT-II), as partial butterflies.
void fdct8(const int32_t* s, int stride, int32_t* d, int dstride, int shift) {
  const int32_t add = 1 << (shift - 1);
  int32_t e[4], o[4];
  for (int k = 0; k < 4; ++k) {
    e[k] = s[k * stride] + s[(7 - k) * stride];
    o[k] = s[k * stride] - s[(7 - k) * stride];
  }
  const int32_t ee0 = e[0] + e[3], eo0 = e[0] - e[3], ee1 = e[1] + e[2], eo1 = e[1] - e[2];
  d[0 * dstride] = (64 * ee0 + 64 * ee1 + add) >> shift;
  d[4 * dstride] = (64 * ee0 - 64 * ee1 + add) >> shift;
  d[2 * dstride] = (83 * eo0 + 36 * eo1 + add) >> shift;
  d[6 * dstride] = (36 * eo0 - 83 * eo1 + add) >> shift;
  d[1 * dstride] = (89 * o[0] + 75 * o[1] + 50 * o[2] + 18 * o[3] + add) >> shift;
  d[3 * dstride] = (75 * o[0] - 18 * o[1] - 89 * o[2] - 50 * o[3] + add) >> shift;
  d[5 * dstride] = (50 * o[0] - 89 * o[1] + 18 * o[2] + 75 * o[3] + add) >> shift;
  d[7 * dstride] = (18 * o[0] - 50 * o[1] + 75 * o[2] - 89 * o[3] + add) >> shift;
}

void idct8(const int32_t* s, int stride, int32_t* d, int dstride, int shift) {
  const int32_t add = 1 << (shift - 1);
  const int32_t s0 = s[0], s1 = s[stride], s2 = s[2 * stride], s3 = s[3 * stride];
  const int32_t s4 = s[4 * stride], s5 = s[5 * stride], s6 = s[6 * stride], s7 = s[7 * stride];
  const int32_t o[4] = {
      89 * s1 + 75 * s3 + 50 * s5 + 18 * s7, 75 * s1 - 18 * s3 - 89 * s5 - 50 * s7,
      50 * s1 - 89 * s3 + 18 * s5 + 75 * s7, 18 * s1 - 50 * s3 + 75 * s5 - 89 * s7};
  const int32_t eo0 = 83 * s2 + 36 * s6, eo1 = 36 * s2 - 83 * s6;
  const int32_t ee0 = 64 * s0 + 64 * s4, ee1 = 64 * s0 - 64 * s4;
  const int32_t e[4] = {ee0 + eo0, ee1 + eo1, ee1 - eo1, ee0 - eo0};
  for (int k = 0; k < 4; ++k) {
    d[k * dstride] = (e[k] + o[k] + add) >> shift;
    d[(7 - k) * dstride] = (e[k] - o[k] + add) >> shift;
  }
}

}  // namespace

uint32_t reconstruction_checksum(std::span<const uint8_t> y, std::span<const uint8_t> cb,
                                 std::span<const uint8_t> cr) {
  uint32_t h = 2166136261u;
  for (auto plane : {y, cb, cr})
    for (uint8_t b : plane) h = (h ^ b) * 16777619u;
  return h;
}

std::array<uint32_t, 128> quant_table(uint32_t quality) {
  const uint32_t q = quality < 1 ? 1 : (quality > 100 ? 100 : quality);
  const uint32_t scale = q < 50 ? 5000 / q : 200 - 2 * q;
  std::array<uint32_t, 128> table{};
  for (int i = 0; i < 64; ++i) {
    table[i] = 8 * static_cast<uint32_t>(
                       clamp_i(static_cast<int32_t>((kLumaBase[i] * scale + 50) / 100), 1, 255));
    table[64 + i] = 8 * static_cast<uint32_t>(clamp_i(
                            static_cast<int32_t>((kChromaBase[i] * scale + 50) / 100), 1, 255));
  }
  return table;
}

void forward_dct(const int32_t in[64], int32_t out[64]) {
  int32_t tmp[64];
  for (int r = 0; r < 8; ++r) fdct8(in + 8 * r, 1, tmp + 8 * r, 1, 3);  // rows: tmp[r][u]
  for (int c = 0; c < 8; ++c) fdct8(tmp + c, 8, out + c, 8, 9);         // columns: out[v][u]
}

void inverse_dct(const int32_t in[64], int32_t out[64]) {
  int32_t tmp[64];
  for (int c = 0; c < 8; ++c) idct8(in + c, 8, tmp + c, 8, 7);            // columns: tmp[y][u]
  for (int r = 0; r < 8; ++r) idct8(tmp + 8 * r, 1, out + 8 * r, 1, 11);  // rows: out[y][x]
}

void dequantize_inverse(const int32_t levels[64], const uint32_t* q, int32_t out[64]) {
  int32_t coef[64];
  for (int i = 0; i < 64; ++i)
    coef[i] = clamp_i(levels[i] * static_cast<int32_t>(q[i]), -kMaxCoef, kMaxCoef);
  inverse_dct(coef, out);
}

}  // namespace p2c2r::kernels::video
