#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "common/bytes.h"
#include "runtime/device.h"
#include "runtime/internal/instance_impl.h"

namespace p2c2r::runtime {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT,
    const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
  const char* level =
      severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning";
  std::fprintf(stderr, "vulkan validation %s: %s\n", level, data->pMessage);
  return VK_FALSE;
}

std::string version_string(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) +
         "." + std::to_string(VK_API_VERSION_PATCH(v));
}

std::string type_name(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return "cpu";
    default:
      return "other";
  }
}

int type_rank(const std::string& type) {
  if (type == "discrete") return 0;
  if (type == "integrated") return 1;
  if (type == "virtual") return 2;
  if (type == "cpu") return 3;
  return 4;
}

DeviceInfo describe(VkPhysicalDevice pd, uint32_t index) {
  DeviceInfo info;
  info.index = index;
  VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &driver};
  vk::vkGetPhysicalDeviceProperties2(pd, &props2);
  const auto& props = props2.properties;
  info.name = props.deviceName;
  info.type = type_name(props.deviceType);
  info.api_version = version_string(props.apiVersion);
  info.driver_version = driver.driverName[0]
                            ? std::string(driver.driverName) + " " + driver.driverInfo
                            : std::to_string(props.driverVersion);
  info.vendor_id = props.vendorID;
  info.device_id = props.deviceID;
  info.pipeline_cache_uuid = to_hex(ByteView(props.pipelineCacheUUID, VK_UUID_SIZE));
  info.max_workgroup_invocations = props.limits.maxComputeWorkGroupInvocations;
  info.max_workgroup_count_x = props.limits.maxComputeWorkGroupCount[0];
  info.max_push_constants_bytes = props.limits.maxPushConstantsSize;
  info.max_storage_buffer_range = props.limits.maxStorageBufferRange;
  info.max_texel_buffer_elements = props.limits.maxTexelBufferElements;
  info.timestamp_period_ns = props.limits.timestampPeriod;

  VkPhysicalDeviceMemoryProperties memory;
  vk::vkGetPhysicalDeviceMemoryProperties(pd, &memory);
  for (uint32_t h = 0; h < memory.memoryHeapCount; ++h) {
    if (memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
      info.device_local_bytes += memory.memoryHeaps[h].size;
    }
  }
  for (uint32_t t = 0; t < memory.memoryTypeCount; ++t) {
    if (memory.memoryTypes[t].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
      info.host_visible_bytes = std::max(info.host_visible_bytes,
                                         memory.memoryHeaps[memory.memoryTypes[t].heapIndex].size);
    }
  }

  uint32_t family_count = 0;
  vk::vkGetPhysicalDeviceQueueFamilyProperties(pd, &family_count, nullptr);
  std::vector<VkQueueFamilyProperties> families(family_count);
  vk::vkGetPhysicalDeviceQueueFamilyProperties(pd, &family_count, families.data());
  for (const auto& f : families) {
    if (f.queueFlags & VK_QUEUE_COMPUTE_BIT) {
      info.compute_queue = true;
      info.timestamps =
          info.timestamps || (f.timestampValidBits > 0 && props.limits.timestampPeriod > 0);
    }
  }
  VkPhysicalDeviceFeatures features;
  vk::vkGetPhysicalDeviceFeatures(pd, &features);
  info.shader_int64 = features.shaderInt64;
  info.robust_buffer_access = features.robustBufferAccess;

  if (!info.compute_queue)
    info.unusable_reason = "no compute queue";
  else if (props.apiVersion < VK_API_VERSION_1_1)
    info.unusable_reason = "Vulkan 1.1 required";
  else if (!info.robust_buffer_access)
    info.unusable_reason = "no robustBufferAccess";
  else if (!info.shader_int64)
    info.unusable_reason = "no shaderInt64";
  else if (info.max_workgroup_invocations < 128)
    info.unusable_reason = "workgroups under 128 invocations";
  info.usable = info.unusable_reason.empty();
  return info;
}

bool has_layer(const char* name) {
  uint32_t count = 0;
  vk::vkEnumerateInstanceLayerProperties(&count, nullptr);
  std::vector<VkLayerProperties> layers(count);
  vk::vkEnumerateInstanceLayerProperties(&count, layers.data());
  for (const auto& l : layers) {
    if (std::strcmp(l.layerName, name) == 0) return true;
  }
  return false;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

Result<std::shared_ptr<Instance>> Instance::create(const InstanceOptions& options) {
  P2C2R_RETURN_IF_ERROR(vk::load_loader());
  std::shared_ptr<Instance> self(new Instance());
  self->impl_ = std::make_unique<Impl>();

  std::vector<const char*> layers, extensions;
  if (options.validation) {
    if (!has_layer(kValidationLayer)) {
      return internal_error(
          "Vulkan validation was requested but VK_LAYER_KHRONOS_validation is not installed; "
          "install it with 'apt-get install vulkan-validationlayers'");
    }
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "p2c2r";
  app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo create{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  create.pApplicationInfo = &app;
  create.enabledLayerCount = static_cast<uint32_t>(layers.size());
  create.ppEnabledLayerNames = layers.data();
  create.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  create.ppEnabledExtensionNames = extensions.data();
  P2C2R_RETURN_IF_ERROR(vk::check(vk::vkCreateInstance(&create, nullptr, &self->impl_->instance),
                                  "creating the Vulkan instance"));
  vk::load_instance_functions(self->impl_->instance);

  if (options.validation) {
    VkDebugUtilsMessengerCreateInfoEXT m{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    m.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                        VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    m.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    m.pfnUserCallback = &on_validation_message;
    P2C2R_RETURN_IF_ERROR(
        vk::check(vk::vkCreateDebugUtilsMessengerEXT(self->impl_->instance, &m, nullptr,
                                                     &self->impl_->messenger),
                  "creating the validation messenger"));
  }

  uint32_t count = 0;
  P2C2R_RETURN_IF_ERROR(vk::check(
      vk::vkEnumeratePhysicalDevices(self->impl_->instance, &count, nullptr), "listing devices"));
  self->impl_->physical_devices.resize(count);
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkEnumeratePhysicalDevices(self->impl_->instance, &count,
                                               self->impl_->physical_devices.data()),
                "listing devices"));
  for (uint32_t i = 0; i < count; ++i) {
    self->devices_.push_back(describe(self->impl_->physical_devices[i], i));
  }
  return self;
}

Instance::~Instance() {
  if (!impl_) return;
  if (impl_->messenger)
    vk::vkDestroyDebugUtilsMessengerEXT(impl_->instance, impl_->messenger, nullptr);
  if (impl_->instance) vk::vkDestroyInstance(impl_->instance, nullptr);
}

Result<DeviceInfo> Instance::choose(const std::string& choice) const {
  if (devices_.empty()) {
    return not_found(
        "no Vulkan device found; install 'mesa-vulkan-drivers' (lavapipe, runs on the CPU) or "
        "your GPU vendor's Vulkan driver");
  }
  if (choice.empty()) {
    const DeviceInfo* best = nullptr;
    for (const auto& d : devices_) {
      if (d.usable && (!best || type_rank(d.type) < type_rank(best->type))) best = &d;
    }
    if (!best) {
      return not_found("no usable Vulkan device: " + devices_[0].name + " has " +
                       devices_[0].unusable_reason + " (see 'p2c2r devices')");
    }
    return *best;
  }
  const bool numeric =
      std::all_of(choice.begin(), choice.end(), [](unsigned char c) { return std::isdigit(c); });
  for (const auto& d : devices_) {
    const bool match = numeric ? std::to_string(d.index) == choice
                               : lower(d.name).find(lower(choice)) != std::string::npos;
    if (!match) continue;
    if (!d.usable) {
      return failed_precondition("device " + std::to_string(d.index) + " (" + d.name +
                                 ") is not usable: " + d.unusable_reason);
    }
    return d;
  }
  std::string names;
  for (const auto& d : devices_)
    names += (names.empty() ? "" : ", ") + std::to_string(d.index) + ": " + d.name;
  return not_found("no Vulkan device matches --device '" + choice + "' (devices: " + names + ")");
}

}  // namespace p2c2r::runtime
