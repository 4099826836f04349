#include "kernels/video/decoder.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "kernels/video/codec.h"
#include "kernels/video/stream.h"

namespace p2c2r::kernels::video {
namespace {

// Reads bits MSB-first from 32-bit little-endian words, never past `limit_bits`.
class BitReader {
 public:
  BitReader(ByteView words, uint64_t limit_bits) : words_(words), limit_(limit_bits) {}
  bool failed() const { return failed_; }
  uint64_t position() const { return pos_; }

  uint32_t get(uint32_t n) {  // n <= 32
    uint32_t v = 0;
    for (uint32_t i = 0; i < n; ++i) v = (v << 1) | bit();
    return v;
  }
  uint32_t ue() {
    uint32_t zeros = 0;
    while (!failed_ && bit() == 0) {
      if (++zeros > 24) failed_ = true;  // no code in this format is that long
    }
    if (failed_) return 0;
    return ((1u << zeros) | get(zeros)) - 1;
  }
  int32_t se() {
    const uint32_t c = ue();
    return (c & 1) ? static_cast<int32_t>((c + 1) / 2) : -static_cast<int32_t>(c / 2);
  }

 private:
  uint32_t bit() {
    if (pos_ >= limit_) {
      failed_ = true;
      return 0;
    }
    const uint64_t word = pos_ / 32, shift = 31 - pos_ % 32;
    const uint32_t w = uint32_t(words_[4 * word]) | uint32_t(words_[4 * word + 1]) << 8 |
                       uint32_t(words_[4 * word + 2]) << 16 | uint32_t(words_[4 * word + 3]) << 24;
    ++pos_;
    return (w >> shift) & 1;
  }
  ByteView words_;
  uint64_t limit_, pos_ = 0;
  bool failed_ = false;
};

uint32_t word_at(ByteView bytes, uint64_t index) {
  const uint8_t* p = bytes.data() + 4 * index;
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// Reads one block's levels (natural order) from the stream; false on a malformed block.
bool read_block(BitReader& in, bool inter, int32_t* pdc, int32_t level[64]) {
  for (int i = 0; i < 64; ++i) level[i] = 0;
  uint32_t k = 0;
  if (!inter) {
    const int32_t dc = *pdc + in.se();
    if (dc < -kMaxLevel || dc > kMaxLevel) return false;
    level[0] = *pdc = dc;
    k = 1;
  }
  const uint32_t n = inter ? in.ue() + 1 : in.ue();
  if (in.failed() || n > 64 - k) return false;
  for (uint32_t i = 0; i < n; ++i) {
    k += in.ue();
    const uint32_t code = in.ue();
    if (in.failed() || k > 63 || code / 2 + 1 > uint32_t(kMaxLevel)) return false;
    const int32_t l = static_cast<int32_t>(code / 2 + 1);
    level[kZigzag[k]] = (code & 1) ? -l : l;
    ++k;
  }
  return true;
}

// The planes a frame predicts from: the frame before it, or for frame 0 of a
// continued stream the predecessor's last frame; all null for an I-frame.
struct RefPlanes {
  const uint8_t* p[3] = {nullptr, nullptr, nullptr};
};

RefPlanes ref_planes(const DecodedVideo& v, uint32_t f, const DecodedVideo* previous) {
  if (f > 0) return {{v.y[f - 1].data(), v.cb[f - 1].data(), v.cr[f - 1].data()}};
  if (v.continued) {
    const uint32_t last = previous->frames - 1;
    return {{previous->y[last].data(), previous->cb[last].data(), previous->cr[last].data()}};
  }
  return {};
}

Status decode_slice(DecodedVideo& v, uint32_t f, uint32_t row, BitReader& in,
                    const std::array<uint32_t, 128>& q, const RefPlanes& refs) {
  const bool inter = refs.p[0] != nullptr;
  const Geometry g{v.width, v.height};
  const uint8_t* const* ref = refs.p;
  uint8_t* out[3] = {v.y[f].data(), v.cb[f].data(), v.cr[f].data()};
  const std::string where = "frame " + std::to_string(f) + " slice " + std::to_string(row);
  int32_t mvx = 0, mvy = 0, pdc[3] = {0, 0, 0};
  for (uint32_t m = 0; m < g.mbs_x(); ++m) {
    uint32_t cbp = 63;
    if (inter) {
      mvx += in.se();
      mvy += in.se();
      cbp = in.ue();
      const int32_t x0 = int32_t(m * 16) + mvx, y0 = int32_t(row * 16) + mvy;
      const int32_t range = static_cast<int32_t>(v.search);
      if (in.failed() || cbp > 63 || mvx < -range || mvx > range || mvy < -range || mvy > range ||
          x0 < 0 || y0 < 0 || x0 > int32_t(v.width) - 16 || y0 > int32_t(v.height) - 16) {
        return invalid_argument("video stream: bad macroblock header in " + where);
      }
    }
    for (uint32_t b = 0; b < kBlocksPerMb; ++b) {
      const uint32_t c = b < 4 ? 0 : b - 3;
      int32_t level[64], res[64];
      if (((cbp >> b) & 1) != 0) {
        if (!read_block(in, inter, &pdc[c], level))
          return invalid_argument("video stream: bad block in " + where);
      } else {
        for (int i = 0; i < 64; ++i) level[i] = 0;
      }
      dequantize_inverse(level, q.data() + (c > 0 ? 64 : 0), res);
      const uint32_t stride = c > 0 ? v.width / 2 : v.width;
      const uint32_t bx = c > 0 ? m * 8 : m * 16 + 8 * (b & 1),
                     by = c > 0 ? row * 8 : row * 16 + 8 * (b >> 1);
      const int32_t bmx = c > 0 ? (mvx >> 1) : mvx, bmy = c > 0 ? (mvy >> 1) : mvy;
      for (uint32_t i = 0; i < 64; ++i) {
        const uint32_t x = bx + (i & 7), y = by + (i >> 3);
        const int32_t pred =
            inter ? ref[c][(int32_t(y) + bmy) * int32_t(stride) + int32_t(x) + bmx] : 128;
        out[c][y * stride + x] = static_cast<uint8_t>(clamp_i(pred + res[i], 0, 255));
      }
    }
  }
  return Status::Ok();
}

double psnr(double squared_error, double samples) {
  if (squared_error == 0) return 99.0;
  return 10.0 * std::log10(255.0 * 255.0 * samples / squared_error);
}

}  // namespace

Bytes DecodedVideo::rgba(uint32_t f) const {
  Bytes out(uint64_t{width} * height * 4);
  for (uint32_t yy = 0; yy < height; ++yy) {
    for (uint32_t xx = 0; xx < width; ++xx) {
      const int32_t l = y[f][yy * width + xx];
      const int32_t u = int32_t(cb[f][(yy / 2) * (width / 2) + xx / 2]) - 128;
      const int32_t w = int32_t(cr[f][(yy / 2) * (width / 2) + xx / 2]) - 128;
      uint8_t* px = out.data() + (uint64_t{yy} * width + xx) * 4;
      px[0] = static_cast<uint8_t>(clamp_i(l + ((91881 * w + 32768) >> 16), 0, 255));
      px[1] = static_cast<uint8_t>(clamp_i(l + ((-22554 * u - 46802 * w + 32768) >> 16), 0, 255));
      px[2] = static_cast<uint8_t>(clamp_i(l + ((116130 * u + 32768) >> 16), 0, 255));
      px[3] = 255;
    }
  }
  return out;
}

double DecodedVideo::bpp() const {
  const double pixels = double(width) * height * frames;
  return pixels > 0 ? double(payload_bits) / pixels : 0;
}

namespace {

// Where each slice's words start in the payload (one more entry: the end),
// from the length table, checked against the header's payload size (word 8)
// and the stream's size before anything is decoded.
Result<std::vector<uint64_t>> slice_offsets(ByteView stream, uint64_t header_words, uint64_t slices,
                                            uint64_t region) {
  const uint64_t payload = word_at(stream, 8);
  if (payload > slices * region)
    return invalid_argument("video stream: header fields out of range (payload size)");
  const uint64_t expected = 4 * (header_words + slices + payload);
  if (stream.size() != expected) {
    return invalid_argument("video stream: " + std::to_string(stream.size()) +
                            " bytes, header says " + std::to_string(expected));
  }
  std::vector<uint64_t> offsets{0};
  for (uint64_t s = 0; s < slices; ++s) {
    const uint64_t bits = word_at(stream, header_words + s);
    if (bits > region * 32)
      return invalid_argument("video stream: slice " + std::to_string(s) +
                              " is longer than a slice can be");
    offsets.push_back(offsets.back() + slice_words(bits));
    if (offsets.back() > payload) {
      return invalid_argument("video stream: the slice lengths overrun the payload (" +
                              std::to_string(payload) + " words) at slice " + std::to_string(s));
    }
  }
  if (offsets.back() != payload) {
    return invalid_argument("video stream: the slices end " +
                            std::to_string(payload - offsets.back()) +
                            " words before the payload does");
  }
  return offsets;
}

// A continued stream's predecessor: given, of the same size and quality, and
// ending in the very reconstruction the stream was coded against.
Status check_previous(const DecodedVideo& v, const DecodedVideo* previous) {
  if (previous == nullptr || previous->frames == 0)
    return invalid_argument(
        "video stream: continues another stream (format version 4); decode it after the stream "
        "it continues");
  if (previous->width != v.width || previous->height != v.height ||
      previous->quality != v.quality) {
    return invalid_argument(
        "video stream: continues a " + std::to_string(v.width) + "x" + std::to_string(v.height) +
        " quality " + std::to_string(v.quality) + " stream, but the stream before it is " +
        std::to_string(previous->width) + "x" + std::to_string(previous->height) + " quality " +
        std::to_string(previous->quality));
  }
  if (previous->last_checksum() != v.reference_checksum)
    return invalid_argument(
        "video stream: the stream before it does not end in the frame it was coded against "
        "(reference checksum mismatch)");
  return Status::Ok();
}

}  // namespace

Bytes DecodedVideo::last_reconstruction() const {
  Bytes out;
  if (frames == 0) return out;
  for (const Bytes* plane : {&y.back(), &cb.back(), &cr.back()})
    out.insert(out.end(), plane->begin(), plane->end());
  return out;
}

uint32_t DecodedVideo::last_checksum() const {
  if (frames == 0) return 0;
  return reconstruction_checksum(y.back(), cb.back(), cr.back());
}

Result<DecodedVideo> decode_video(ByteView stream, const DecodedVideo* previous) {
  if (stream.size() < kHeaderWords * 4)
    return invalid_argument("video stream: shorter than its header");
  DecodedVideo v;
  if (word_at(stream, 0) != kMagic)
    return invalid_argument("video stream: bad magic (not a P2V1 stream)");
  const uint32_t version = word_at(stream, 1);
  if (version != kFormatVersion && version != kContinuedFormatVersion) {
    return invalid_argument("video stream: format version " + std::to_string(version) +
                            " unsupported");
  }
  v.continued = version == kContinuedFormatVersion;
  const uint32_t header_words = v.continued ? kContinuedHeaderWords : kHeaderWords;
  if (stream.size() < header_words * 4)
    return invalid_argument("video stream: shorter than its header");
  if (v.continued) v.reference_checksum = word_at(stream, kHeaderWords);
  v.width = word_at(stream, 2), v.height = word_at(stream, 3), v.frames = word_at(stream, 4);
  v.quality = word_at(stream, 5), v.search = word_at(stream, 6);
  const Geometry g{v.width, v.height};
  if (v.width == 0 || v.height == 0 || v.width % 16 || v.height % 16 || v.width > kMaxWidth ||
      v.height > kMaxHeight || v.frames == 0 || v.frames > kMaxFrames || v.quality < 1 ||
      v.quality > 100 || v.search > kMaxSearch || word_at(stream, 7) != g.mbs_y()) {
    return invalid_argument("video stream: header fields out of range");
  }
  if (v.continued) P2C2R_RETURN_IF_ERROR(check_previous(v, previous));
  P2C2R_ASSIGN_OR_RETURN(
      const std::vector<uint64_t> offsets,
      slice_offsets(stream, header_words, uint64_t{g.mbs_y()} * v.frames, g.region_words()));
  const uint64_t slices = offsets.size() - 1, payload = header_words + slices;
  const auto q = quant_table(v.quality);
  for (uint32_t f = 0; f < v.frames; ++f) {
    v.y.emplace_back(g.luma());
    v.cb.emplace_back(g.chroma());
    v.cr.emplace_back(g.chroma());
    v.frame_bits.push_back(0);
    for (uint32_t row = 0; row < g.mbs_y(); ++row) {
      const uint64_t s = uint64_t{f} * g.mbs_y() + row;
      const uint32_t bits = word_at(stream, header_words + s);
      const uint64_t words = offsets[s + 1] - offsets[s];
      BitReader in(stream.subspan(4 * (payload + offsets[s]), 4 * words), bits);
      P2C2R_RETURN_IF_ERROR(decode_slice(v, f, row, in, q, ref_planes(v, f, previous)));
      if (in.position() != bits) {
        return invalid_argument("video stream: frame " + std::to_string(f) + " slice " +
                                std::to_string(row) + " has " +
                                std::to_string(bits - in.position()) + " unread bits");
      }
      v.payload_bits += bits;
      v.frame_bits.back() += bits;
    }
  }
  return v;
}

Result<DecodedVideo> decode_chain(const std::vector<ByteView>& streams) {
  if (streams.empty()) return invalid_argument("video stream chain: no streams");
  DecodedVideo last;
  for (size_t i = 0; i < streams.size(); ++i) {
    auto decoded = decode_video(streams[i], i == 0 ? nullptr : &last);
    const std::string which =
        "stream " + std::to_string(i + 1) + " of " + std::to_string(streams.size());
    if (!decoded.ok()) return decoded.status().with_context(which);
    last = std::move(*decoded);
  }
  return last;
}

Result<QualityReport> measure_quality(const DecodedVideo& v, ByteView original) {
  const uint64_t frame_bytes = uint64_t{v.width} * v.height * 4;
  if (original.size() != frame_bytes * v.frames) {
    return invalid_argument("original frames are " + std::to_string(original.size()) +
                            " bytes, expected " + std::to_string(frame_bytes * v.frames));
  }
  double err_y = 0, err_rgb = 0;
  for (uint32_t f = 0; f < v.frames; ++f) {
    const Bytes decoded = v.rgba(f);
    const uint8_t* src = original.data() + f * frame_bytes;
    for (uint64_t i = 0; i < uint64_t{v.width} * v.height; ++i) {
      const uint32_t px =
          uint32_t(src[4 * i]) | uint32_t(src[4 * i + 1]) << 8 | uint32_t(src[4 * i + 2]) << 16;
      const double dy = double(rgb_to_y(px)) - v.y[f][i];
      err_y += dy * dy;
      for (int c = 0; c < 3; ++c) {
        const double d = double(src[4 * i + c]) - decoded[4 * i + c];
        err_rgb += d * d;
      }
    }
  }
  const double pixels = double(v.width) * v.height * v.frames;
  return QualityReport{psnr(err_y, pixels), psnr(err_rgb, 3 * pixels), v.bpp()};
}

Status write_y4m(const DecodedVideo& v, const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) return unavailable("cannot open " + path + " for writing");
  std::fprintf(file.get(), "YUV4MPEG2 W%u H%u F25:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\n", v.width,
               v.height);
  for (uint32_t f = 0; f < v.frames; ++f) {
    std::fputs("FRAME\n", file.get());
    std::fwrite(v.y[f].data(), 1, v.y[f].size(), file.get());
    std::fwrite(v.cb[f].data(), 1, v.cb[f].size(), file.get());
    std::fwrite(v.cr[f].data(), 1, v.cr[f].size(), file.get());
  }
  if (std::ferror(file.get())) return unavailable("writing " + path + " failed");
  return Status::Ok();
}

}  // namespace p2c2r::kernels::video
