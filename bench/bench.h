// The benchmarks behind `p2c2r bench <name>`. Speeds and memory are measured
// here, never asserted by unit tests. Each benchmark prints a table for people
// and, with --json, one JSON document for scripts.
#pragma once

#include <string>
#include <vector>

namespace p2c2r::bench {

using Args = std::vector<std::string>;

struct Benchmark {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);  // returns the process exit code
};

// Every benchmark this build has.
const std::vector<Benchmark>& benchmarks();

int kernels_benchmark(const Args& args);
int host_benchmark(const Args& args);
int dispatch_benchmark(const Args& args);
int sim_benchmark(const Args& args);

}  // namespace p2c2r::bench
