// p2c2r bench kernels: for every kernel, throughput on the Vulkan device, of
// the CPU reference on one core and on all cores, their ratio, the fraction
// of the device's measured peak integer throughput, and whether the bytes
// matched. For the video family also the rate it reaches: bits per pixel at
// its PSNR, beside libjpeg-turbo's at the same PSNR on the same frames.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "bench/bench.h"
#include "bench/format.h"
#include "cli/options.h"
#include "common/digest.h"
#include "kernels/registry.h"
#include "kernels/video/jpeg_compare.h"
#include "runtime/execute.h"

namespace p2c2r::bench {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Measured {
  double seconds = 0;  // median over repeats
  Digest digest;
};

// Times `fn` `repeat` times (after one warm-up when `warm_up`), returns the median.
template <typename Fn>
Result<Measured> time_runs(unsigned repeat, bool warm_up, Fn fn) {
  Measured m;
  std::vector<double> times;
  for (unsigned i = 0; i < repeat + (warm_up ? 1 : 0); ++i) {
    const auto start = Clock::now();
    auto digest = fn();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!digest.ok()) return digest.status();
    m.digest = *digest;
    if (!(warm_up && i == 0)) times.push_back(seconds);
  }
  m.seconds = median(times);
  return m;
}

// Device throughput is timed by GPU timestamps (execution only; the wall
// time of the whole unit, with upload, read-back and digest, is reported too).
Result<Measured> time_device(runtime::Device& device, const kernels::Kernel& kernel,
                             const kernels::Params& params, const std::vector<Bytes>& inputs,
                             unsigned repeat, double* wall_seconds = nullptr) {
  std::vector<double> device_times;
  auto wall = time_runs(repeat, true, [&]() -> Result<Digest> {
    P2C2R_ASSIGN_OR_RETURN(
        auto run, runtime::execute_unit(device, kernel, params, inputs, runtime::kDefaultLocalSize,
                                        std::chrono::minutes(5)));
    device_times.push_back(run.stats.gpu_seconds > 0 ? run.stats.gpu_seconds
                                                     : run.stats.wall_seconds);
    return run.digest;
  });
  if (!wall.ok()) return wall.status();
  if (wall_seconds) *wall_seconds = wall->seconds;
  device_times.erase(device_times.begin());  // the warm-up
  Measured m = *wall;
  m.seconds = median(device_times);
  return m;
}

Result<Measured> time_reference(const kernels::Kernel& kernel, const kernels::Params& params,
                                const std::vector<Bytes>& inputs, unsigned threads,
                                unsigned repeat) {
  return time_runs(repeat, false, [&]() -> Result<Digest> {
    P2C2R_ASSIGN_OR_RETURN(Bytes out, kernel.reference(params, inputs, threads));
    return digest_of(out);
  });
}

struct Row {
  std::string family, kernel, unit;
  double vulkan = 0, vulkan_wall = 0, cpu_one = 0, cpu_all = 0, fraction_of_peak = 0;
  bool match = false;
  std::optional<kernels::video::RateComparison> rate;  // video only
};

// Rate and distortion of the unit's output (the reference's bytes, which the
// row has just shown to equal the device's) beside libjpeg-turbo.
Result<kernels::video::RateComparison> video_rate(const kernels::Kernel& kernel,
                                                  const kernels::Params& params,
                                                  const std::vector<Bytes>& inputs,
                                                  unsigned threads) {
  P2C2R_ASSIGN_OR_RETURN(Bytes out, kernel.reference(params, inputs, threads));
  return kernels::video::compare_with_jpeg(out, inputs[0]);
}

nlohmann::json rate_json(const kernels::video::RateComparison& r) {
  return {{"bpp", r.ours.bpp},
          {"psnr_rgb_db", r.ours.psnr_rgb},
          {"psnr_y_db", r.ours.psnr_y},
          {"jpeg_bpp", r.jpeg.bpp},
          {"jpeg_psnr_rgb_db", r.jpeg.psnr_rgb},
          {"jpeg_quality", r.jpeg.quality}};
}

}  // namespace

int kernels_benchmark(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("bench kernels options");
  unsigned repeat = 3;
  bool json = false;
  std::vector<std::string> only;
  cli::DeviceFlags device_flags;
  options.add_options()("repeat", po::value(&repeat)->default_value(3),
                        "timed runs per measurement (the median is reported)")(
      "kernel", po::value(&only)->composing()->value_name("NAME"),
      "benchmark only this kernel (repeatable)")("json", po::bool_switch(&json),
                                                 "print one JSON object instead of the table");
  device_flags.add_to(options);
  po::variables_map vm;
  if (auto code = cli::parse("bench kernels", "[--repeat N] [--kernel NAME]... [--json]", args,
                             options, vm)) {
    return *code;
  }
  if (repeat == 0)
    return cli::fail("bench kernels", invalid_argument("--repeat must be at least 1"));

  auto device = runtime::open_device(device_flags.device, device_flags.instance_options(),
                                     device_flags.device_options());
  if (!device.ok()) return cli::fail("bench kernels", device.status());
  const auto registry = kernels::builtin_registry();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  // The device's peak: the peak kernel at a size that keeps it busy ~0.5 s on lavapipe.
  auto peak_kernel = registry.find("peak");
  if (!peak_kernel.ok()) return cli::fail("bench kernels", peak_kernel.status());
  auto peak_params =
      (*peak_kernel)->resolve_params(1, {{"invocations", 1 << 20}, {"iterations", 1024}});
  if (!peak_params.ok()) return cli::fail("bench kernels", peak_params.status());
  auto peak = time_device(**device, **peak_kernel, *peak_params, {}, repeat);
  if (!peak.ok()) return cli::fail("bench kernels", peak.status());
  const double peak_ops = double((*peak_kernel)->cost(*peak_params)) / peak->seconds;

  std::vector<Row> rows;
  bool all_match = true;
  for (const kernels::Kernel* kernel : registry.all()) {
    if (kernel->family() == "peak")
      continue;  // peak and bandwidth are the yardsticks, not workloads
    if (!only.empty() && std::find(only.begin(), only.end(), kernel->name()) == only.end())
      continue;
    if (!json) std::cerr << "benchmarking " << kernel->name() << "...\n";
    auto params = kernel->resolve_params(1, {});
    if (!params.ok()) return cli::fail("bench kernels", params.status());
    auto inputs = kernel->generate_inputs(*params);
    if (!inputs.ok()) return cli::fail("bench kernels", inputs.status());
    double wall_seconds = 0;
    auto on_device = time_device(**device, *kernel, *params, *inputs, repeat, &wall_seconds);
    if (!on_device.ok()) return cli::fail("bench kernels", on_device.status());
    auto one = time_reference(*kernel, *params, *inputs, 1, repeat);
    if (!one.ok()) return cli::fail("bench kernels", one.status());
    auto all = time_reference(*kernel, *params, *inputs, cores, repeat);
    if (!all.ok()) return cli::fail("bench kernels", all.status());

    const double items = kernel->work_items(*params);
    Row row{kernel->family(), kernel->name(), kernel->work_unit_name() + "/s"};
    row.vulkan = items / on_device->seconds;
    row.vulkan_wall = items / wall_seconds;
    row.cpu_one = items / one->seconds;
    row.cpu_all = items / all->seconds;
    row.fraction_of_peak = double(kernel->cost(*params)) / on_device->seconds / peak_ops;
    row.match = on_device->digest == one->digest && one->digest == all->digest;
    all_match = all_match && row.match;
    if (kernel->family() == "video") {
      auto rate = video_rate(*kernel, *params, *inputs, cores);
      if (!rate.ok()) return cli::fail("bench kernels", rate.status());
      row.rate = *rate;
    }
    rows.push_back(row);
  }

  if (json) {
    nlohmann::json out{{"device", (*device)->info().name},
                       {"cores", cores},
                       {"repeat", repeat},
                       {"peak_int_ops_per_second", peak_ops},
                       {"kernels", nlohmann::json::array()}};
    for (const auto& r : rows) {
      nlohmann::json k{{"family", r.family},
                       {"kernel", r.kernel},
                       {"unit", r.unit},
                       {"vulkan", r.vulkan},
                       {"vulkan_whole_unit", r.vulkan_wall},
                       {"cpu_one_core", r.cpu_one},
                       {"cpu_all_cores", r.cpu_all},
                       {"ratio_vs_cpu_all_cores", r.vulkan / r.cpu_all},
                       {"fraction_of_peak", r.fraction_of_peak},
                       {"bitwise_match", r.match}};
      if (r.rate) k["rate_distortion"] = rate_json(*r.rate);
      out["kernels"].push_back(std::move(k));
    }
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("device: %s, CPU reference on %u cores, median of %u runs\n",
                (*device)->info().name.c_str(), cores, repeat);
    std::printf("peak integer throughput: %s int-ops/s\n\n", si(peak_ops).c_str());
    std::printf("%-9s %-12s %-14s %10s %10s %10s %8s %8s %6s\n", "family", "kernel", "unit",
                "vulkan", "cpu 1 core", "cpu all", "ratio", "of peak", "match");
    for (const auto& r : rows) {
      std::printf("%-9s %-12s %-14s %10s %10s %10s %8.2f %7.1f%% %6s\n", r.family.c_str(),
                  r.kernel.c_str(), r.unit.c_str(), si(r.vulkan).c_str(), si(r.cpu_one).c_str(),
                  si(r.cpu_all).c_str(), r.vulkan / r.cpu_all, 100 * r.fraction_of_peak,
                  r.match ? "yes" : "NO");
    }
    for (const auto& r : rows) {
      if (!r.rate) continue;
      std::printf(
          "\n%s rate: %.3f bpp at %.2f dB RGB PSNR (Y %.2f dB); libjpeg-turbo on the same "
          "frames: %.3f bpp at %.2f dB (quality %d)\n",
          r.kernel.c_str(), r.rate->ours.bpp, r.rate->ours.psnr_rgb, r.rate->ours.psnr_y,
          r.rate->jpeg.bpp, r.rate->jpeg.psnr_rgb, r.rate->jpeg.quality);
    }
  }
  return all_match ? 0 : 1;
}

}  // namespace p2c2r::bench
