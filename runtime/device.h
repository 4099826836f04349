// The Vulkan compute runtime: finds devices, opens one, and runs kernel plans
// on it.
//
// Device choice prefers a discrete GPU, then an integrated one, then a
// virtual one, then a CPU implementation such as lavapipe; `--device` picks by
// index or by a substring of the name. A device is usable for P2C2R when it
// has a compute queue, Vulkan 1.1, robustBufferAccess and shaderInt64.
//
// Device::run takes a kernel and a plan, checks every shader (SPIR-V
// validation, interface reflection) before it reaches the driver, and returns
// the output bytes and the GPU time. Every Vulkan failure is a Status.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "kernels/kernel.h"

namespace p2c2r::runtime {

struct DeviceInfo {
  uint32_t index = 0;
  std::string name;
  std::string type;  // "discrete", "integrated", "virtual", "cpu", "other"
  std::string driver_version;
  std::string api_version;
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;
  std::string pipeline_cache_uuid;  // hex
  uint64_t device_local_bytes = 0;
  uint64_t host_visible_bytes = 0;
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_workgroup_count_x = 0;
  uint32_t max_push_constants_bytes = 0;
  uint64_t max_storage_buffer_range = 0;
  uint64_t max_texel_buffer_elements = 0;
  bool compute_queue = false;
  bool shader_int64 = false;
  bool robust_buffer_access = false;
  bool timestamps = false;
  double timestamp_period_ns = 0;
  bool usable = false;
  std::string unusable_reason;  // empty when usable
};

struct InstanceOptions {
  bool validation = false;  // enable VK_LAYER_KHRONOS_validation, messages to stderr
};

// The process's Vulkan instance. Devices keep it alive.
class Instance {
 public:
  static Result<std::shared_ptr<Instance>> create(const InstanceOptions& options = {});
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  const std::vector<DeviceInfo>& devices() const { return devices_; }
  // "" picks the best usable device; a number picks by index; anything else
  // picks the first usable device whose name contains it (case-insensitive).
  Result<DeviceInfo> choose(const std::string& choice) const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  Instance() = default;
  std::unique_ptr<Impl> impl_;
  std::vector<DeviceInfo> devices_;
};

struct DeviceOptions {
  // Where the pipeline cache lives on disk; empty disables the disk cache.
  std::string pipeline_cache_dir;
  // Use device-local buffers with staging copies even where host-visible
  // device memory exists (the discrete-GPU path, testable on lavapipe).
  bool force_staging = false;
};

struct RunStats {
  double gpu_seconds = 0;   // from timestamps, 0 if the device has none
  double wall_seconds = 0;  // submit to fence, including transfers
  uint32_t dispatches = 0;
};

struct RunOutput {
  Bytes output;
  RunStats stats;
};

class Device {
 public:
  static Result<std::unique_ptr<Device>> open(std::shared_ptr<Instance> instance,
                                              const DeviceInfo& info,
                                              const DeviceOptions& options = {});
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceInfo& info() const { return info_; }

  // Runs `plan` (made by kernel.plan(..., local_size)) and returns the output.
  // Fails with kDeadlineExceeded if the device does not finish within `timeout`.
  // Thread-safe: runs are serialised on the device's queue.
  Result<RunOutput> run(const kernels::Kernel& kernel, const kernels::Plan& plan,
                        uint32_t local_size,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Writes the pipeline cache to disk (also done by the destructor).
  Status save_pipeline_cache();

  struct Impl;

 private:
  Device() = default;
  DeviceInfo info_;
  std::unique_ptr<Impl> impl_;
  std::mutex mutex_;
};

}  // namespace p2c2r::runtime
