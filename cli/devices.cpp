// p2c2r devices: what Vulkan devices this machine has and whether we can use them.
#include <iomanip>
#include <nlohmann/json.hpp>

#include "cli/options.h"

namespace p2c2r::cli {

static std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

int devices_command(const Args& args) {
  po::options_description options("devices options");
  bool json = false, validation = false;
  options.add_options()("json", po::bool_switch(&json), "print a JSON list")(
      "validation", po::bool_switch(&validation), "enable the Vulkan validation layers");
  po::variables_map vm;
  if (auto code = parse("devices", "[--json]", args, options, vm)) return *code;

  auto instance = runtime::Instance::create({.validation = validation});
  if (!instance.ok()) return fail("devices", instance.status());
  const auto& devices = (*instance)->devices();
  auto best = (*instance)->choose("");

  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : devices) {
      out.push_back({{"index", d.index},
                     {"name", d.name},
                     {"type", d.type},
                     {"driver", d.driver_version},
                     {"api_version", d.api_version},
                     {"vendor_id", d.vendor_id},
                     {"device_id", d.device_id},
                     {"device_local_bytes", d.device_local_bytes},
                     {"host_visible_bytes", d.host_visible_bytes},
                     {"max_workgroup_invocations", d.max_workgroup_invocations},
                     {"features",
                      {{"compute_queue", d.compute_queue},
                       {"shader_int64", d.shader_int64},
                       {"robust_buffer_access", d.robust_buffer_access},
                       {"timestamps", d.timestamps}}},
                     {"usable", d.usable},
                     {"unusable_reason", d.unusable_reason},
                     {"default", best.ok() && best->index == d.index}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (devices.empty()) {
    return fail("devices", not_found("no Vulkan device found; install 'mesa-vulkan-drivers' "
                                     "(lavapipe) or your GPU vendor's Vulkan driver"));
  }
  for (const auto& d : devices) {
    const bool is_default = best.ok() && best->index == d.index;
    std::cout << "[" << d.index << "] " << d.name << (is_default ? "  (default)" : "") << "\n"
              << "    type        " << d.type << "\n"
              << "    driver      " << d.driver_version << "\n"
              << "    api         Vulkan " << d.api_version << "\n"
              << "    memory      " << mib(d.device_local_bytes) << " device-local, "
              << mib(d.host_visible_bytes) << " host-visible\n"
              << "    workgroups  up to " << d.max_workgroup_invocations << " invocations\n"
              << "    features    compute queue " << (d.compute_queue ? "yes" : "no")
              << ", shaderInt64 " << (d.shader_int64 ? "yes" : "no") << ", robustBufferAccess "
              << (d.robust_buffer_access ? "yes" : "no") << ", timestamps "
              << (d.timestamps ? "yes" : "no") << "\n"
              << "    usable      " << (d.usable ? "yes" : "no: " + d.unusable_reason) << "\n";
  }
  return 0;
}

}  // namespace p2c2r::cli
