// p2c2r bench host: the host benchmark a peer reports when it joins, for the
// user to see: peak integer throughput, memory bandwidth, every kernel.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/bench.h"
#include "bench/format.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "runtime/benchmark.h"
#include "runtime/execute.h"

namespace p2c2r::bench {

int host_benchmark(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("bench host options");
  bool json = false;
  cli::DeviceFlags device_flags;
  options.add_options()("json", po::bool_switch(&json),
                        "print the benchmark as JSON (what a peer registers with)");
  device_flags.add_to(options);
  po::variables_map vm;
  if (auto code = cli::parse("bench host", "[--json] [--device D]", args, options, vm))
    return *code;

  auto device = runtime::open_device(device_flags.device, device_flags.instance_options(),
                                     device_flags.device_options());
  if (!device.ok()) return cli::fail("bench host", device.status());
  const auto registry = kernels::builtin_registry();
  cli::ProgressBar bar;
  auto result = runtime::benchmark_host(
      **device, registry,
      [&](size_t step, size_t steps, const std::string& what) {
        bar.update(double(step) / double(steps), what);
      },
      static_cast<int64_t>(std::time(nullptr)));
  bar.finish();
  if (!result.ok()) return cli::fail("bench host", result.status());

  if (json) {
    std::cout << nlohmann::json(*result).dump(2) << "\n";
  } else {
    std::printf("device      %s (%s)\ndriver      %s\n", result->device_name.c_str(),
                result->device_type.c_str(), result->driver_version.c_str());
    std::printf("peak        %s int-ops/s\nbandwidth   %sB/s\n\n",
                si(result->peak_int_ops_per_second).c_str(),
                si(result->memory_bytes_per_second).c_str());
    std::printf("%-12s %-9s %16s %14s %12s %6s\n", "kernel", "family", "throughput", "int-ops/s",
                "s per unit", "match");
    for (const auto& k : result->kernels) {
      std::printf("%-12s %-9s %16s %14s %12.4f %6s\n", k.kernel.c_str(), k.family.c_str(),
                  (si(k.items_per_second) + " " + k.unit + "/s").c_str(),
                  si(k.int_ops_per_second).c_str(), k.seconds_per_unit,
                  k.matches_reference ? "yes" : "NO");
    }
  }
  return result->all_match() ? 0 : 1;
}

}  // namespace p2c2r::bench
