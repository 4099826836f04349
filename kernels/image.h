// Small helpers the kernel families share: writing RGBA8 images as PNG so a
// person can look at a unit's output, and running a CPU reference on several
// threads with a fixed partition of the work (so the bytes never depend on the
// thread count).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace p2c2r::kernels {

// Writes `rgba` (width*height*4 bytes, row-major, top row first) as a PNG file.
Status write_png(const std::string& path, uint32_t width, uint32_t height, ByteView rgba);

// Calls fn(begin, end) over [0, n) split into `threads` contiguous chunks, each
// on its own thread (threads <= 1: inline). fn must write only to its own range.
void parallel_for(uint64_t n, unsigned threads, const std::function<void(uint64_t, uint64_t)>& fn);

}  // namespace p2c2r::kernels
