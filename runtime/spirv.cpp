#include "runtime/spirv.h"

#include <spirv-tools/libspirv.h>
#include <spirv_cross_c.h>

#include <memory>
#include <set>

namespace p2c2r::runtime {

Status validate_spirv(std::span<const uint32_t> spirv) {
  if (spirv.size() < 5 || spirv[0] != 0x07230203u) {
    return invalid_argument("not a SPIR-V module (bad magic number or shorter than the header)");
  }
  std::unique_ptr<spv_context_t, void (*)(spv_context)> context(
      spvContextCreate(SPV_ENV_VULKAN_1_1), &spvContextDestroy);
  spv_diagnostic diagnostic = nullptr;
  spv_const_binary_t binary{spirv.data(), spirv.size()};
  const spv_result_t result = spvValidate(context.get(), &binary, &diagnostic);
  std::string why = diagnostic && diagnostic->error ? diagnostic->error : "";
  spvDiagnosticDestroy(diagnostic);
  if (result != SPV_SUCCESS) {
    return invalid_argument("SPIR-V validation failed: " + (why.empty() ? "unknown reason" : why));
  }
  return Status::Ok();
}

namespace {

using Context = std::unique_ptr<spvc_context_s, void (*)(spvc_context)>;

Status cross_error(spvc_context context, const std::string& what) {
  return invalid_argument("SPIR-V reflection: " + what + ": " +
                          spvc_context_get_last_error_string(context));
}

}  // namespace

Result<ReflectedInterface> reflect_spirv(std::span<const uint32_t> spirv) {
  spvc_context raw = nullptr;
  if (spvc_context_create(&raw) != SPVC_SUCCESS)
    return internal_error("SPIRV-Cross: out of memory");
  Context context(raw, &spvc_context_destroy);
  spvc_parsed_ir ir = nullptr;
  if (spvc_context_parse_spirv(raw, spirv.data(), spirv.size(), &ir) != SPVC_SUCCESS) {
    return cross_error(raw, "parse");
  }
  spvc_compiler compiler = nullptr;
  if (spvc_context_create_compiler(raw, SPVC_BACKEND_NONE, ir, SPVC_CAPTURE_MODE_TAKE_OWNERSHIP,
                                   &compiler) != SPVC_SUCCESS) {
    return cross_error(raw, "compiler");
  }
  if (spvc_compiler_get_execution_model(compiler) != SpvExecutionModelGLCompute) {
    return invalid_argument("SPIR-V module is not a compute shader");
  }
  spvc_resources resources = nullptr;
  if (spvc_compiler_create_shader_resources(compiler, &resources) != SPVC_SUCCESS) {
    return cross_error(raw, "resources");
  }

  // Only storage buffers and uint texel buffers are part of the kernel contract.
  const spvc_resource_type forbidden[] = {
      SPVC_RESOURCE_TYPE_UNIFORM_BUFFER, SPVC_RESOURCE_TYPE_STORAGE_IMAGE,
      SPVC_RESOURCE_TYPE_SAMPLED_IMAGE, SPVC_RESOURCE_TYPE_SEPARATE_SAMPLERS,
      SPVC_RESOURCE_TYPE_ACCELERATION_STRUCTURE};
  for (auto type : forbidden) {
    const spvc_reflected_resource* list = nullptr;
    size_t count = 0;
    spvc_resources_get_resource_list_for_type(resources, type, &list, &count);
    if (count > 0) {
      return invalid_argument(
          "SPIR-V module uses a resource other than storage buffers and texel buffers ('" +
          std::string(list[0].name) + "')");
    }
  }

  ReflectedInterface out;
  std::set<uint32_t> bindings;
  // Records one resource's binding after checking its set and uniqueness.
  auto claim = [&](const spvc_reflected_resource& r, const char* kind) -> Result<uint32_t> {
    const uint32_t set = spvc_compiler_get_decoration(compiler, r.id, SpvDecorationDescriptorSet);
    const uint32_t binding = spvc_compiler_get_decoration(compiler, r.id, SpvDecorationBinding);
    if (set != 0) {
      return invalid_argument(std::string(kind) + " '" + r.name + "' is in descriptor set " +
                              std::to_string(set) + ", only set 0 is allowed");
    }
    if (binding >= 32) {
      return invalid_argument(std::string(kind) + " '" + r.name + "' has binding " +
                              std::to_string(binding) + ", at most 31 is allowed");
    }
    if (!bindings.insert(binding).second)
      return invalid_argument("two buffers share binding " + std::to_string(binding));
    return binding;
  };
  const spvc_reflected_resource* buffers = nullptr;
  size_t buffer_count = 0;
  spvc_resources_get_resource_list_for_type(resources, SPVC_RESOURCE_TYPE_STORAGE_BUFFER, &buffers,
                                            &buffer_count);
  for (size_t i = 0; i < buffer_count; ++i) {
    P2C2R_RETURN_IF_ERROR(claim(buffers[i], "storage buffer").status());
  }
  const spvc_reflected_resource* images = nullptr;
  size_t image_count = 0;
  spvc_resources_get_resource_list_for_type(resources, SPVC_RESOURCE_TYPE_SEPARATE_IMAGE, &images,
                                            &image_count);
  for (size_t i = 0; i < image_count; ++i) {
    spvc_type type = spvc_compiler_get_type_handle(compiler, images[i].type_id);
    const spvc_type sampled =
        spvc_compiler_get_type_handle(compiler, spvc_type_get_image_sampled_type(type));
    if (spvc_type_get_image_dimension(type) != SpvDimBuffer ||
        spvc_type_get_basetype(sampled) != SPVC_BASETYPE_UINT32) {
      return invalid_argument("image '" + std::string(images[i].name) +
                              "' is not an unsigned-integer texel buffer (utextureBuffer)");
    }
    P2C2R_ASSIGN_OR_RETURN(const uint32_t binding, claim(images[i], "texel buffer"));
    out.texel_bindings |= 1u << binding;
  }
  out.binding_count = static_cast<uint32_t>(bindings.size());
  if (!bindings.empty() && *bindings.rbegin() != bindings.size() - 1) {
    return invalid_argument("buffer bindings are not contiguous from 0 (highest is " +
                            std::to_string(*bindings.rbegin()) + " with " +
                            std::to_string(bindings.size()) + " buffers)");
  }

  const spvc_reflected_resource* push = nullptr;
  size_t push_count = 0;
  spvc_resources_get_resource_list_for_type(resources, SPVC_RESOURCE_TYPE_PUSH_CONSTANT, &push,
                                            &push_count);
  if (push_count > 1) return invalid_argument("more than one push-constant block");
  if (push_count == 1) {
    size_t size = 0;
    spvc_type type = spvc_compiler_get_type_handle(compiler, push[0].base_type_id);
    if (spvc_compiler_get_declared_struct_size(compiler, type, &size) != SPVC_SUCCESS) {
      return cross_error(raw, "push-constant size");
    }
    out.push_constant_size = static_cast<uint32_t>(size);
  }

  spvc_specialization_constant x{}, y{}, z{};
  spvc_compiler_get_work_group_size_specialization_constants(compiler, &x, &y, &z);
  out.local_size_x_is_spec_constant_0 = x.id != 0 && x.constant_id == 0;
  out.local_size_y =
      spvc_compiler_get_execution_mode_argument_by_index(compiler, SpvExecutionModeLocalSize, 1);
  out.local_size_z =
      spvc_compiler_get_execution_mode_argument_by_index(compiler, SpvExecutionModeLocalSize, 2);
  return out;
}

namespace {

std::string texel_list(uint32_t mask) {
  std::string out;
  for (uint32_t b = 0; b < 32; ++b) {
    if (!(mask >> b & 1)) continue;
    out += (out.empty() ? "{" : ", ") + std::to_string(b);
  }
  return out.empty() ? "{}" : out + "}";
}

}  // namespace

Status check_shader(const kernels::Shader& shader) {
  const std::string who = "shader '" + shader.name + "'";
  P2C2R_RETURN_IF_ERROR(validate_spirv(shader.spirv).with_context(who));
  auto reflected = reflect_spirv(shader.spirv);
  if (!reflected.ok()) return reflected.status().with_context(who);
  const auto& declared = shader.interface;
  if (reflected->binding_count != declared.binding_count) {
    return invalid_argument(
        who + ": interface mismatch: module has " + std::to_string(reflected->binding_count) +
        " buffer binding(s), kernel declares " + std::to_string(declared.binding_count));
  }
  if (reflected->texel_bindings != declared.texel_bindings) {
    return invalid_argument(who + ": interface mismatch: module's texel-buffer bindings are " +
                            texel_list(reflected->texel_bindings) + ", kernel declares " +
                            texel_list(declared.texel_bindings));
  }
  if (reflected->push_constant_size != declared.push_constant_size) {
    return invalid_argument(who + ": interface mismatch: module's push-constant block is " +
                            std::to_string(reflected->push_constant_size) +
                            " bytes, kernel declares " +
                            std::to_string(declared.push_constant_size));
  }
  if (!reflected->local_size_x_is_spec_constant_0 || reflected->local_size_y != 1 ||
      reflected->local_size_z != 1) {
    return invalid_argument(who +
                            ": workgroup size must be 1-D with x from specialization constant 0 "
                            "(layout(local_size_x_id = 0) in;)");
  }
  return Status::Ok();
}

}  // namespace p2c2r::runtime
