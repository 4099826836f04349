// The integer building blocks of the video codec, shared by the CPU reference
// encoder and the decoder (and mirrored line for line by the shaders in this
// folder): JFIF colour conversion, the 8x8 integer DCT and its inverse,
// quantisation tables, zig-zag order and the bitstream layout. Everything is
// exact integer arithmetic, so encoder, decoder and every device agree on the
// reconstructed pixels bit for bit. The format is documented in
// docs/kernels/video.md.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace p2c2r::kernels::video {

constexpr uint32_t kMagic = 0x31563250;  // "P2V1" little-endian
// Version 3: a self-contained stream, frame 0 an I-frame. Version 4: a stream
// that continues another (frame 0 a P-frame against the other's last
// reconstruction); its header has one more word, the checksum of that
// reconstruction (reconstruction_checksum), so a decoder can tell that it
// was given the right predecessor. Both are compact: each slice's used words
// follow the length table back to back (stream.h). Versions 1 and 2 were the
// same streams with every slice padded to a worst-case region (kernel
// version 1); the device still writes that padded layout, and
// Kernel::finish_output compacts it.
constexpr uint32_t kFormatVersion = 3;
constexpr uint32_t kContinuedFormatVersion = 4;
// magic, version, w, h, frames, quality, search, slices/frame, and word 8:
// the payload's size in words (in the device's padded layout: the region size)
constexpr uint32_t kHeaderWords = 9;
constexpr uint32_t kContinuedHeaderWords = 10;  // ... and the reference's checksum
// Streams a unit may continue through (its reference inputs): a keyframe
// interval of at most kMaxChain + 1 units.
constexpr uint32_t kMaxChain = 63;
constexpr uint32_t kMb = 16;                             // macroblock side in luma pixels
constexpr uint32_t kBlocksPerMb = 6;                     // Y0 Y1 Y2 Y3 Cb Cr
constexpr uint32_t kCoefWordsPerMb = kBlocksPerMb * 32;  // int16 levels, two per word
constexpr int32_t kMaxLevel = 2047;  // |level| bound, enforced by encoder and decoder
constexpr int32_t kMaxCoef = 32767;  // dequantised coefficients are clamped to this
constexpr uint32_t kMaxSearch = 16;
constexpr uint32_t kMaxWidth = 1280, kMaxHeight = 720, kMaxFrames = 16;
// Worst case bits for one macroblock (see docs/kernels/video.md): 6 blocks of
// at most 1704 bits plus 37 header bits, rounded up to whole words.
constexpr uint32_t kMaxWordsPerMb = 321;

// Plane layout of one frame: Y (w*h), Cb (w/2*h/2), Cr (w/2*h/2); frame_words() counts samples
// (the CPU keeps one per byte, the device packs four per word).
struct Geometry {
  uint32_t width = 0, height = 0;
  uint32_t mbs_x() const { return width / kMb; }
  uint32_t mbs_y() const { return height / kMb; }
  uint32_t mbs() const { return mbs_x() * mbs_y(); }
  uint64_t luma() const { return uint64_t{width} * height; }
  uint64_t chroma() const { return luma() / 4; }
  uint64_t frame_words() const { return luma() + 2 * chroma(); }
  // A slice's worst-case size: its region in the device's padded layout.
  uint32_t region_words() const { return mbs_x() * kMaxWordsPerMb + 1; }
};

// FNV-1a (32-bit) over the Y, Cb and Cr planes of a reconstructed frame, in
// that order: not a defence against a forged stream (the validator's quorum
// is), only a check that a continued stream meets the predecessor it was
// coded against.
uint32_t reconstruction_checksum(std::span<const uint8_t> y, std::span<const uint8_t> cb,
                                 std::span<const uint8_t> cr);

extern const std::array<uint8_t, 64> kZigzag;  // zig-zag position -> natural index

// Quantiser step per natural position, times 8 (the forward DCT's output
// scale): [0,64) luma, [64,128) chroma. libjpeg's quality scaling of the
// JPEG Annex K tables.
std::array<uint32_t, 128> quant_table(uint32_t quality);

inline int32_t clamp_i(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// JFIF full-range BT.601. RGBA word: R in the low byte.
inline uint32_t rgb_to_y(uint32_t rgba) {
  const int32_t r = rgba & 255, g = (rgba >> 8) & 255, b = (rgba >> 16) & 255;
  return static_cast<uint32_t>((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
}
inline int32_t cb_part(uint32_t rgba) {
  const int32_t r = rgba & 255, g = (rgba >> 8) & 255, b = (rgba >> 16) & 255;
  return -11059 * r - 21709 * g + 32768 * b;
}
inline int32_t cr_part(uint32_t rgba) {
  const int32_t r = rgba & 255, g = (rgba >> 8) & 255, b = (rgba >> 16) & 255;
  return 32768 * r - 27439 * g - 5329 * b;
}
// Chroma of a 2x2 quad from the sum of its four parts.
inline uint32_t chroma_of_sum(int32_t sum4) {
  return static_cast<uint32_t>(clamp_i((sum4 + (128 << 18) + (1 << 17)) >> 18, 0, 255));
}

// 8x8 forward DCT of a residual block (row-major, natural order in and out);
// output is 8x the orthonormal DCT.
void forward_dct(const int32_t in[64], int32_t out[64]);
// Inverse of forward_dct on clamped, dequantised coefficients.
void inverse_dct(const int32_t in[64], int32_t out[64]);

// Dequantises `levels` (natural order) with `q` (64 steps), clamps, and
// inverse-transforms into the residual `out`. Encoder and decoder both call it,
// so their reconstructions are identical.
void dequantize_inverse(const int32_t levels[64], const uint32_t* q, int32_t out[64]);

// Exp-Golomb mappings: signed value -> ue code number, nonzero level -> ue code number.
inline uint32_t se_code(int32_t v) {
  return v > 0 ? 2 * static_cast<uint32_t>(v) - 1 : 2 * static_cast<uint32_t>(-v);
}
inline uint32_t level_code(int32_t l) {
  return 2 * static_cast<uint32_t>((l < 0 ? -l : l) - 1) + (l < 0 ? 1 : 0);
}

// One macroblock's side information, as the mb shader stores it.
inline uint32_t pack_mb_info(int32_t mvx, int32_t mvy, uint32_t cbp) {
  return (static_cast<uint32_t>(mvx + 64) & 255) | ((static_cast<uint32_t>(mvy + 64) & 255) << 8) |
         (cbp << 16);
}

}  // namespace p2c2r::kernels::video
