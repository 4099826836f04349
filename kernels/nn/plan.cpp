// The device plan: the model re-laid out for nn_dense.comp / nn_conv.comp.
//
// Layout changes (none changes a result):
// - activations keep HWC order but each pixel's channels are padded to whole
//   32-bit words (4 int8 lanes), so every read is one aligned word;
// - weight rows are padded the same way with zero weights, and the output
//   count is padded to a multiple of OT with zero rows, so padding lanes
//   contribute nothing;
// - the input zero point is folded into the bias: sum((x - zp) * w) + b ==
//   sum(x * w) + (b - zp * sum(w)). Padding taps of a conv read x = zp, so
//   the fold holds there too. Int32 arithmetic wraps in SPIR-V, and the true
//   accumulator fits in int32 (validate_model), so the bits are the same.
#include <algorithm>

#include "kernels/nn/inference.h"

namespace p2c2r::kernels::nn {
namespace {

constexpr uint32_t kOutputsPerInvocation = 8;  // OT in nn_common.glsl
constexpr uint32_t kNpcsPerInvocation = 4;     // NR in nn_dense.comp
constexpr uint32_t kPixelsPerInvocation = 4;   // NP in nn_conv.comp
constexpr uint32_t kMaxGroupsX = 32768;

uint32_t words_for(uint32_t channels) { return (channels + 3) / 4; }
uint32_t padded_outputs(uint32_t n) {
  return (n + kOutputsPerInvocation - 1) / kOutputsPerInvocation * kOutputsPerInvocation;
}
// Words per NPC of an activation tensor: whole 16-byte vectors, which the
// dense shader reads with uvec4 loads.
uint64_t tensor_words(const Shape& s) { return (uint64_t{s.h} * s.w * words_for(s.c) + 3) / 4 * 4; }

// Appends one layer's weights as rows of `taps` x words_for(in.c) words per
// (padded) output, each row padded to `row_words`, and its folded biases.
void pack_layer(const Layer& l, uint64_t taps, uint64_t row_words, Bytes& weights,
                std::vector<int32_t>& biases) {
  const uint32_t cw = words_for(l.in.c);
  const uint64_t row_bytes = row_words * 4;
  const uint32_t outputs = padded_outputs(l.out.c);
  const uint64_t start = weights.size();
  weights.resize(start + outputs * row_bytes, 0);
  for (uint32_t o = 0; o < outputs; ++o) {
    if (o >= l.out.c) {
      biases.push_back(0);
      continue;
    }
    int64_t sum = 0;
    for (uint64_t t = 0; t < taps; ++t) {
      for (uint32_t c = 0; c < l.in.c; ++c) {
        const int8_t w = l.weights[(o * taps + t) * l.in.c + c];
        weights[start + o * row_bytes + t * cw * 4 + c] = static_cast<uint8_t>(w);
        sum += w;
      }
    }
    biases.push_back(static_cast<int32_t>(l.bias[o] - int64_t{l.input_zero_point} * sum));
  }
}

Bytes padded_observations(const Model& model, ByteView observations, uint32_t batch) {
  const Shape& s = model.input;
  const uint32_t cw = words_for(s.c);
  const uint64_t pixels = uint64_t{s.h} * s.w, stride = tensor_words(s) * 4;
  Bytes out(batch * stride, 0);
  for (uint64_t n = 0; n < batch; ++n) {
    for (uint64_t p = 0; p < pixels; ++p)
      std::copy_n(observations.data() + (n * pixels + p) * s.c, s.c,
                  out.data() + n * stride + p * cw * 4);
  }
  return out;
}

}  // namespace

Plan plan_inference(const Model& model, ByteView observations, uint32_t batch,
                    uint32_t local_size) {
  enum : uint32_t { kActA, kActB, kWeights, kBiases, kLogits, kActions };
  enum : uint32_t { kDenseShader, kConvShader, kArgmaxShader };
  uint64_t largest = tensor_words(model.input);
  for (const auto& l : model.layers) largest = std::max(largest, tensor_words(l.out));
  const uint32_t actions = model.actions();

  Plan plan;
  plan.buffers.resize(6);
  plan.buffers[kActA].init = padded_observations(model, observations, batch);
  plan.buffers[kActA].size = largest * batch * 4;
  plan.buffers[kActB].size = largest * batch * 4;
  plan.buffers[kLogits].size = uint64_t{batch} * actions * 4;
  plan.buffers[kActions].size = uint64_t{batch} * 4;

  Bytes weights;
  std::vector<int32_t> biases;
  uint32_t in = kActA, out = kActB;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    const bool last = i + 1 == model.layers.size();
    weights.resize((weights.size() + 15) / 16 * 16, 0);  // uvec4-aligned layers
    const uint32_t w_offset = static_cast<uint32_t>(weights.size() / 4);
    const uint32_t b_offset = static_cast<uint32_t>(biases.size());
    const uint32_t act_min = l.relu ? uint32_t(l.output_zero_point) : uint32_t(-128);
    const uint32_t out_groups = padded_outputs(l.out.c) / kOutputsPerInvocation;
    const uint32_t target = last ? uint32_t(kLogits) : out;
    Dispatch d{.buffers = {in, kWeights, kBiases, target}};
    if (l.type == LayerType::kDense) {
      const uint32_t in_words = static_cast<uint32_t>(tensor_words(l.in));
      pack_layer(l, uint64_t{l.in.h} * l.in.w, in_words, weights, biases);
      d.shader = kDenseShader;
      d.push = push_words({batch, in_words / 4, l.out.c,
                           last ? l.out.c : static_cast<uint32_t>(tensor_words(l.out)), w_offset,
                           b_offset, uint32_t(l.multiplier), uint32_t(l.shift),
                           uint32_t(l.output_zero_point), act_min, last ? 1u : 0u});
      d.groups = {groups_for(groups_for(batch, kNpcsPerInvocation), local_size), out_groups, 1};
    } else {
      const uint64_t taps = uint64_t{l.kernel_size} * l.kernel_size;
      pack_layer(l, taps, taps * words_for(l.in.c), weights, biases);
      const uint8_t zp = static_cast<uint8_t>(l.input_zero_point);
      const uint32_t pad_word = zp * 0x01010101u;
      d.shader = kConvShader;
      d.push = push_words({batch,
                           l.in.h,
                           l.in.w,
                           words_for(l.in.c),
                           l.out.h,
                           l.out.w,
                           words_for(l.out.c),
                           l.kernel_size,
                           l.stride,
                           same_padding_before(l.in.h, l.kernel_size, l.stride),
                           same_padding_before(l.in.w, l.kernel_size, l.stride),
                           w_offset,
                           b_offset,
                           uint32_t(l.multiplier),
                           uint32_t(l.shift),
                           uint32_t(l.output_zero_point),
                           act_min,
                           pad_word,
                           static_cast<uint32_t>(tensor_words(l.in)),
                           static_cast<uint32_t>(tensor_words(l.out))});
      const uint64_t pixel_groups = groups_for(uint64_t{l.out.h} * l.out.w, kPixelsPerInvocation);
      const uint32_t groups = groups_for(batch * pixel_groups, local_size);
      const uint32_t gx = std::min(groups, kMaxGroupsX);
      d.groups = {gx, out_groups, (groups + gx - 1) / gx};
    }
    plan.dispatches.push_back(std::move(d));
    std::swap(in, out);
  }
  plan.buffers[kWeights].size = weights.size();
  plan.buffers[kWeights].init = std::move(weights);
  plan.buffers[kBiases].size = biases.size() * 4;
  plan.buffers[kBiases].init = to_bytes(biases);
  plan.dispatches.push_back({.shader = kArgmaxShader,
                             .buffers = {kLogits, kActions},
                             .push = push_words({batch, actions}),
                             .groups = {groups_for(batch, local_size), 1, 1}});
  plan.outputs = {kLogits, kActions};
  return plan;
}

}  // namespace p2c2r::kernels::nn
