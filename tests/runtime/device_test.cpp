#include "runtime/device.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kernels/registry.h"
#include "runtime/execute.h"

namespace p2c2r {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<runtime::Instance> instance() {
  auto i = runtime::Instance::create();
  if (!i.ok()) throw std::runtime_error(i.status().to_string());
  return *i;
}

TEST(DeviceTest, ListsLavapipeAsUsable) {
  auto inst = instance();
  bool found = false;
  for (const auto& d : inst->devices()) {
    if (d.name.find("llvmpipe") != std::string::npos) {
      found = true;
      EXPECT_TRUE(d.usable) << d.unusable_reason;
      EXPECT_EQ(d.type, "cpu");
      EXPECT_TRUE(d.robust_buffer_access);
    }
  }
  EXPECT_TRUE(found);
}

TEST(DeviceTest, ChoosesByIndexAndByNameSubstring) {
  auto inst = instance();
  auto by_index = inst->choose("0");
  ASSERT_TRUE(by_index.ok()) << by_index.status().to_string();
  EXPECT_EQ(by_index->index, 0u);
  auto by_name = inst->choose("LLVMPIPE");
  ASSERT_TRUE(by_name.ok());
  EXPECT_NE(by_name->name.find("llvmpipe"), std::string::npos);
  auto best = inst->choose("");
  ASSERT_TRUE(best.ok());
}

TEST(DeviceTest, UnknownDeviceChoiceNamesTheDevicesThereAre) {
  auto inst = instance();
  auto none = inst->choose("no-such-gpu");
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("llvmpipe"), std::string::npos) << none.status().message();
  EXPECT_EQ(inst->choose("99").status().code(), Code::kNotFound);
}

TEST(DeviceTest, WritesAndReusesThePipelineCache) {
  const fs::path dir = fs::temp_directory_path() / ("p2c2r-cache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto registry = kernels::builtin_registry();
  const kernels::Kernel* peak = *registry.find("peak");
  auto params = peak->resolve_params(3, peak->small_params());
  ASSERT_TRUE(params.ok());
  Digest first;
  for (int round = 0; round < 2; ++round) {
    auto device = runtime::open_device("", {}, {.pipeline_cache_dir = dir.string()});
    ASSERT_TRUE(device.ok()) << device.status().to_string();
    auto run = runtime::execute_unit(**device, *peak, *params, {});
    ASSERT_TRUE(run.ok()) << run.status().to_string();
    if (round == 0)
      first = run->digest;
    else
      EXPECT_EQ(run->digest, first);
  }
  ASSERT_TRUE(fs::exists(dir));
  EXPECT_FALSE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(DeviceTest, CorruptPipelineCacheFileIsIgnored) {
  const fs::path dir = fs::temp_directory_path() / ("p2c2r-badcache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto inst = instance();
  auto info = inst->choose("");
  ASSERT_TRUE(info.ok());
  fs::create_directories(dir);
  {
    std::ofstream out(dir / ("pipeline-cache-" + info->pipeline_cache_uuid + ".bin"),
                      std::ios::binary);
    out << "this is not a pipeline cache";
  }
  auto device = runtime::Device::open(inst, *info, {.pipeline_cache_dir = dir.string()});
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  const auto registry = kernels::builtin_registry();
  const kernels::Kernel* peak = *registry.find("peak");
  auto params = peak->resolve_params(1, peak->small_params());
  EXPECT_TRUE(runtime::execute_unit(**device, *peak, *params, {}).ok());
  fs::remove_all(dir);
}

TEST(DeviceTest, RejectsWorkgroupSizesTheDeviceCannotRun) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok());
  const auto registry = kernels::builtin_registry();
  const kernels::Kernel* peak = *registry.find("peak");
  auto params = peak->resolve_params(1, peak->small_params());
  auto run = runtime::execute_unit(**device, *peak, *params, {}, 100000);
  EXPECT_EQ(run.status().code(), Code::kInvalidArgument);
  EXPECT_NE(run.status().message().find("workgroup size"), std::string::npos);
}

TEST(DeviceTest, RejectsDispatchesOverTheWorkgroupCountLimit) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok());
  const auto registry = kernels::builtin_registry();
  const kernels::Kernel* peak = *registry.find("peak");
  auto params = peak->resolve_params(1, {{"invocations", 2000000}, {"iterations", 1}});
  ASSERT_TRUE(params.ok());
  auto run = runtime::execute_unit(**device, *peak, *params, {}, 16);  // 125,000 groups
  EXPECT_EQ(run.status().code(), Code::kOutOfRange);
  EXPECT_NE(run.status().message().find("workgroups"), std::string::npos) << run.status().message();
}

TEST(DeviceTest, ValidationLayersRunCleanWhenInstalled) {
  auto inst = runtime::Instance::create({.validation = true});
  if (!inst.ok()) {
    // The message must say how to get the layers.
    EXPECT_NE(inst.status().message().find("vulkan-validationlayers"), std::string::npos);
    GTEST_SKIP() << inst.status().message();
  }
  auto info = (*inst)->choose("");
  ASSERT_TRUE(info.ok());
  auto device = runtime::Device::open(*inst, *info);
  ASSERT_TRUE(device.ok());
  const auto registry = kernels::builtin_registry();
  const kernels::Kernel* peak = *registry.find("peak");
  auto params = peak->resolve_params(1, peak->small_params());
  auto run = runtime::execute_unit(**device, *peak, *params, {});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->digest, digest_of(*peak->reference(*params, {}, 1)));
}

}  // namespace
}  // namespace p2c2r
