#include "runtime/execute.h"

namespace p2c2r::runtime {

Result<UnitResult> execute_unit(Device& device, const kernels::Kernel& kernel,
                                const kernels::Params& params, const std::vector<Bytes>& inputs,
                                uint32_t local_size, std::chrono::milliseconds timeout) {
  P2C2R_RETURN_IF_ERROR(
      kernel.check_inputs(params, inputs).with_context("kernel " + kernel.name()));
  P2C2R_ASSIGN_OR_RETURN(kernels::Plan plan, kernel.plan(params, inputs, local_size));
  P2C2R_ASSIGN_OR_RETURN(RunOutput run, device.run(kernel, plan, local_size, timeout));
  auto finished = kernel.finish_output(params, std::move(run.output));
  if (!finished.ok())
    return finished.status().with_context("kernel " + kernel.name() + ": the device's output");
  Bytes output = std::move(finished).value();
  UnitResult result;
  result.digest = digest_of(output);
  result.output = std::move(output);
  result.stats = run.stats;
  return result;
}

Result<std::unique_ptr<Device>> open_device(const std::string& choice,
                                            const InstanceOptions& instance_options,
                                            const DeviceOptions& device_options) {
  P2C2R_ASSIGN_OR_RETURN(std::shared_ptr<Instance> instance, Instance::create(instance_options));
  P2C2R_ASSIGN_OR_RETURN(DeviceInfo info, instance->choose(choice));
  return Device::open(instance, info, device_options);
}

}  // namespace p2c2r::runtime
