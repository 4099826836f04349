#include "runtime/internal/vk_loader.h"

#include <dlfcn.h>

#include <mutex>

namespace p2c2r::runtime::vk {

#define P2C2R_DEFINE(name) PFN_##name name = nullptr;
P2C2R_VK_GLOBAL_FUNCTIONS(P2C2R_DEFINE)
P2C2R_VK_INSTANCE_FUNCTIONS(P2C2R_DEFINE)
P2C2R_VK_DEVICE_FUNCTIONS(P2C2R_DEFINE)
#undef P2C2R_DEFINE

namespace {
PFN_vkGetInstanceProcAddr g_get_instance_proc_addr = nullptr;
}

Status load_loader() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    void* lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      status = internal_error(
          "the Vulkan loader (libvulkan.so.1) is not installed; install it with "
          "'apt-get install libvulkan1 mesa-vulkan-drivers'");
      return;
    }
    g_get_instance_proc_addr =
        reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
    if (!g_get_instance_proc_addr) {
      status = internal_error("libvulkan.so.1 has no vkGetInstanceProcAddr; reinstall libvulkan1");
      return;
    }
#define P2C2R_LOAD(name) \
  name = reinterpret_cast<PFN_##name>(g_get_instance_proc_addr(nullptr, #name));
    P2C2R_VK_GLOBAL_FUNCTIONS(P2C2R_LOAD)
#undef P2C2R_LOAD
    if (!vkCreateInstance) status = internal_error("the Vulkan loader lacks vkCreateInstance");
  });
  return status;
}

void load_instance_functions(VkInstance instance) {
#define P2C2R_LOAD(name) \
  name = reinterpret_cast<PFN_##name>(g_get_instance_proc_addr(instance, #name));
  P2C2R_VK_INSTANCE_FUNCTIONS(P2C2R_LOAD)
  P2C2R_VK_DEVICE_FUNCTIONS(P2C2R_LOAD)
#undef P2C2R_LOAD
}

const char* result_name(VkResult result) {
  switch (result) {
#define P2C2R_CASE(r) \
  case r:             \
    return #r;
    P2C2R_CASE(VK_SUCCESS)
    P2C2R_CASE(VK_NOT_READY)
    P2C2R_CASE(VK_TIMEOUT)
    P2C2R_CASE(VK_INCOMPLETE)
    P2C2R_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    P2C2R_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    P2C2R_CASE(VK_ERROR_INITIALIZATION_FAILED)
    P2C2R_CASE(VK_ERROR_DEVICE_LOST)
    P2C2R_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    P2C2R_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    P2C2R_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    P2C2R_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    P2C2R_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    P2C2R_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    P2C2R_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    P2C2R_CASE(VK_ERROR_FRAGMENTED_POOL)
    P2C2R_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    P2C2R_CASE(VK_ERROR_INVALID_SHADER_NV)
#undef P2C2R_CASE
    default:
      return "VK_ERROR_UNKNOWN";
  }
}

Status check(VkResult result, const char* what) {
  if (result == VK_SUCCESS) return Status::Ok();
  std::string message = std::string(what) + " failed: " + result_name(result);
  switch (result) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
    case VK_ERROR_TOO_MANY_OBJECTS:
      return resource_exhausted(message);
    case VK_TIMEOUT:
      return deadline_exceeded(message);
    case VK_ERROR_DEVICE_LOST:
      return unavailable(message + " (the GPU was reset or hung)");
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return internal_error(message +
                            " (no Vulkan driver found; install 'mesa-vulkan-drivers' for lavapipe "
                            "or your GPU vendor's Vulkan driver)");
    default:
      return internal_error(message);
  }
}

}  // namespace p2c2r::runtime::vk
