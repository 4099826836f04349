// Small, fast game workloads in tests: each kernel's small_params() (for the
// AI without `batch`, which the planner sets: one NPC per body of the world),
// and a peer's kernel list at the registry's current kernel versions, so a
// version bump does not need the tests edited.
#pragma once

#include <initializer_list>
#include <vector>

#include "common/wire.h"
#include "kernels/registry.h"

namespace p2c2r::testing {

inline wire::ParamMap small_params(const kernels::Registry& registry, const char* kernel) {
  const auto given = (*registry.find(kernel))->small_params();
  return wire::ParamMap(given.begin(), given.end());
}

inline wire::ParamMap small_ai_params(const kernels::Registry& registry) {
  wire::ParamMap ai = small_params(registry, "nn_mlp");
  ai.erase("batch");
  return ai;
}

// What a peer advertises for `kernels`: each at its registered version.
inline std::vector<wire::KernelSpeed> kernel_speeds(const kernels::Registry& registry,
                                                    std::initializer_list<const char*> kernels,
                                                    double seconds_per_unit) {
  std::vector<wire::KernelSpeed> out;
  for (const char* k : kernels)
    out.push_back({k, (*registry.find(k))->version(), seconds_per_unit});
  return out;
}

inline std::vector<wire::KernelSpeed> game_kernel_speeds(const kernels::Registry& registry,
                                                         double seconds_per_unit) {
  return kernel_speeds(registry, {"nn_mlp", "physics", "raytrace", "video"}, seconds_per_unit);
}

}  // namespace p2c2r::testing
