#include "runtime/benchmark.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "runtime/execute.h"

namespace p2c2r::runtime {
namespace {

struct Timing {
  double device_seconds = 0;  // GPU timestamps where the device has them, else wall
  double wall_seconds = 0;    // the whole unit: upload, run, read-back, digest
};

// One run after a warm-up (which compiles the pipeline).
Result<Timing> timed_run(Device& device, const kernels::Kernel& kernel,
                         const kernels::Params& params) {
  P2C2R_ASSIGN_OR_RETURN(auto inputs, kernel.generate_inputs(params));
  P2C2R_ASSIGN_OR_RETURN(auto warm, execute_unit(device, kernel, params, inputs));
  (void)warm;
  const auto start = std::chrono::steady_clock::now();
  P2C2R_ASSIGN_OR_RETURN(auto run, execute_unit(device, kernel, params, inputs));
  Timing t;
  t.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.device_seconds = run.stats.gpu_seconds > 0 ? run.stats.gpu_seconds : run.stats.wall_seconds;
  return t;
}

Result<bool> matches_reference(Device& device, const kernels::Kernel& kernel) {
  P2C2R_ASSIGN_OR_RETURN(auto params, kernel.resolve_params(1, kernel.small_params()));
  P2C2R_ASSIGN_OR_RETURN(auto inputs, kernel.generate_inputs(params));
  P2C2R_ASSIGN_OR_RETURN(auto run, execute_unit(device, kernel, params, inputs));
  P2C2R_ASSIGN_OR_RETURN(auto reference, kernel.reference(params, inputs, 1));
  return run.digest == digest_of(reference);
}

}  // namespace

bool HostBenchmark::all_match() const {
  for (const auto& k : kernels) {
    if (!k.matches_reference) return false;
  }
  return true;
}

bool HostBenchmark::describes(const DeviceInfo& device) const {
  return device_name == device.name && driver_version == device.driver_version &&
         pipeline_cache_uuid == device.pipeline_cache_uuid;
}

const KernelThroughput* HostBenchmark::find(const std::string& kernel) const {
  for (const auto& k : kernels) {
    if (k.kernel == kernel) return &k;
  }
  return nullptr;
}

Result<HostBenchmark> benchmark_host(Device& device, const kernels::Registry& registry,
                                     const Progress& progress, int64_t now_unix) {
  HostBenchmark b;
  const DeviceInfo& info = device.info();
  b.device_name = info.name;
  b.device_type = info.type;
  b.driver_version = info.driver_version;
  b.pipeline_cache_uuid = info.pipeline_cache_uuid;
  b.device_memory_bytes = info.device_local_bytes;
  b.measured_at_unix = now_unix;

  const auto all = registry.all();
  const size_t steps = all.size() + 2;
  size_t step = 0;
  auto report = [&](const std::string& what) {
    if (progress) progress(step, steps, what);
    ++step;
  };

  report("peak integer throughput");
  P2C2R_ASSIGN_OR_RETURN(const kernels::Kernel* peak, registry.find("peak"));
  P2C2R_ASSIGN_OR_RETURN(auto peak_params,
                         peak->resolve_params(1, {{"invocations", 1 << 20}, {"iterations", 512}}));
  P2C2R_ASSIGN_OR_RETURN(Timing peak_time, timed_run(device, *peak, peak_params));
  b.peak_int_ops_per_second = double(peak->cost(peak_params)) / peak_time.device_seconds;

  report("memory bandwidth");
  P2C2R_ASSIGN_OR_RETURN(const kernels::Kernel* bandwidth, registry.find("bandwidth"));
  P2C2R_ASSIGN_OR_RETURN(auto bw_params, bandwidth->resolve_params(1, {{"mebibytes", 64}}));
  P2C2R_ASSIGN_OR_RETURN(Timing bw_time, timed_run(device, *bandwidth, bw_params));
  b.memory_bytes_per_second = bandwidth->work_items(bw_params) / bw_time.device_seconds;

  for (const kernels::Kernel* kernel : all) {
    report(kernel->name());
    P2C2R_ASSIGN_OR_RETURN(auto params, kernel->resolve_params(1, {}));
    P2C2R_ASSIGN_OR_RETURN(Timing time, timed_run(device, *kernel, params));
    KernelThroughput t;
    t.kernel = kernel->name();
    t.family = kernel->family();
    t.version = kernel->version();
    t.unit = kernel->work_unit_name();
    t.seconds_per_unit = time.wall_seconds;
    t.items_per_second = kernel->work_items(params) / time.device_seconds;
    t.int_ops_per_second = double(kernel->cost(params)) / time.device_seconds;
    P2C2R_ASSIGN_OR_RETURN(t.matches_reference, matches_reference(device, *kernel));
    b.kernels.push_back(t);
  }
  if (progress) progress(steps, steps, "done");
  return b;
}

}  // namespace p2c2r::runtime
