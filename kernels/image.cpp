#include "kernels/image.h"

#include <png.h>

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace p2c2r::kernels {

Status write_png(const std::string& path, uint32_t width, uint32_t height, ByteView rgba) {
  if (rgba.size() != uint64_t{width} * height * 4) {
    return invalid_argument("image of " + std::to_string(width) + "x" + std::to_string(height) +
                            " needs " + std::to_string(uint64_t{width} * height * 4) +
                            " RGBA bytes, got " + std::to_string(rgba.size()));
  }
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) return unavailable("cannot open " + path + " for writing");
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = PNG_FORMAT_RGBA;
  if (!png_image_write_to_stdio(&image, file.get(), 0, rgba.data(), 0, nullptr)) {
    std::string why = image.message;
    png_image_free(&image);
    return internal_error("writing PNG " + path + ": " + why);
  }
  return Status::Ok();
}

void parallel_for(uint64_t n, unsigned threads, const std::function<void(uint64_t, uint64_t)>& fn) {
  if (threads <= 1 || n < 2) {
    fn(0, n);
    return;
  }
  if (threads > n) threads = static_cast<unsigned>(n);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    const uint64_t begin = n * t / threads, end = n * (t + 1) / threads;
    pool.emplace_back([&fn, begin, end] { fn(begin, end); });
  }
  for (auto& th : pool) th.join();
}

}  // namespace p2c2r::kernels
