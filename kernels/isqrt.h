// Integer floor square roots for the CPU references, computed the way the
// shaders compute them: bit by bit, always half the width in rounds, so a
// shader's loop is uniform across lanes and the two sides agree by
// construction.
#pragma once

#include <cstdint>

namespace p2c2r::kernels {

template <typename U>
U isqrt_bits(U v) {
  constexpr int kRounds = sizeof(U) * 4;
  U res = 0, bit = U{1} << (2 * kRounds - 2);
  for (int i = 0; i < kRounds; ++i) {
    const U trial = res + bit;
    if (v >= trial) {
      v -= trial;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  return res;
}
inline uint64_t isqrt64(uint64_t v) { return isqrt_bits<uint64_t>(v); }
inline uint32_t isqrt32(uint32_t v) { return isqrt_bits<uint32_t>(v); }

}  // namespace p2c2r::kernels
