// Opening a device, its pipeline cache and pipelines. The run itself is in run.cpp.
#include "runtime/device.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/digest.h"
#include "runtime/internal/device_impl.h"
#include "runtime/internal/instance_impl.h"
#include "runtime/spirv.h"

namespace p2c2r::runtime {
namespace fs = std::filesystem;

Device::Impl::~Impl() {
  if (!device) return;
  if (!hung) vk::vkDeviceWaitIdle(device);
  for (auto& [key, p] : pipelines) {
    vk::vkDestroyPipeline(device, p.pipeline, nullptr);
    vk::vkDestroyPipelineLayout(device, p.layout, nullptr);
    vk::vkDestroyDescriptorSetLayout(device, p.set_layout, nullptr);
    vk::vkDestroyShaderModule(device, p.module, nullptr);
  }
  if (pipeline_cache) vk::vkDestroyPipelineCache(device, pipeline_cache, nullptr);
  if (command_pool) vk::vkDestroyCommandPool(device, command_pool, nullptr);
  vk::vkDestroyDevice(device, nullptr);
}

Result<DeviceBuffer> Device::Impl::make_buffer(uint64_t size, VkBufferUsageFlags usage,
                                               VkMemoryPropertyFlags required,
                                               VkMemoryPropertyFlags preferred) {
  VkBufferCreateInfo create{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  create.size = size;
  create.usage = usage;
  create.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkCreateBuffer(device, &create, nullptr, &buffer), "creating a buffer"));
  DeviceBuffer owner(device, buffer, VK_NULL_HANDLE, nullptr, size);

  VkMemoryRequirements req;
  vk::vkGetBufferMemoryRequirements(device, buffer, &req);
  int chosen = -1;
  for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
    const VkMemoryPropertyFlags want = pass == 0 ? (required | preferred) : required;
    for (uint32_t t = 0; t < memory.memoryTypeCount; ++t) {
      if ((req.memoryTypeBits & (1u << t)) &&
          (memory.memoryTypes[t].propertyFlags & want) == want) {
        chosen = static_cast<int>(t);
        break;
      }
    }
  }
  if (chosen < 0) return resource_exhausted("no Vulkan memory type fits a buffer of this kind");
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = static_cast<uint32_t>(chosen);
  VkDeviceMemory memory_handle = VK_NULL_HANDLE;
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkAllocateMemory(device, &alloc, nullptr, &memory_handle),
                ("allocating " + std::to_string(size) + " bytes of device memory").c_str()));
  owner.adopt_memory(memory_handle);  // `owner` now frees both on any early return below
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkBindBufferMemory(device, buffer, memory_handle, 0), "binding buffer memory"));
  if (memory.memoryTypes[chosen].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    void* mapped = nullptr;
    P2C2R_RETURN_IF_ERROR(
        vk::check(vk::vkMapMemory(device, memory_handle, 0, VK_WHOLE_SIZE, 0, &mapped),
                  "mapping buffer memory"));
    owner.set_mapped(mapped);
  }
  return owner;
}

Result<const PipelineEntry*> Device::Impl::pipeline(const kernels::Kernel& kernel,
                                                    uint32_t shader_index,
                                                    const kernels::Shader& shader,
                                                    uint32_t local_size) {
  // Keyed by the module's digest and declared interface, not just the kernel's
  // name: a different module under the same name must never reuse a pipeline.
  const std::string key = kernel.name() + "/" + std::to_string(shader_index) + "/" +
                          digest_of(ByteView(reinterpret_cast<const uint8_t*>(shader.spirv.data()),
                                             shader.spirv.size_bytes()))
                              .hex() +
                          "/" + std::to_string(shader.interface.binding_count) + "/" +
                          std::to_string(shader.interface.push_constant_size) + "/" +
                          std::to_string(shader.interface.texel_bindings) + "@" +
                          std::to_string(local_size);
  if (auto it = pipelines.find(key); it != pipelines.end()) return &it->second;

  P2C2R_RETURN_IF_ERROR(check_shader(shader).with_context("kernel " + kernel.name()));

  PipelineEntry entry;
  entry.binding_count = shader.interface.binding_count;
  entry.texel_bindings = shader.interface.texel_bindings;
  entry.push_constant_size = shader.interface.push_constant_size;
  // Destroys partially built objects if a later step fails.
  struct Cleanup {
    VkDevice device;
    PipelineEntry* e;
    ~Cleanup() {
      if (!e) return;
      if (e->pipeline) vk::vkDestroyPipeline(device, e->pipeline, nullptr);
      if (e->layout) vk::vkDestroyPipelineLayout(device, e->layout, nullptr);
      if (e->set_layout) vk::vkDestroyDescriptorSetLayout(device, e->set_layout, nullptr);
      if (e->module) vk::vkDestroyShaderModule(device, e->module, nullptr);
    }
  } cleanup{device, &entry};

  VkShaderModuleCreateInfo module{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  module.codeSize = shader.spirv.size() * 4;
  module.pCode = shader.spirv.data();
  P2C2R_RETURN_IF_ERROR(vk::check(vk::vkCreateShaderModule(device, &module, nullptr, &entry.module),
                                  "creating a shader module"));

  std::vector<VkDescriptorSetLayoutBinding> bindings(entry.binding_count);
  for (uint32_t b = 0; b < entry.binding_count; ++b) {
    bindings[b] = {b, descriptor_type(entry.texel_bindings, b), 1, VK_SHADER_STAGE_COMPUTE_BIT,
                   nullptr};
  }
  VkDescriptorSetLayoutCreateInfo set{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  set.bindingCount = entry.binding_count;
  set.pBindings = bindings.data();
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkCreateDescriptorSetLayout(device, &set, nullptr, &entry.set_layout),
                "creating a descriptor set layout"));

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, entry.push_constant_size};
  VkPipelineLayoutCreateInfo layout{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  layout.setLayoutCount = 1;
  layout.pSetLayouts = &entry.set_layout;
  layout.pushConstantRangeCount = entry.push_constant_size ? 1 : 0;
  layout.pPushConstantRanges = &range;
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkCreatePipelineLayout(device, &layout, nullptr, &entry.layout),
                "creating a pipeline layout"));

  VkSpecializationMapEntry spec_entry{0, 0, sizeof(uint32_t)};
  VkSpecializationInfo spec{1, &spec_entry, sizeof(uint32_t), &local_size};
  VkComputePipelineCreateInfo create{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  create.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  create.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  create.stage.module = entry.module;
  create.stage.pName = "main";
  create.stage.pSpecializationInfo = &spec;
  create.layout = entry.layout;
  P2C2R_RETURN_IF_ERROR(vk::check(
      vk::vkCreateComputePipelines(device, pipeline_cache, 1, &create, nullptr, &entry.pipeline),
      ("creating the pipeline for " + key).c_str()));

  cleanup.e = nullptr;
  return &pipelines.emplace(key, entry).first->second;
}

Result<std::unique_ptr<Device>> Device::open(std::shared_ptr<Instance> instance,
                                             const DeviceInfo& info, const DeviceOptions& options) {
  if (!info.usable) {
    return failed_precondition("device " + info.name + " is not usable: " + info.unusable_reason);
  }
  std::unique_ptr<Device> self(new Device());
  self->info_ = info;
  self->impl_ = std::make_unique<Impl>();
  Impl& d = *self->impl_;
  d.instance = instance;
  d.physical = instance->impl().physical_devices.at(info.index);
  d.force_staging = options.force_staging;
  d.timestamps = info.timestamps;
  d.timestamp_period_ns = info.timestamp_period_ns;
  vk::vkGetPhysicalDeviceMemoryProperties(d.physical, &d.memory);

  uint32_t family_count = 0;
  vk::vkGetPhysicalDeviceQueueFamilyProperties(d.physical, &family_count, nullptr);
  std::vector<VkQueueFamilyProperties> families(family_count);
  vk::vkGetPhysicalDeviceQueueFamilyProperties(d.physical, &family_count, families.data());
  // Prefer a compute-only family (async compute on discrete GPUs).
  int chosen = -1;
  for (uint32_t f = 0; f < family_count; ++f) {
    if (!(families[f].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
    if (chosen < 0 || !(families[f].queueFlags & VK_QUEUE_GRAPHICS_BIT))
      chosen = static_cast<int>(f);
  }
  if (chosen < 0) return failed_precondition("device " + info.name + " has no compute queue");
  d.queue_family = static_cast<uint32_t>(chosen);
  d.timestamps = d.timestamps && families[chosen].timestampValidBits > 0;

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue.queueFamilyIndex = d.queue_family;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkPhysicalDeviceFeatures features{};
  features.robustBufferAccess = VK_TRUE;  // out-of-bounds reads return 0, writes are dropped
  features.shaderInt64 = VK_TRUE;
  VkDeviceCreateInfo create{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  create.queueCreateInfoCount = 1;
  create.pQueueCreateInfos = &queue;
  create.pEnabledFeatures = &features;
  P2C2R_RETURN_IF_ERROR(vk::check(vk::vkCreateDevice(d.physical, &create, nullptr, &d.device),
                                  ("opening device " + info.name).c_str()));
  vk::vkGetDeviceQueue(d.device, d.queue_family, 0, &d.queue);

  VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool.queueFamilyIndex = d.queue_family;
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkCreateCommandPool(d.device, &pool, nullptr, &d.command_pool),
                "creating a command pool"));

  // The pipeline cache is keyed by the device's cache UUID; the driver also
  // checks the header and ignores a cache from another driver.
  std::vector<char> cached;
  if (!options.pipeline_cache_dir.empty()) {
    d.cache_path = (fs::path(options.pipeline_cache_dir) /
                    ("pipeline-cache-" + info.pipeline_cache_uuid + ".bin"))
                       .string();
    std::ifstream in(d.cache_path, std::ios::binary);
    if (in) cached.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  VkPipelineCacheCreateInfo cache{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  cache.initialDataSize = cached.size();
  cache.pInitialData = cached.empty() ? nullptr : cached.data();
  if (vk::vkCreatePipelineCache(d.device, &cache, nullptr, &d.pipeline_cache) != VK_SUCCESS) {
    // A corrupt cache file must not stop the device from working: start empty.
    cache.initialDataSize = 0;
    cache.pInitialData = nullptr;
    P2C2R_RETURN_IF_ERROR(
        vk::check(vk::vkCreatePipelineCache(d.device, &cache, nullptr, &d.pipeline_cache),
                  "creating the pipeline cache"));
  }
  return self;
}

Device::~Device() {
  if (impl_ && !impl_->hung) (void)save_pipeline_cache();
}

Status Device::save_pipeline_cache() {
  if (impl_->cache_path.empty()) return Status::Ok();
  size_t size = 0;
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkGetPipelineCacheData(impl_->device, impl_->pipeline_cache, &size, nullptr),
                "reading the pipeline cache"));
  std::vector<char> data(size);
  P2C2R_RETURN_IF_ERROR(vk::check(
      vk::vkGetPipelineCacheData(impl_->device, impl_->pipeline_cache, &size, data.data()),
      "reading the pipeline cache"));
  std::error_code ec;
  fs::create_directories(fs::path(impl_->cache_path).parent_path(), ec);
  const std::string tmp = impl_->cache_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(size));
    if (!out) return unavailable("cannot write the pipeline cache to " + tmp);
  }
  fs::rename(tmp, impl_->cache_path, ec);
  if (ec) return unavailable("cannot move the pipeline cache into place: " + ec.message());
  return Status::Ok();
}

}  // namespace p2c2r::runtime
