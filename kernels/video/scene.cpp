#include "kernels/video/scene.h"

#include "common/rng.h"

namespace p2c2r::kernels::video {
namespace {

struct Shape {
  int32_t x, y, vx, vy, radius;
  bool circle, striped;
  uint32_t r, g, b;
};

uint32_t hash2(int32_t x, int32_t y, uint32_t salt) {
  uint32_t h =
      static_cast<uint32_t>(x) * 0x9E3779B1u ^ static_cast<uint32_t>(y) * 0x85EBCA77u ^ salt;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  return h;
}

uint32_t pack(int32_t r, int32_t g, int32_t b) {
  auto c = [](int32_t v) { return static_cast<uint32_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); };
  return c(r) | (c(g) << 8) | (c(b) << 16) | 0xFF000000u;
}

}  // namespace

std::vector<uint32_t> synthetic_frames(uint32_t width, uint32_t height, uint32_t frames,
                                       uint64_t seed) {
  Rng rng(seed);
  const int32_t w = static_cast<int32_t>(width), h = static_cast<int32_t>(height);
  const uint32_t salt = static_cast<uint32_t>(rng.next());
  std::vector<Shape> shapes(5);
  for (auto& s : shapes) {
    s.radius = static_cast<int32_t>(rng.between(w / 16 + 4, w / 7 + 6));
    s.x = static_cast<int32_t>(rng.between(0, w - 1));
    s.y = static_cast<int32_t>(rng.between(0, h - 1));
    s.vx = static_cast<int32_t>(rng.between(-4, 4));
    s.vy = static_cast<int32_t>(rng.between(-3, 3));
    s.circle = rng.below(2) == 0;
    s.striped = rng.below(3) == 0;
    s.r = static_cast<uint32_t>(rng.between(30, 255));
    s.g = static_cast<uint32_t>(rng.between(30, 255));
    s.b = static_cast<uint32_t>(rng.between(30, 255));
  }
  std::vector<uint32_t> out(uint64_t{width} * height * frames);
  for (uint32_t f = 0; f < frames; ++f) {
    const int32_t pan = static_cast<int32_t>(f);  // the camera pans one pixel per frame
    for (int32_t y = 0; y < h; ++y) {
      for (int32_t x = 0; x < w; ++x) {
        const int32_t wx = x + pan;
        // Sky-to-ground gradient, a brick band, and blocky grain fixed to the world.
        int32_t r = 70 + 120 * y / h + 30 * wx / (w + 64), g = 110 + 90 * y / h,
                b = 220 - 120 * y / h;
        if (y > h * 2 / 3 && ((wx / 12 + (y / 6) % 2) % 2 == 0)) {
          r -= 40;
          g -= 30;
        }
        const int32_t grain = static_cast<int32_t>(hash2(wx >> 2, y >> 2, salt) % 25) - 12;
        r += grain;
        g += grain;
        b += grain;
        for (const auto& s : shapes) {
          const int32_t dx = x - (s.x + s.vx * static_cast<int32_t>(f)),
                        dy = y - (s.y + s.vy * static_cast<int32_t>(f));
          const bool inside =
              s.circle ? dx * dx + dy * dy <= s.radius * s.radius
                       : (dx < 0 ? -dx : dx) <= s.radius && (dy < 0 ? -dy : dy) <= s.radius * 2 / 3;
          if (!inside) continue;
          const int32_t shade = s.striped && ((dx + dy + 64 * s.radius) / 4) % 2 == 0 ? 60 : 0;
          r = static_cast<int32_t>(s.r) - shade;
          g = static_cast<int32_t>(s.g) - shade;
          b = static_cast<int32_t>(s.b) - shade;
        }
        out[uint64_t{f} * width * height + uint64_t(y) * width + uint64_t(x)] = pack(r, g, b);
      }
    }
  }
  return out;
}

}  // namespace p2c2r::kernels::video
