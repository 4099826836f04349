// The gate in front of the driver: invalid or mismatched SPIR-V is refused
// with an error naming the problem, and the process keeps working.
#include "runtime/spirv.h"

#include <gtest/gtest.h>

#include "kernels/registry.h"
#include "runtime/execute.h"

namespace p2c2r {
namespace {

// The peak kernel with its shader replaced, so tests can feed the runtime
// broken modules and wrong declarations through the real code path.
class AlteredKernel final : public kernels::Kernel {
 public:
  AlteredKernel(const kernels::Kernel& base, std::vector<uint32_t> spirv,
                kernels::ShaderInterface iface)
      : base_(base), spirv_(std::move(spirv)), iface_(iface) {}
  std::string name() const override { return "altered"; }
  uint32_t version() const override { return 1; }
  std::string family() const override { return base_.family(); }
  std::string description() const override { return "test"; }
  std::vector<kernels::Shader> shaders() const override { return {{"altered", spirv_, iface_}}; }
  std::vector<kernels::ParamSpec> param_specs() const override { return base_.param_specs(); }
  std::vector<std::string> input_names() const override { return base_.input_names(); }
  Result<std::vector<Bytes>> generate_inputs(const kernels::Params& p) const override {
    return base_.generate_inputs(p);
  }
  Status check_inputs(const kernels::Params& p, const std::vector<Bytes>& in) const override {
    return base_.check_inputs(p, in);
  }
  Result<Bytes> reference(const kernels::Params& p, const std::vector<Bytes>& in,
                          unsigned t) const override {
    return base_.reference(p, in, t);
  }
  Result<kernels::Plan> plan(const kernels::Params& p, const std::vector<Bytes>& in,
                             uint32_t ls) const override {
    return base_.plan(p, in, ls);
  }
  uint64_t cost(const kernels::Params& p) const override { return base_.cost(p); }
  double work_items(const kernels::Params& p) const override { return base_.work_items(p); }
  std::string work_unit_name() const override { return base_.work_unit_name(); }
  std::map<std::string, int64_t> small_params() const override { return base_.small_params(); }

 private:
  const kernels::Kernel& base_;
  std::vector<uint32_t> spirv_;
  kernels::ShaderInterface iface_;
};

class SpirvGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto peak = registry_.find("peak");
    ASSERT_TRUE(peak.ok());
    peak_ = *peak;
    const auto shader = peak_->shaders().at(0);
    good_.assign(shader.spirv.begin(), shader.spirv.end());
    good_iface_ = shader.interface;
  }

  // Runs the altered kernel through the real device path; returns the status.
  Status run(const std::vector<uint32_t>& spirv, kernels::ShaderInterface iface) {
    static auto device = runtime::open_device("");
    if (!device.ok()) return device.status();
    AlteredKernel kernel(*peak_, spirv, iface);
    auto params = kernel.resolve_params(1, kernel.small_params());
    if (!params.ok()) return params.status();
    auto result = runtime::execute_unit(**device, kernel, *params, {});
    return result.status();
  }

  kernels::Registry registry_ = kernels::builtin_registry();
  const kernels::Kernel* peak_ = nullptr;
  std::vector<uint32_t> good_;
  kernels::ShaderInterface good_iface_;
};

TEST_F(SpirvGateTest, AcceptsTheRealModule) {
  EXPECT_TRUE(runtime::validate_spirv(good_).ok());
  auto reflected = runtime::reflect_spirv(good_);
  ASSERT_TRUE(reflected.ok()) << reflected.status().to_string();
  EXPECT_EQ(reflected->binding_count, 1u);
  EXPECT_EQ(reflected->push_constant_size, 12u);
  EXPECT_TRUE(reflected->local_size_x_is_spec_constant_0);
  EXPECT_TRUE(run(good_, good_iface_).ok());
}

TEST_F(SpirvGateTest, RefusesBytesThatAreNotSpirv) {
  std::vector<uint32_t> garbage(64, 0xdeadbeef);
  const Status s = run(garbage, good_iface_);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("not a SPIR-V module"), std::string::npos) << s.message();
}

TEST_F(SpirvGateTest, RefusesATruncatedModule) {
  std::vector<uint32_t> truncated(good_.begin(), good_.begin() + good_.size() / 2);
  const Status s = run(truncated, good_iface_);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("SPIR-V validation failed"), std::string::npos) << s.message();
}

TEST_F(SpirvGateTest, RefusesACorruptedInstructionStream) {
  // Corrupt every instruction word after the header; whatever the validator
  // trips on first, the module must never reach the driver.
  for (size_t at : {good_.size() / 3, good_.size() / 2, good_.size() - 2}) {
    auto corrupt = good_;
    corrupt[at] = 0x0fff00ffu;
    const Status s = run(corrupt, good_iface_);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << "word " << at;
  }
}

TEST_F(SpirvGateTest, RefusesAWrongBindingCount) {
  auto iface = good_iface_;
  iface.binding_count = 2;
  const Status s = run(good_, iface);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("1 buffer binding(s), kernel declares 2"), std::string::npos)
      << s.message();
}

TEST_F(SpirvGateTest, RefusesAWrongPushConstantSize) {
  auto iface = good_iface_;
  iface.push_constant_size = 16;
  const Status s = run(good_, iface);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("push-constant block is 12 bytes, kernel declares 16"),
            std::string::npos)
      << s.message();
}

TEST_F(SpirvGateTest, DeviceKeepsWorkingAfterRefusals) {
  (void)run(std::vector<uint32_t>(8, 1), good_iface_);
  auto iface = good_iface_;
  iface.push_constant_size = 4;
  (void)run(good_, iface);
  EXPECT_TRUE(run(good_, good_iface_).ok());
}

}  // namespace
}  // namespace p2c2r
