// The host benchmark: what a peer measures about its device with the real
// kernels (not spec-sheet formulas, unlike BOINC's GPU speed estimate), and
// reports when it registers. The scheduler uses it to decide whether a host
// can meet an interactive unit's deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "kernels/registry.h"
#include "runtime/device.h"

namespace p2c2r::runtime {

struct KernelThroughput {
  std::string kernel;
  std::string family;
  uint32_t version = 0;
  std::string unit;  // "rays", "body-steps", ...
  // Throughputs use device execution time (GPU timestamps); seconds_per_unit
  // is the whole unit as a peer runs it (upload, run, read-back, digest).
  double items_per_second = 0;     // the family's figure of merit
  double int_ops_per_second = 0;   // Kernel::cost per second
  double seconds_per_unit = 0;     // at the kernel's default parameters
  bool matches_reference = false;  // small_params output equals the CPU reference
};

struct HostBenchmark {
  std::string device_name;
  std::string device_type;
  std::string driver_version;
  std::string pipeline_cache_uuid;
  uint64_t device_memory_bytes = 0;
  double peak_int_ops_per_second = 0;
  double memory_bytes_per_second = 0;
  std::vector<KernelThroughput> kernels;
  int64_t measured_at_unix = 0;

  // True when every kernel's output matched its CPU reference.
  bool all_match() const;
  // The benchmark still describes `device` (same device and driver); a
  // driver update or another GPU means measuring again.
  bool describes(const DeviceInfo& device) const;
  const KernelThroughput* find(const std::string& kernel) const;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(KernelThroughput, kernel, family, version, unit, items_per_second,
                                   int_ops_per_second, seconds_per_unit, matches_reference)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(HostBenchmark, device_name, device_type, driver_version, pipeline_cache_uuid,
                                   device_memory_bytes, peak_int_ops_per_second, memory_bytes_per_second, kernels,
                                   measured_at_unix)

// Called as each step starts: step index, number of steps, what it measures.
using Progress = std::function<void(size_t step, size_t steps, const std::string& what)>;

// Measures peak integer throughput, memory bandwidth and every kernel (at its
// default parameters, one warm-up and one timed run), and checks each kernel's
// small_params output against the CPU reference.
Result<HostBenchmark> benchmark_host(Device& device, const kernels::Registry& registry,
                                     const Progress& progress = {}, int64_t now_unix = 0);

}  // namespace p2c2r::runtime
