// Every registered kernel, checked against the contract: the device output is
// byte-identical to the CPU reference for several workgroup sizes, with and
// without staging buffers, for 1 and 2 reference threads, and across lavapipe
// configurations (vector width, thread count) in separate processes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "kernels/registry.h"
#include "runtime/execute.h"
#include "tests/support/kernels.h"
#include "tests/support/subprocess.h"

namespace p2c2r {
namespace {

const kernels::Registry& registry() { return testing::builtin_kernels(); }

std::vector<std::string> kernel_names() {
  std::vector<std::string> names;
  for (const auto* k : registry().all()) names.push_back(k->name());
  return names;
}

runtime::Device& device(bool staging) {
  static auto host = runtime::open_device("", {}, {});
  static auto staged = runtime::open_device("", {}, {.force_staging = true});
  auto& d = staging ? staged : host;
  if (!d.ok()) throw std::runtime_error(d.status().to_string());
  return **d;
}

class KernelConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto k = registry().find(GetParam());
    ASSERT_TRUE(k.ok());
    kernel_ = *k;
    auto params = kernel_->resolve_params(1, kernel_->small_params());
    ASSERT_TRUE(params.ok()) << params.status().to_string();
    params_ = *params;
    auto inputs = kernel_->generate_inputs(params_);
    ASSERT_TRUE(inputs.ok()) << inputs.status().to_string();
    inputs_ = *inputs;
    auto reference = kernel_->reference(params_, inputs_, 1);
    ASSERT_TRUE(reference.ok()) << reference.status().to_string();
    reference_ = *reference;
  }

  const kernels::Kernel* kernel_ = nullptr;
  kernels::Params params_;
  std::vector<Bytes> inputs_;
  Bytes reference_;
};

TEST_P(KernelConformanceTest, ReferenceIsIndependentOfThreadCount) {
  auto two = kernel_->reference(params_, inputs_, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(digest_of(*two), digest_of(reference_));
}

TEST_P(KernelConformanceTest, DeviceMatchesReferenceAtEveryWorkgroupSize) {
  for (uint32_t local_size : {32u, 64u, 128u}) {
    auto run = runtime::execute_unit(device(false), *kernel_, params_, inputs_, local_size);
    ASSERT_TRUE(run.ok()) << run.status().to_string();
    EXPECT_EQ(run->output.size(), reference_.size()) << "local size " << local_size;
    EXPECT_EQ(run->digest, digest_of(reference_)) << "local size " << local_size;
  }
}

TEST_P(KernelConformanceTest, StagingBuffersGiveTheSameBytes) {
  auto run = runtime::execute_unit(device(true), *kernel_, params_, inputs_, 64);
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->digest, digest_of(reference_));
}

TEST_P(KernelConformanceTest, SameDigestAcrossLavapipeConfigurations) {
  std::string param_flags;
  for (const auto& [name, value] : params_.values)
    param_flags += " --param " + name + "=" + std::to_string(value);
  const std::string expected = digest_of(reference_).hex();
  for (const char* env : {"LP_NATIVE_VECTOR_WIDTH=128 LP_NUM_THREADS=1",
                          "LP_NATIVE_VECTOR_WIDTH=256 LP_NUM_THREADS=2",
                          "LP_NATIVE_VECTOR_WIDTH=128 LP_NUM_THREADS=2",
                          "LP_NATIVE_VECTOR_WIDTH=256 LP_NUM_THREADS=1"}) {
    const auto result = testing::run_command(
        std::string("env ") + env + " " + testing::p2c2r_command() + " run " + kernel_->name() +
        " --seed 1 --no-reference --pipeline-cache '' --json" + param_flags);
    ASSERT_EQ(result.exit_code, 0) << env << "\n" << result.out;
    const auto json = nlohmann::json::parse(result.out);
    EXPECT_EQ(json["digest"], expected) << env;
  }
}

TEST_P(KernelConformanceTest, RejectsUnknownAndOutOfRangeParameters) {
  auto unknown = kernel_->resolve_params(1, {{"no_such_parameter", 1}});
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("no_such_parameter"), std::string::npos);
  for (const auto& spec : kernel_->param_specs()) {
    if (spec.max == INT64_MAX) continue;
    auto too_big = kernel_->resolve_params(1, {{spec.name, spec.max + 1}});
    EXPECT_EQ(too_big.status().code(), Code::kInvalidArgument) << spec.name;
    EXPECT_NE(too_big.status().message().find(spec.name), std::string::npos);
  }
}

TEST_P(KernelConformanceTest, RejectsInputsOfTheWrongSize) {
  auto inputs = inputs_;
  inputs.push_back(Bytes{1, 2, 3});
  EXPECT_FALSE(kernel_->check_inputs(params_, inputs).ok());
  EXPECT_FALSE(runtime::execute_unit(device(false), *kernel_, params_, inputs).ok());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    auto truncated = inputs_;
    truncated[i].resize(truncated[i].size() / 2);
    EXPECT_FALSE(kernel_->check_inputs(params_, truncated).ok()) << kernel_->input_names()[i];
    EXPECT_FALSE(kernel_->reference(params_, truncated, 1).ok()) << kernel_->input_names()[i];
  }
}

INSTANTIATE_TEST_SUITE_P(AllKernels, KernelConformanceTest, ::testing::ValuesIn(kernel_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace p2c2r
