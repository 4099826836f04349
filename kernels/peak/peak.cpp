// The peak kernel: the device's integer multiply-add throughput, measured with
// a kernel whose CPU reference is trivial, so it doubles as the foundation's
// end-to-end proof of the kernel pipeline.
#include "kernels/image.h"
#include "kernels/registry.h"
#include "peak.spv.h"

namespace p2c2r::kernels {
namespace {

constexpr uint32_t kChains = 8;

uint32_t peak_word(uint32_t id, uint32_t seed, uint32_t iterations) {
  uint32_t a[kChains];
  for (uint32_t k = 0; k < kChains; ++k) a[k] = (id ^ seed) + k;
  const uint32_t m = 1664525u, c = 1013904223u;
  for (uint32_t i = 0; i < iterations; ++i) {
    for (uint32_t k = 0; k < kChains; ++k) a[k] = a[k] * m + c;
  }
  uint32_t x = 0;
  for (uint32_t k = 0; k < kChains; ++k) x ^= a[k];
  return x;
}

class PeakKernel final : public Kernel {
 public:
  std::string name() const override { return "peak"; }
  uint32_t version() const override { return 1; }
  std::string family() const override { return "peak"; }
  std::string description() const override {
    return "integer multiply-add chains measuring the device's peak int32 throughput";
  }
  std::vector<Shader> shaders() const override {
    return {{"peak", peak_spv, {.binding_count = 1, .push_constant_size = 12}}};
  }
  std::vector<ParamSpec> param_specs() const override {
    // 2,000,000 invocations stay within the 65,535-workgroup minimum limit at local size 32.
    return {{"invocations", 1, 2000000, 1 << 16, "number of shader invocations"},
            {"iterations", 1, 1 << 16, 256, "multiply-add rounds per chain"}};
  }
  std::vector<std::string> input_names() const override { return {}; }

  Result<std::vector<Bytes>> generate_inputs(const Params&) const override {
    return std::vector<Bytes>{};
  }
  Status check_inputs(const Params&, const std::vector<Bytes>& inputs) const override {
    return expect_input_sizes(input_names(), inputs, {});
  }

  Result<Bytes> reference(const Params& p, const std::vector<Bytes>& inputs,
                          unsigned threads) const override {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    const uint32_t n = p.u32("invocations"), iterations = p.u32("iterations");
    const uint32_t seed = static_cast<uint32_t>(p.seed);
    std::vector<uint32_t> words(n);
    parallel_for(n, threads, [&](uint64_t begin, uint64_t end) {
      for (uint64_t id = begin; id < end; ++id) {
        words[id] = peak_word(static_cast<uint32_t>(id), seed, iterations);
      }
    });
    return to_bytes(words);
  }

  Result<Plan> plan(const Params& p, const std::vector<Bytes>& inputs,
                    uint32_t local_size) const override {
    P2C2R_RETURN_IF_ERROR(check_inputs(p, inputs));
    const uint32_t n = p.u32("invocations");
    Plan plan;
    plan.buffers.push_back({.size = uint64_t{n} * 4, .init = {}});
    plan.dispatches.push_back(
        {.shader = 0,
         .buffers = {0},
         .push = push_words({n, p.u32("iterations"), static_cast<uint32_t>(p.seed)}),
         .groups = {groups_for(n, local_size), 1, 1}});
    plan.outputs = {0};
    return plan;
  }

  uint64_t cost(const Params& p) const override {
    return uint64_t(p.get("invocations")) * uint64_t(p.get("iterations")) * kChains * 2;
  }
  double work_items(const Params& p) const override { return double(cost(p)); }
  std::string work_unit_name() const override { return "int-ops"; }
  std::map<std::string, int64_t> small_params() const override {
    return {{"invocations", 1000}, {"iterations", 16}};
  }
};

}  // namespace

void register_bandwidth_kernel(Registry& registry);  // bandwidth.cpp

void register_peak_kernels(Registry& registry) {
  registry.add(std::make_unique<PeakKernel>());
  register_bandwidth_kernel(registry);
}

}  // namespace p2c2r::kernels
