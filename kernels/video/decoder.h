// The video kernel's CPU decoder: turns the kernel's output bytes (the stream
// documented in docs/kernels/video.md) back into frames, and measures what
// the coding cost: PSNR against the original frames and bits per pixel.
//
// It promises never to read outside the given bytes: a truncated, corrupt or
// hostile stream gets an error Status, whatever its contents. The decoder
// reconstructs with the same integer code as the encoder, so its frames are
// exactly the encoder's reconstruction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace p2c2r::kernels::video {

struct DecodedVideo {
  uint32_t width = 0, height = 0, frames = 0, quality = 0, search = 0;
  uint64_t payload_bits =
      0;  // entropy-coded bits of all slices (excluding header, length table, padding)
  std::vector<uint64_t> frame_bits;  // the same, per frame (frame 0 is the I-frame)
  // Per frame: Y (width*height), Cb and Cr (width/2 * height/2), 8 bits per sample.
  std::vector<Bytes> y, cb, cr;

  // Frame `f` as RGBA8 (chroma upsampled by replication, JFIF inverse transform).
  Bytes rgba(uint32_t f) const;
  // Bits per pixel of the coded payload over all frames.
  double bpp() const;
};

Result<DecodedVideo> decode_video(ByteView stream);

struct QualityReport {
  double psnr_y = 0;    // dB, luma planes against the original frames' luma
  double psnr_rgb = 0;  // dB, RGB against the original frames
  double bpp = 0;
};

// Compares decoded frames with the originals (frames * width * height RGBA8
// bytes). Identical images give 99 dB (a cap, instead of infinity).
Result<QualityReport> measure_quality(const DecodedVideo& video, ByteView original_rgba);

// Writes every decoded frame as a YUV4MPEG2 (4:2:0, full range) file.
Status write_y4m(const DecodedVideo& video, const std::string& path);

}  // namespace p2c2r::kernels::video
