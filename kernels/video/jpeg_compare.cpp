#include "kernels/video/jpeg_compare.h"

#include <turbojpeg.h>

#include <cmath>
#include <memory>
#include <string>

namespace p2c2r::kernels::video {
namespace {

struct TjHandle {
  tjhandle h;
  explicit TjHandle(tjhandle handle) : h(handle) {}
  ~TjHandle() {
    if (h != nullptr) tjDestroy(h);
  }
  TjHandle(const TjHandle&) = delete;
  TjHandle& operator=(const TjHandle&) = delete;
};

struct TjBuffer {
  unsigned char* p = nullptr;
  ~TjBuffer() { tjFree(p); }
};

}  // namespace

Result<JpegPoint> jpeg_at_quality(uint32_t width, uint32_t height, uint32_t frames, ByteView rgba,
                                  int quality) {
  const uint64_t frame_bytes = uint64_t{width} * height * 4;
  if (width == 0 || height == 0 || frames == 0 || rgba.size() != frame_bytes * frames) {
    return invalid_argument("jpeg comparison: frames blob does not match " + std::to_string(width) +
                            "x" + std::to_string(height) + "x" + std::to_string(frames));
  }
  if (quality < 1 || quality > 100)
    return invalid_argument("jpeg comparison: quality must be in [1, 100]");
  TjHandle enc(tjInitCompress()), dec(tjInitDecompress());
  if (enc.h == nullptr || dec.h == nullptr)
    return internal_error("libjpeg-turbo: cannot create a handle");
  uint64_t jpeg_bytes = 0;
  double err = 0;
  Bytes decoded(frame_bytes);
  for (uint32_t f = 0; f < frames; ++f) {
    const unsigned char* src = rgba.data() + f * frame_bytes;
    TjBuffer jpeg;
    unsigned long size = 0;
    if (tjCompress2(enc.h, src, int(width), 0, int(height), TJPF_RGBA, &jpeg.p, &size, TJSAMP_420,
                    quality, TJFLAG_ACCURATEDCT) != 0) {
      return internal_error(std::string("libjpeg-turbo compress: ") + tjGetErrorStr2(enc.h));
    }
    if (tjDecompress2(dec.h, jpeg.p, size, decoded.data(), int(width), 0, int(height), TJPF_RGBA,
                      TJFLAG_ACCURATEDCT) != 0) {
      return internal_error(std::string("libjpeg-turbo decompress: ") + tjGetErrorStr2(dec.h));
    }
    jpeg_bytes += size;
    for (uint64_t i = 0; i < frame_bytes; ++i) {
      if (i % 4 == 3) continue;
      const double d = double(src[i]) - decoded[i];
      err += d * d;
    }
  }
  const double pixels = double(width) * height * frames;
  const double psnr = err == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 * 3 * pixels / err);
  return JpegPoint{quality, psnr, double(jpeg_bytes) * 8 / pixels};
}

Result<JpegPoint> jpeg_at_psnr(uint32_t width, uint32_t height, uint32_t frames, ByteView rgba,
                               double target_psnr_rgb) {
  // PSNR rises with quality (almost monotonically): bisect for the lowest
  // quality reaching the target, then take whichever neighbour is nearer.
  int lo = 1, hi = 100;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    auto point = jpeg_at_quality(width, height, frames, rgba, mid);
    if (!point.ok()) return point.status();
    if (point->psnr_rgb >= target_psnr_rgb) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  auto best = jpeg_at_quality(width, height, frames, rgba, lo);
  if (!best.ok() || lo == 1) return best;
  auto below = jpeg_at_quality(width, height, frames, rgba, lo - 1);
  if (!below.ok()) return below.status();
  return std::abs(below->psnr_rgb - target_psnr_rgb) < std::abs(best->psnr_rgb - target_psnr_rgb)
             ? below
             : best;
}

Result<RateComparison> compare_with_jpeg(ByteView stream, ByteView original_rgba) {
  auto video = decode_video(stream);
  if (!video.ok()) return video.status();
  auto ours = measure_quality(*video, original_rgba);
  if (!ours.ok()) return ours.status();
  auto jpeg =
      jpeg_at_psnr(video->width, video->height, video->frames, original_rgba, ours->psnr_rgb);
  if (!jpeg.ok()) return jpeg.status();
  return RateComparison{*ours, *jpeg};
}

}  // namespace p2c2r::kernels::video
