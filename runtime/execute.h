// Running one work unit of a kernel on a device: inputs checked, plan built,
// run, output finished (Kernel::finish_output) and digested. What the CLI, the peer's executor, the benchmark and
// the server's trusted re-execution all call.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/result.h"
#include "kernels/kernel.h"
#include "runtime/device.h"

namespace p2c2r::runtime {

constexpr uint32_t kDefaultLocalSize = 64;

struct UnitResult {
  Bytes output;
  Digest digest;
  RunStats stats;
};

Result<UnitResult> execute_unit(Device& device, const kernels::Kernel& kernel,
                                const kernels::Params& params, const std::vector<Bytes>& inputs,
                                uint32_t local_size = kDefaultLocalSize,
                                std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Creates an instance and opens the device that `choice` names ("" = best).
Result<std::unique_ptr<Device>> open_device(const std::string& choice,
                                            const InstanceOptions& instance_options = {},
                                            const DeviceOptions& device_options = {});

}  // namespace p2c2r::runtime
