#pragma once

#include "runtime/device.h"
#include "runtime/internal/vk_loader.h"

namespace p2c2r::runtime {

struct Instance::Impl {
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  std::vector<VkPhysicalDevice> physical_devices;
};

}  // namespace p2c2r::runtime
