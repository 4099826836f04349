// Rate/distortion beside libjpeg-turbo: codes the same frames as baseline
// JPEG (4:2:0, each frame on its own) at the quality whose RGB PSNR comes
// nearest to ours, so "bits per pixel at equal PSNR" can be printed side by
// side. JPEG has no inter-frame prediction, which is exactly what the
// comparison shows.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "kernels/video/decoder.h"

namespace p2c2r::kernels::video {

struct JpegPoint {
  int quality = 0;      // libjpeg quality 1..100
  double psnr_rgb = 0;  // dB over all frames
  double bpp = 0;       // JPEG file bytes * 8 / pixels
};

// JPEG at one quality over `frames` RGBA8 frames.
Result<JpegPoint> jpeg_at_quality(uint32_t width, uint32_t height, uint32_t frames, ByteView rgba,
                                  int quality);

// The JPEG quality whose RGB PSNR is nearest to `target_psnr_rgb`.
Result<JpegPoint> jpeg_at_psnr(uint32_t width, uint32_t height, uint32_t frames, ByteView rgba,
                               double target_psnr_rgb);

struct RateComparison {
  QualityReport ours;
  JpegPoint jpeg;
};

// Decodes the video kernel's output, measures it against the original frames
// and finds the JPEG point at the same PSNR.
Result<RateComparison> compare_with_jpeg(ByteView stream, ByteView original_rgba);

}  // namespace p2c2r::kernels::video
