// SPIR-V gatekeeping: nothing reaches the Vulkan driver before it has been
// validated by SPIRV-Tools and its interface reflected by SPIRV-Cross and
// compared with what the kernel declares. A module that fails either check is
// refused with an error naming the problem.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "kernels/kernel.h"

namespace p2c2r::runtime {

// What reflection finds in a compute module.
struct ReflectedInterface {
  uint32_t binding_count = 0;       // buffers in set 0, bindings 0..n-1
  uint32_t texel_bindings = 0;      // bit b: binding b is a uvec4 uniform texel buffer
  uint32_t push_constant_size = 0;  // bytes of the push-constant block, 0 if none
  bool local_size_x_is_spec_constant_0 = false;
  uint32_t local_size_y = 1;
  uint32_t local_size_z = 1;
};

// Validates `spirv` for the Vulkan 1.1 environment.
Status validate_spirv(std::span<const uint32_t> spirv);

// Reflects a validated compute module. Fails if it uses resources other than
// storage buffers and unsigned-integer texel buffers (`utextureBuffer`) in
// set 0 with contiguous bindings.
Result<ReflectedInterface> reflect_spirv(std::span<const uint32_t> spirv);

// Validates, reflects and compares against the shader's declaration.
Status check_shader(const kernels::Shader& shader);

}  // namespace p2c2r::runtime
