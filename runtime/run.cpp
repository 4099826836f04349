// Device::run: checks a plan against the device's limits, uploads its
// buffers, records every dispatch into one command buffer with barriers
// between them, waits on a fence with a timeout and reads the outputs back.
#include <chrono>
#include <cstring>
#include <map>

#include "runtime/device.h"
#include "runtime/internal/device_impl.h"

namespace p2c2r::runtime {
namespace {

// Buffer sizes are rounded up to a whole number of 16-byte words; Vulkan
// forbids zero-sized buffers and fill commands need multiples of 4.
uint64_t padded(uint64_t size) { return size == 0 ? 16 : (size + 15) / 16 * 16; }

// A plan past one of the device's fixed limits is refused with out_of_range:
// the same unit fails the same way on this device every time, which is what
// lets a peer report it unfit (wire::Report::unfit) instead of as an error.
Status check_plan(const kernels::Kernel& kernel, const std::vector<kernels::Shader>& shaders,
                  const kernels::Plan& plan, uint32_t local_size, const DeviceInfo& info) {
  const std::string who = "kernel " + kernel.name() + ": ";
  if (local_size == 0 || local_size > info.max_workgroup_invocations) {
    return invalid_argument(who + "workgroup size " + std::to_string(local_size) +
                            " is outside 1.." + std::to_string(info.max_workgroup_invocations) +
                            " for this device");
  }
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const auto& b = plan.buffers[i];
    if (b.init.size() > b.size) {
      return internal_error(who + "plan buffer " + std::to_string(i) +
                            " has more initial bytes than its size");
    }
    if (padded(b.size) > info.max_storage_buffer_range) {
      return out_of_range(who + "buffer " + std::to_string(i) + " of " + std::to_string(b.size) +
                          " bytes exceeds the device's storage-buffer limit of " +
                          std::to_string(info.max_storage_buffer_range));
    }
  }
  for (size_t i = 0; i < plan.dispatches.size(); ++i) {
    const auto& d = plan.dispatches[i];
    const std::string where = who + "dispatch " + std::to_string(i) + ": ";
    if (d.shader >= shaders.size())
      return internal_error(where + "no shader " + std::to_string(d.shader));
    const auto& iface = shaders[d.shader].interface;
    if (d.buffers.size() != iface.binding_count) {
      return internal_error(where + "binds " + std::to_string(d.buffers.size()) +
                            " buffers, shader '" + shaders[d.shader].name + "' declares " +
                            std::to_string(iface.binding_count));
    }
    for (uint32_t binding = 0; binding < d.buffers.size(); ++binding) {
      const uint32_t b = d.buffers[binding];
      if (b >= plan.buffers.size())
        return internal_error(where + "no plan buffer " + std::to_string(b));
      const uint64_t texels = padded(plan.buffers[b].size) / 16;
      if ((iface.texel_bindings >> binding & 1) && texels > info.max_texel_buffer_elements) {
        return out_of_range(where + "buffer " + std::to_string(b) + " of " +
                            std::to_string(texels) +
                            " texels exceeds the device's texel-buffer limit of " +
                            std::to_string(info.max_texel_buffer_elements));
      }
    }
    if (d.push.size() != iface.push_constant_size) {
      return internal_error(where + "pushes " + std::to_string(d.push.size()) +
                            " bytes, shader declares " + std::to_string(iface.push_constant_size));
    }
    for (uint32_t g : d.groups) {
      if (g == 0 || g > info.max_workgroup_count_x) {
        return out_of_range(where + std::to_string(g) + " workgroups is outside 1.." +
                            std::to_string(info.max_workgroup_count_x) + " for this device");
      }
    }
  }
  for (uint32_t o : plan.outputs) {
    if (o >= plan.buffers.size())
      return internal_error(who + "output names no plan buffer " + std::to_string(o));
  }
  return Status::Ok();
}

// RAII for the per-run objects that are not buffers.
struct RunObjects {
  VkDevice device = VK_NULL_HANDLE;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkDescriptorPool descriptor_pool = VK_NULL_HANDLE;
  VkCommandBuffer command_buffer = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  VkQueryPool queries = VK_NULL_HANDLE;
  std::vector<VkBufferView> views;
  // Forgets every handle without destroying it (the device may still use them).
  void leak() {
    queries = VK_NULL_HANDLE, fence = VK_NULL_HANDLE, command_buffer = VK_NULL_HANDLE,
    descriptor_pool = VK_NULL_HANDLE;
    views.clear();
  }
  ~RunObjects() {
    for (VkBufferView view : views) vk::vkDestroyBufferView(device, view, nullptr);
    if (queries) vk::vkDestroyQueryPool(device, queries, nullptr);
    if (fence) vk::vkDestroyFence(device, fence, nullptr);
    if (command_buffer) vk::vkFreeCommandBuffers(device, pool, 1, &command_buffer);
    if (descriptor_pool) vk::vkDestroyDescriptorPool(device, descriptor_pool, nullptr);
  }
};

void barrier(VkCommandBuffer cb, VkPipelineStageFlags src, VkAccessFlags src_access,
             VkPipelineStageFlags dst, VkAccessFlags dst_access) {
  VkMemoryBarrier b{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  b.srcAccessMask = src_access;
  b.dstAccessMask = dst_access;
  vk::vkCmdPipelineBarrier(cb, src, dst, 0, 1, &b, 0, nullptr, 0, nullptr);
}

}  // namespace

Result<RunOutput> Device::run(const kernels::Kernel& kernel, const kernels::Plan& plan,
                              uint32_t local_size, std::chrono::milliseconds timeout) {
  std::lock_guard lock(mutex_);
  Impl& d = *impl_;
  if (d.hung)
    return unavailable("device " + info_.name + " timed out earlier and must be reopened");
  const auto shaders = kernel.shaders();
  // Every module is validated and its interface checked (inside pipeline())
  // before the plan is compared with the declarations it relies on.
  std::vector<const PipelineEntry*> pipelines(shaders.size(), nullptr);
  for (const auto& dispatch : plan.dispatches) {
    if (dispatch.shader >= shaders.size()) {
      return internal_error("kernel " + kernel.name() + ": a dispatch names shader " +
                            std::to_string(dispatch.shader) + " of " +
                            std::to_string(shaders.size()));
    }
    if (pipelines[dispatch.shader]) continue;
    if (local_size == 0 || local_size > info_.max_workgroup_invocations)
      break;  // check_plan says why
    P2C2R_ASSIGN_OR_RETURN(
        pipelines[dispatch.shader],
        d.pipeline(kernel, dispatch.shader, shaders[dispatch.shader], local_size));
  }
  P2C2R_RETURN_IF_ERROR(check_plan(kernel, shaders, plan, local_size, info_));

  // Buffers: host-visible device memory where the device has it (lavapipe,
  // integrated GPUs, resizable BAR), otherwise device-local plus one staging
  // buffer for uploads and read-backs.
  const VkBufferUsageFlags storage =
      VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
      VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
  const VkMemoryPropertyFlags host =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  bool staged = d.force_staging;
  std::vector<DeviceBuffer> buffers;
  for (const auto& b : plan.buffers) {
    Result<DeviceBuffer> buffer =
        staged ? d.make_buffer(padded(b.size), storage, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0)
               : d.make_buffer(padded(b.size), storage, host, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (!buffer.ok()) return buffer.status().with_context("kernel " + kernel.name());
    buffers.push_back(std::move(buffer).value());
  }
  uint64_t staging_size = 0;
  std::vector<uint64_t> upload_offset(plan.buffers.size(), 0),
      readback_offset(plan.outputs.size(), 0);
  if (staged) {
    for (size_t i = 0; i < plan.buffers.size(); ++i) {
      upload_offset[i] = staging_size;
      staging_size += padded(plan.buffers[i].init.size());
    }
    for (size_t i = 0; i < plan.outputs.size(); ++i) {
      readback_offset[i] = staging_size;
      staging_size += padded(plan.buffers[plan.outputs[i]].size);
    }
  }
  DeviceBuffer staging;
  if (staged) {
    P2C2R_ASSIGN_OR_RETURN(
        staging, d.make_buffer(staging_size,
                               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               host, VK_MEMORY_PROPERTY_HOST_CACHED_BIT));
  }
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const auto& init = plan.buffers[i].init;
    if (!staged) {
      std::memset(buffers[i].mapped(), 0, buffers[i].size());
      if (!init.empty()) std::memcpy(buffers[i].mapped(), init.data(), init.size());
    } else if (!init.empty()) {
      std::memcpy(staging.mapped() + upload_offset[i], init.data(), init.size());
    }
  }

  RunObjects objects;
  objects.device = d.device;
  objects.pool = d.command_pool;

  // One descriptor set per distinct (shader, buffers) binding, so a
  // thousand-step simulation that ping-pongs two buffers needs two sets.
  std::map<std::pair<uint32_t, std::vector<uint32_t>>, VkDescriptorSet> sets;
  for (const auto& dispatch : plan.dispatches)
    sets.emplace(std::make_pair(dispatch.shader, dispatch.buffers), VK_NULL_HANDLE);
  uint32_t storage_count = 0, texel_count = 0;
  for (const auto& [key, set] : sets) {
    const PipelineEntry* p = pipelines[key.first];
    for (uint32_t b = 0; b < key.second.size(); ++b)
      ++(p->texel_bindings >> b & 1 ? texel_count : storage_count);
  }
  if (!sets.empty()) {
    // Vulkan forbids zero-sized pool entries; a shader without buffers still
    // gets its (empty) set from a pool with one storage slot.
    std::vector<VkDescriptorPoolSize> sizes{
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, std::max<uint32_t>(1, storage_count)}};
    if (texel_count) sizes.push_back({VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, texel_count});
    VkDescriptorPoolCreateInfo pool{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    pool.maxSets = static_cast<uint32_t>(sets.size());
    pool.poolSizeCount = static_cast<uint32_t>(sizes.size());
    pool.pPoolSizes = sizes.data();
    P2C2R_RETURN_IF_ERROR(
        vk::check(vk::vkCreateDescriptorPool(d.device, &pool, nullptr, &objects.descriptor_pool),
                  "creating a descriptor pool"));
  }
  // One view per buffer that some dispatch reads as texels.
  std::map<uint32_t, size_t> view_of;
  for (const auto& [key, set] : sets) {
    const PipelineEntry* p = pipelines[key.first];
    for (uint32_t b = 0; b < key.second.size(); ++b) {
      if (!(p->texel_bindings >> b & 1) || view_of.contains(key.second[b])) continue;
      VkBufferViewCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
      info.buffer = buffers[key.second[b]].get();
      info.format = VK_FORMAT_R32G32B32A32_UINT;
      info.range = VK_WHOLE_SIZE;
      VkBufferView view = VK_NULL_HANDLE;
      P2C2R_RETURN_IF_ERROR(vk::check(vk::vkCreateBufferView(d.device, &info, nullptr, &view),
                                      "creating a texel buffer view"));
      view_of[key.second[b]] = objects.views.size();
      objects.views.push_back(view);
    }
  }
  for (auto& [key, set] : sets) {
    const PipelineEntry* p = pipelines[key.first];
    VkDescriptorSetAllocateInfo alloc{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    alloc.descriptorPool = objects.descriptor_pool;
    alloc.descriptorSetCount = 1;
    alloc.pSetLayouts = &p->set_layout;
    P2C2R_RETURN_IF_ERROR(vk::check(vk::vkAllocateDescriptorSets(d.device, &alloc, &set),
                                    "allocating a descriptor set"));
    std::vector<VkDescriptorBufferInfo> infos(key.second.size());
    std::vector<VkWriteDescriptorSet> writes(key.second.size());
    for (size_t b = 0; b < key.second.size(); ++b) {
      writes[b] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      writes[b].dstSet = set;
      writes[b].dstBinding = static_cast<uint32_t>(b);
      writes[b].descriptorCount = 1;
      writes[b].descriptorType = descriptor_type(p->texel_bindings, static_cast<uint32_t>(b));
      if (writes[b].descriptorType == VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER) {
        writes[b].pTexelBufferView = &objects.views[view_of.at(key.second[b])];
      } else {
        infos[b] = {buffers[key.second[b]].get(), 0, VK_WHOLE_SIZE};
        writes[b].pBufferInfo = &infos[b];
      }
    }
    vk::vkUpdateDescriptorSets(d.device, static_cast<uint32_t>(writes.size()), writes.data(), 0,
                               nullptr);
  }

  VkCommandBufferAllocateInfo cb_alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  cb_alloc.commandPool = d.command_pool;
  cb_alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cb_alloc.commandBufferCount = 1;
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkAllocateCommandBuffers(d.device, &cb_alloc, &objects.command_buffer),
                "allocating a command buffer"));
  if (d.timestamps) {
    VkQueryPoolCreateInfo q{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    q.queryType = VK_QUERY_TYPE_TIMESTAMP;
    q.queryCount = 2;
    P2C2R_RETURN_IF_ERROR(vk::check(vk::vkCreateQueryPool(d.device, &q, nullptr, &objects.queries),
                                    "creating a timestamp query pool"));
  }

  VkCommandBuffer cb = objects.command_buffer;
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  P2C2R_RETURN_IF_ERROR(vk::check(vk::vkBeginCommandBuffer(cb, &begin), "recording commands"));
  if (staged) {
    for (size_t i = 0; i < plan.buffers.size(); ++i) {
      vk::vkCmdFillBuffer(cb, buffers[i].get(), 0, VK_WHOLE_SIZE, 0);
    }
    barrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
    for (size_t i = 0; i < plan.buffers.size(); ++i) {
      if (plan.buffers[i].init.empty()) continue;
      VkBufferCopy copy{upload_offset[i], 0, plan.buffers[i].init.size()};
      vk::vkCmdCopyBuffer(cb, staging.get(), buffers[i].get(), 1, &copy);
    }
    barrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  }
  if (objects.queries) {
    vk::vkCmdResetQueryPool(cb, objects.queries, 0, 2);
    vk::vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, objects.queries, 0);
  }
  for (size_t i = 0; i < plan.dispatches.size(); ++i) {
    const auto& dispatch = plan.dispatches[i];
    const PipelineEntry* p = pipelines[dispatch.shader];
    if (i > 0) {
      barrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
              VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
    }
    vk::vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    VkDescriptorSet set = sets.at({dispatch.shader, dispatch.buffers});
    vk::vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0,
                                nullptr);
    if (!dispatch.push.empty()) {
      vk::vkCmdPushConstants(cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                             static_cast<uint32_t>(dispatch.push.size()), dispatch.push.data());
    }
    vk::vkCmdDispatch(cb, dispatch.groups[0], dispatch.groups[1], dispatch.groups[2]);
  }
  if (objects.queries)
    vk::vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, objects.queries, 1);
  if (staged) {
    barrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
            VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    for (size_t i = 0; i < plan.outputs.size(); ++i) {
      VkBufferCopy copy{0, readback_offset[i], padded(plan.buffers[plan.outputs[i]].size)};
      vk::vkCmdCopyBuffer(cb, buffers[plan.outputs[i]].get(), staging.get(), 1, &copy);
    }
  }
  barrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
          VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
          VK_ACCESS_HOST_READ_BIT);
  P2C2R_RETURN_IF_ERROR(vk::check(vk::vkEndCommandBuffer(cb), "recording commands"));

  VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkCreateFence(d.device, &fence, nullptr, &objects.fence), "creating a fence"));
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cb;
  const auto start = std::chrono::steady_clock::now();
  P2C2R_RETURN_IF_ERROR(
      vk::check(vk::vkQueueSubmit(d.queue, 1, &submit, objects.fence), "submitting work"));
  const VkResult waited = vk::vkWaitForFences(d.device, 1, &objects.fence, VK_TRUE,
                                              static_cast<uint64_t>(timeout.count()) * 1000000ull);
  if (waited != VK_SUCCESS) {
    // The device may still be using every object of this run: leave them
    // allocated and refuse further runs; the process owning the device (the
    // sandboxed executor) is expected to be restarted.
    d.hung = true;
    objects.leak();
    for (auto& b : buffers) b.leak();
    staging.leak();
    return vk::check(waited == VK_TIMEOUT ? VK_TIMEOUT : waited,
                     ("kernel " + kernel.name() + " did not finish within " +
                      std::to_string(timeout.count()) + " ms")
                         .c_str());
  }
  RunOutput result;
  result.stats.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.stats.dispatches = static_cast<uint32_t>(plan.dispatches.size());
  if (objects.queries) {
    uint64_t stamps[2] = {0, 0};
    if (vk::vkGetQueryPoolResults(
            d.device, objects.queries, 0, 2, sizeof(stamps), stamps, sizeof(uint64_t),
            VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS) {
      result.stats.gpu_seconds = double(stamps[1] - stamps[0]) * d.timestamp_period_ns * 1e-9;
    }
  }
  uint64_t total = 0;
  for (uint32_t o : plan.outputs) total += plan.buffers[o].size;
  result.output.reserve(total);
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    const uint8_t* src =
        staged ? staging.mapped() + readback_offset[i] : buffers[plan.outputs[i]].mapped();
    result.output.insert(result.output.end(), src, src + plan.buffers[plan.outputs[i]].size);
  }
  return result;
}

}  // namespace p2c2r::runtime
