#include "runtime/benchmark.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/execute.h"

namespace p2c2r {
namespace {

TEST(HostBenchmarkTest, MeasuresEveryKernelAndChecksItAgainstTheReference) {
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok());
  const auto registry = kernels::builtin_registry();
  size_t last_step = 0, steps_seen = 0;
  auto b = runtime::benchmark_host(
      **device, registry,
      [&](size_t step, size_t steps, const std::string&) {
        EXPECT_GE(step, last_step);
        last_step = step;
        steps_seen = steps;
      },
      1234);
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ(last_step, steps_seen) << "progress reaches the end";
  EXPECT_GT(b->peak_int_ops_per_second, 0);
  EXPECT_GT(b->memory_bytes_per_second, 0);
  EXPECT_EQ(b->kernels.size(), registry.all().size());
  EXPECT_TRUE(b->all_match());
  EXPECT_TRUE(b->describes((*device)->info()));
  EXPECT_EQ(b->measured_at_unix, 1234);
}

TEST(HostBenchmarkTest, JsonRoundTripsAndDetectsADriverChange) {
  runtime::HostBenchmark b;
  b.device_name = "gpu";
  b.driver_version = "1.0";
  b.pipeline_cache_uuid = "ab";
  b.peak_int_ops_per_second = 5e9;
  b.kernels.push_back({"peak", "peak", 1, "int-ops", 1, 2, 3, true});
  runtime::HostBenchmark back = nlohmann::json(b).get<runtime::HostBenchmark>();
  EXPECT_EQ(back.device_name, "gpu");
  EXPECT_EQ(back.peak_int_ops_per_second, 5e9);
  ASSERT_NE(back.find("peak"), nullptr);
  EXPECT_EQ(back.find("peak")->seconds_per_unit, 3);
  runtime::DeviceInfo info;
  info.name = "gpu";
  info.driver_version = "1.0";
  info.pipeline_cache_uuid = "ab";
  EXPECT_TRUE(back.describes(info));
  info.driver_version = "1.1";
  EXPECT_FALSE(back.describes(info));
}

TEST(HostBenchmarkTest, MalformedJsonIsRejected) {
  EXPECT_THROW(nlohmann::json::parse(R"({"device_name": 3})").get<runtime::HostBenchmark>(),
               nlohmann::json::exception);
}

}  // namespace
}  // namespace p2c2r
