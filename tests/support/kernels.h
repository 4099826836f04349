// The built-in kernels in tests: one registry per test binary, and lookups
// and parameter resolution that throw (gtest reports it as the test's
// failure) instead of returning errors a test would have to unwrap.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "kernels/registry.h"

namespace p2c2r::testing {

inline const kernels::Registry& builtin_kernels() {
  static const kernels::Registry registry = kernels::builtin_registry();
  return registry;
}

inline const kernels::Kernel& kernel(const std::string& name) {
  auto k = builtin_kernels().find(name);
  if (!k.ok()) throw std::runtime_error(k.status().to_string());
  return **k;
}

// `name`'s parameters: `given` completed with defaults and range-checked.
inline kernels::Params resolved(const std::string& name,
                                const std::map<std::string, int64_t>& given, uint64_t seed) {
  auto p = kernel(name).resolve_params(seed, given);
  if (!p.ok()) throw std::runtime_error(p.status().to_string());
  return *p;
}

}  // namespace p2c2r::testing
