#include "kernels/registry.h"

#include <algorithm>
#include <stdexcept>

#include "builtin_families.inc"

namespace p2c2r::kernels {

void Registry::add(std::unique_ptr<Kernel> kernel) {
  for (const auto& k : kernels_) {
    if (k->name() == kernel->name())
      throw std::logic_error("kernel registered twice: " + k->name());
  }
  kernels_.push_back(std::move(kernel));
}

Result<const Kernel*> Registry::find(const std::string& name) const {
  for (const auto& k : kernels_) {
    if (k->name() == name) return k.get();
  }
  std::string names;
  for (const Kernel* k : all()) names += (names.empty() ? "" : ", ") + k->name();
  return not_found("unknown kernel '" + name + "' (known: " + names + ")");
}

std::vector<const Kernel*> Registry::all() const {
  std::vector<const Kernel*> out;
  for (const auto& k : kernels_) out.push_back(k.get());
  std::sort(out.begin(), out.end(),
            [](const Kernel* a, const Kernel* b) { return a->name() < b->name(); });
  return out;
}

Registry builtin_registry() {
  Registry registry;
  register_builtin_families(registry);
  return registry;
}

}  // namespace p2c2r::kernels
