// Internal state of an open device and RAII wrappers for the Vulkan objects a
// run creates. Not part of the runtime's interface.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/device.h"
#include "runtime/internal/vk_loader.h"

namespace p2c2r::runtime {

// Owns one VkBuffer and its memory; maps it when host-visible.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(VkDevice device, VkBuffer buffer, VkDeviceMemory memory, void* mapped, uint64_t size)
      : device_(device), buffer_(buffer), memory_(memory), mapped_(mapped), size_(size) {}
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      device_ = std::exchange(o.device_, VK_NULL_HANDLE);
      buffer_ = std::exchange(o.buffer_, VK_NULL_HANDLE);
      memory_ = std::exchange(o.memory_, VK_NULL_HANDLE);
      mapped_ = std::exchange(o.mapped_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { reset(); }
  void reset() {
    if (buffer_) vk::vkDestroyBuffer(device_, buffer_, nullptr);
    if (memory_) vk::vkFreeMemory(device_, memory_, nullptr);  // unmaps implicitly
    buffer_ = VK_NULL_HANDLE;
    memory_ = VK_NULL_HANDLE;
    mapped_ = nullptr;
  }
  // Forgets the handles without destroying them (a hung device may still use them).
  void leak() { buffer_ = VK_NULL_HANDLE, memory_ = VK_NULL_HANDLE, mapped_ = nullptr; }
  // Takes ownership of the memory bound to the buffer.
  void adopt_memory(VkDeviceMemory memory) { memory_ = memory; }
  void set_mapped(void* mapped) { mapped_ = mapped; }
  VkBuffer get() const { return buffer_; }
  uint8_t* mapped() const { return static_cast<uint8_t*>(mapped_); }
  uint64_t size() const { return size_; }

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  void* mapped_ = nullptr;
  uint64_t size_ = 0;
};

// A shader ready to dispatch: module, layouts and pipeline at one local size.
struct PipelineEntry {
  VkShaderModule module = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  uint32_t binding_count = 0;
  uint32_t texel_bindings = 0;  // bit b: binding b is a uniform texel buffer
  uint32_t push_constant_size = 0;
};

inline VkDescriptorType descriptor_type(uint32_t texel_bindings, uint32_t binding) {
  return texel_bindings >> binding & 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                       : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
}

struct Device::Impl {
  std::shared_ptr<Instance> instance;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  VkCommandPool command_pool = VK_NULL_HANDLE;
  VkPipelineCache pipeline_cache = VK_NULL_HANDLE;
  VkPhysicalDeviceMemoryProperties memory{};
  std::string cache_path;
  bool force_staging = false;
  bool timestamps = false;
  double timestamp_period_ns = 0;
  // Set when a run timed out: its resources may still be in use by the device.
  bool hung = false;
  // Keyed by kernel, shader index, module digest, interface and local size.
  std::map<std::string, PipelineEntry> pipelines;

  ~Impl();
  Result<DeviceBuffer> make_buffer(uint64_t size, VkBufferUsageFlags usage,
                                   VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred);
  Result<const PipelineEntry*> pipeline(const kernels::Kernel& kernel, uint32_t shader_index,
                                        const kernels::Shader& shader, uint32_t local_size);
};

}  // namespace p2c2r::runtime
