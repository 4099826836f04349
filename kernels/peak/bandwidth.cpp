// The bandwidth kernel: reads and writes a large buffer once, measuring the
// device's memory bandwidth for the host benchmark.
#include <cstring>

#include "common/rng.h"
#include "kernels/image.h"
#include "kernels/registry.h"
// Generated SPIR-V (needs <cstdint>, included above).
#include "bandwidth.spv.h"

namespace p2c2r::kernels {
namespace {

constexpr uint32_t kInvocations = 65536;

class BandwidthKernel final : public Kernel {
 public:
  std::string name() const override { return "bandwidth"; }
  uint32_t version() const override { return 1; }
  std::string family() const override { return "peak"; }
  std::string description() const override {
    return "streams a buffer through the device: memory bandwidth";
  }
  std::vector<Shader> shaders() const override {
    return {{"bandwidth", bandwidth_spv, {.binding_count = 2, .push_constant_size = 12}}};
  }
  std::vector<ParamSpec> param_specs() const override {
    return {{"mebibytes", 1, 1024, 64, "buffer size in MiB (read once, written once)"}};
  }
  std::vector<std::string> input_names() const override { return {"data"}; }
  std::map<std::string, int64_t> small_params() const override { return {{"mebibytes", 1}}; }

  Result<std::vector<Bytes>> generate_inputs(const Params& p) const override {
    Bytes data(bytes(p));
    Rng rng(p.seed);
    for (size_t i = 0; i < data.size(); i += 8) {
      const uint64_t v = rng.next();
      std::memcpy(&data[i], &v, 8);
    }
    return std::vector<Bytes>{std::move(data)};
  }
  Status check_inputs(const Params& p, const std::vector<Bytes>& inputs) const override {
    return expect_input_sizes(input_names(), inputs, {bytes(p)});
  }
  Result<Bytes> reference(const Params& p, const std::vector<Bytes>& inputs,
                          unsigned threads) const override {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    const uint32_t salt = static_cast<uint32_t>(p.seed);
    Bytes out(inputs[0].size());
    parallel_for(out.size() / 4, threads, [&](uint64_t begin, uint64_t end) {
      for (uint64_t w = begin; w < end; ++w) {
        uint32_t v;
        std::memcpy(&v, &inputs[0][w * 4], 4);
        v ^= salt;
        std::memcpy(&out[w * 4], &v, 4);
      }
    });
    return out;
  }
  Result<Plan> plan(const Params& p, const std::vector<Bytes>& inputs,
                    uint32_t local_size) const override {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    const uint64_t size = bytes(p);
    Plan plan;
    plan.buffers = {{.size = size, .init = inputs[0]}, {.size = size, .init = {}}};
    plan.dispatches.push_back({.shader = 0,
                               .buffers = {0, 1},
                               .push = push_words({static_cast<uint32_t>(size / 16), kInvocations,
                                                   static_cast<uint32_t>(p.seed)}),
                               .groups = {groups_for(kInvocations, local_size), 1, 1}});
    plan.outputs = {1};
    return plan;
  }
  uint64_t cost(const Params& p) const override { return bytes(p) / 4; }
  double work_items(const Params& p) const override { return 2.0 * double(bytes(p)); }
  std::string work_unit_name() const override { return "bytes"; }

 private:
  static uint64_t bytes(const Params& p) { return uint64_t(p.get("mebibytes")) << 20; }
};

}  // namespace

void register_bandwidth_kernel(Registry& registry) {
  registry.add(std::make_unique<BandwidthKernel>());
}

}  // namespace p2c2r::kernels
