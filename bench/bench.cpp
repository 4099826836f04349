#include "bench/bench.h"

namespace p2c2r::bench {

const std::vector<Benchmark>& benchmarks() {
  static const std::vector<Benchmark> all = {
      {"kernels",
       "each kernel family on the Vulkan device vs its CPU reference, and the device's peak",
       kernels_benchmark},
      {"host", "what a peer measures and registers with: peak, bandwidth, every kernel",
       host_benchmark},
  };
  return all;
}

}  // namespace p2c2r::bench
