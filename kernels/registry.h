// The kernel registry: every kernel this build can run, by name.
//
// Families register themselves through a `register_<family>_kernels`
// function in kernels/<family>/; the build generates the list, so adding a
// family is adding a folder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "kernels/kernel.h"

namespace p2c2r::kernels {

class Registry {
 public:
  Registry() = default;
  Registry(Registry&&) = default;
  Registry& operator=(Registry&&) = default;

  void add(std::unique_ptr<Kernel> kernel);
  // The kernel with this name, or a not-found error listing what exists.
  Result<const Kernel*> find(const std::string& name) const;
  // Every kernel, sorted by name.
  std::vector<const Kernel*> all() const;

 private:
  std::vector<std::unique_ptr<Kernel>> kernels_;
};

// A registry with every built-in kernel family.
Registry builtin_registry();

}  // namespace p2c2r::kernels
