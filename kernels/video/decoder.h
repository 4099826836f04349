// The video kernel's CPU decoder: turns the kernel's output bytes (the stream
// documented in docs/kernels/video.md) back into frames, and measures what
// the coding cost: PSNR against the original frames and bits per pixel.
//
// It promises never to read outside the given bytes: a truncated, corrupt or
// hostile stream (slice lengths that overrun the payload included) gets an
// error Status, whatever its contents. It reads the compact layout, a unit's
// output (formats 3 and 4), not the device's padded one. The decoder
// reconstructs with the same integer code as the encoder, so its frames are
// exactly the encoder's reconstruction.
//
// A continued stream (format version 4: its frame 0 is a P-frame against the
// last frame of the stream before it) decodes only given that predecessor,
// decoded; a chain of units is decoded in order, each with the one before
// (decode_chain).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace p2c2r::kernels::video {

struct DecodedVideo {
  uint32_t width = 0, height = 0, frames = 0, quality = 0, search = 0;
  // A continued stream: frame 0 predicts from the predecessor's last frame,
  // whose reconstruction_checksum the header records.
  bool continued = false;
  uint32_t reference_checksum = 0;
  uint64_t payload_bits =
      0;  // entropy-coded bits of all slices (excluding header, length table, padding)
  std::vector<uint64_t> frame_bits;  // the same, per frame (frame 0 is the I-frame)
  // Per frame: Y (width*height), Cb and Cr (width/2 * height/2), 8 bits per sample.
  std::vector<Bytes> y, cb, cr;

  // Frame `f` as RGBA8 (chroma upsampled by replication, JFIF inverse transform).
  Bytes rgba(uint32_t f) const;
  // Bits per pixel of the coded payload over all frames.
  double bpp() const;
  // The last frame's planes (Y, Cb, Cr back to back): what a stream that
  // continues this one predicts from; and their reconstruction_checksum.
  Bytes last_reconstruction() const;
  uint32_t last_checksum() const;
};

// Decodes one stream. `previous` is the decoded stream it continues; it is
// required for a continued stream (and must have the same size and quality
// and match the recorded checksum) and ignored for a self-contained one.
Result<DecodedVideo> decode_video(ByteView stream, const DecodedVideo* previous = nullptr);

// Decodes streams that continue one another, oldest first (the first
// self-contained), and returns the last decoded; each error names the stream.
Result<DecodedVideo> decode_chain(const std::vector<ByteView>& streams);

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
