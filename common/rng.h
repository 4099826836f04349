// A small, fully specified pseudo-random generator (xoshiro256** seeded by
// SplitMix64). Kernel inputs are generated from a seed with it, so any work
// unit can be recreated from its parameters on any machine; std::mt19937's
// distributions are not portable across standard libraries, this is.
#pragma once

#include <cstdint>

namespace p2c2r {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next();
  // Uniform in [0, bound) for bound > 0, without modulo bias.
  uint64_t below(uint64_t bound);
  // Uniform in [lo, hi] (inclusive), lo <= hi.
  int64_t between(int64_t lo, int64_t hi);

 private:
  uint64_t s_[4];
};

}  // namespace p2c2r
