// Uniform texel buffer bindings: a plan buffer written through a storage
// binding is read back through a texel view in a later dispatch, with
// data-dependent and out-of-range indices, and must match a CPU model bit for
// bit; interfaces that disagree with the module are refused before any run.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/kernel.h"
#include "runtime/execute.h"
#include "runtime/spirv.h"
#include "texel_fill.spv.h"
#include "texel_gather.spv.h"
#include "texel_signed.spv.h"

namespace p2c2r {
namespace {

constexpr kernels::ShaderInterface kFillInterface{1, 8, 0};
constexpr kernels::ShaderInterface kGatherInterface{2, 12, 0b01};

// Fills `texels` uvec4 texels with a hash, then gathers `steps` texels per
// invocation. The gather interface is a constructor argument so tests can
// declare it wrongly.
class TexelKernel final : public kernels::Kernel {
 public:
  explicit TexelKernel(kernels::ShaderInterface gather = kGatherInterface,
                       std::span<const uint32_t> gather_spirv = texel_gather_spv)
      : gather_(gather), gather_spirv_(gather_spirv) {}
  std::string name() const override { return "texel_test"; }
  uint32_t version() const override { return 1; }
  std::string family() const override { return "peak"; }
  std::string description() const override { return "texel buffer test"; }
  std::vector<kernels::Shader> shaders() const override {
    return {{"texel_fill", texel_fill_spv, kFillInterface},
            {"texel_gather", gather_spirv_, gather_}};
  }
  std::vector<kernels::ParamSpec> param_specs() const override {
    return {{"texels", 1, 1 << 16, 1000, "texels in the gathered buffer"},
            {"invocations", 1, 1 << 16, 777, "gathering invocations"},
            {"steps", 1, 1024, 40, "texels each invocation reads"}};
  }
  std::vector<std::string> input_names() const override { return {}; }
  Result<std::vector<Bytes>> generate_inputs(const kernels::Params&) const override {
    return std::vector<Bytes>{};
  }
  Status check_inputs(const kernels::Params&, const std::vector<Bytes>&) const override {
    return Status::Ok();
  }
  Result<Bytes> reference(const kernels::Params& p, const std::vector<Bytes>&,
                          unsigned) const override {
    const uint32_t texels = p.u32("texels"), invocations = p.u32("invocations");
    auto word = [&](uint32_t w) { return w < texels * 4 ? (w + kSalt) * 2654435761u : 0u; };
    Bytes out(invocations * 4);
    for (uint32_t i = 0; i < invocations; ++i) {
      uint32_t index = i, acc = 0;
      for (uint32_t k = 0; k < p.u32("steps"); ++k) {
        const uint32_t x = word(index * 4), y = word(index * 4 + 1), z = word(index * 4 + 2),
                       w = word(index * 4 + 3);
        acc = acc * 31u + (x ^ y) + z * 3u + w;
        index = (index * 1103515245u + x + 12345u) % (texels + 4u);
      }
      std::memcpy(out.data() + i * 4, &acc, 4);
    }
    return out;
  }
  Result<kernels::Plan> plan(const kernels::Params& p, const std::vector<Bytes>&,
                             uint32_t local_size) const override {
    const uint32_t texels = p.u32("texels"), invocations = p.u32("invocations");
    kernels::Plan plan;
    plan.buffers = {{uint64_t{texels} * 16, {}}, {uint64_t{invocations} * 4, {}}};
    plan.dispatches.push_back({0,
                               {0},
                               kernels::push_words({texels * 4, kSalt}),
                               {kernels::groups_for(texels * 4, local_size), 1, 1}});
    plan.dispatches.push_back({1,
                               {0, 1},
                               kernels::push_words({invocations, texels, p.u32("steps")}),
                               {kernels::groups_for(invocations, local_size), 1, 1}});
    plan.outputs = {1};
    return plan;
  }
  uint64_t cost(const kernels::Params& p) const override { return p.u32("invocations"); }
  double work_items(const kernels::Params& p) const override { return p.u32("invocations"); }
  std::string work_unit_name() const override { return "gathers"; }
  std::map<std::string, int64_t> small_params() const override { return {}; }

 private:
  static constexpr uint32_t kSalt = 17;
  kernels::ShaderInterface gather_;
  std::span<const uint32_t> gather_spirv_;
};

runtime::Device& device() {
  static auto d = runtime::open_device("");
  EXPECT_TRUE(d.ok()) << d.status().message();
  return **d;
}

TEST(TexelBufferTest, ReflectionFindsTheTexelBinding) {
  auto reflected = runtime::reflect_spirv(texel_gather_spv);
  ASSERT_TRUE(reflected.ok()) << reflected.status().message();
  EXPECT_EQ(reflected->binding_count, 2u);
  EXPECT_EQ(reflected->texel_bindings, 0b01u);
}

TEST(TexelBufferTest, WrittenAsStorageReadAsTexelsMatchesTheCpu) {
  TexelKernel kernel;
  for (uint32_t local_size : {1u, 64u}) {
    auto params = kernel.resolve_params(1, {});
    ASSERT_TRUE(params.ok()) << params.status().message();
    auto run = runtime::execute_unit(device(), kernel, *params, {}, local_size);
    ASSERT_TRUE(run.ok()) << run.status().message();
    auto expected = kernel.reference(*params, {}, 1);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(run->output, *expected) << "local size " << local_size;
  }
}

TEST(TexelBufferTest, OutOfRangeTexelsReadAsZero) {
  // One texel and indices up to 4 past it: most reads are out of range.
  TexelKernel kernel;
  auto params = kernel.resolve_params(1, {{"texels", 1}, {"invocations", 8}, {"steps", 16}});
  ASSERT_TRUE(params.ok());
  auto run = runtime::execute_unit(device(), kernel, *params, {});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->output, *kernel.reference(*params, {}, 1));
}

TEST(TexelBufferTest, UndeclaredTexelBindingIsRefused) {
  TexelKernel kernel({2, 12, 0});
  auto params = kernel.resolve_params(1, {});
  ASSERT_TRUE(params.ok());
  auto run = runtime::execute_unit(device(), kernel, *params, {});
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("texel-buffer bindings are {0}, kernel declares {}"),
            std::string::npos)
      << run.status().message();
}

TEST(TexelBufferTest, TexelBindingDeclaredOnAStorageBufferIsRefused) {
  TexelKernel kernel({2, 12, 0b11});
  auto params = kernel.resolve_params(1, {});
  ASSERT_TRUE(params.ok());
  auto run = runtime::execute_unit(device(), kernel, *params, {});
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("kernel declares {0, 1}"), std::string::npos)
      << run.status().message();
}

TEST(TexelBufferTest, SignedTexelBufferIsRefused) {
  auto reflected = runtime::reflect_spirv(texel_signed_spv);
  ASSERT_FALSE(reflected.ok());
  EXPECT_NE(reflected.status().message().find("not an unsigned-integer texel buffer"),
            std::string::npos)
      << reflected.status().message();
  // The same through the device path: refused before any dispatch.
  TexelKernel kernel(kGatherInterface, texel_signed_spv);
  auto params = kernel.resolve_params(1, {});
  ASSERT_TRUE(params.ok());
  EXPECT_FALSE(runtime::execute_unit(device(), kernel, *params, {}).ok());
}

}  // namespace
}  // namespace p2c2r
