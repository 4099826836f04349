#include "validator/comparator.h"

namespace p2c2r::validator {

bool ToleranceComparator::equivalent(const Digest& a, ByteView a_output, const Digest& b,
                                     ByteView b_output) const {
  if (a == b) return true;
  if (a_output.empty() || b_output.empty()) return false;
  return within_tolerance(a_output, b_output);
}

const ResultComparator& bitwise_comparator() {
  static const BitwiseComparator bitwise;
  return bitwise;
}

Status ComparatorRegistry::add(const std::string& kernel,
                               std::shared_ptr<const ResultComparator> comparator) {
  if (kernel.empty()) return invalid_argument("comparator registered without a kernel name");
  if (!comparator) return invalid_argument("null comparator for kernel '" + kernel + "'");
  if (!by_kernel_.emplace(kernel, std::move(comparator)).second)
    return already_exists("kernel '" + kernel + "' already has a comparator");
  return Status::Ok();
}

const ResultComparator& ComparatorRegistry::for_kernel(const std::string& kernel) const {
  auto it = by_kernel_.find(kernel);
  return it == by_kernel_.end() ? bitwise_comparator() : *it->second;
}

}  // namespace p2c2r::validator
