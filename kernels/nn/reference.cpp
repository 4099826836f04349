// The CPU reference, in the form a CPU int8 library (gemmlowp, TFLite's
// reference kernels with the zero-point offset folded) would use: the input
// zero point moves into the biases, sum((x - zp) * w) = sum(x * w) - zp *
// sum(w), so the inner loops are plain int8 dot products the compiler
// vectorizes; conv2d pads its input with the zero point once per layer, so
// every tap is a full-length dot product. The device plan folds the same way.
// Both give the model's exact integers: every partial sum here is bounded by
// the original accumulator's bound (validate_model), so nothing wraps.
#include <algorithm>

#include "kernels/image.h"
#include "kernels/nn/inference.h"

namespace p2c2r::kernels::nn {
namespace {

// sum(x[k] * w[k]); |sum| < K * 128 * 127 < 2^31 for K <= kMaxDotLength.
int32_t dot(const int8_t* x, const int8_t* w, uint64_t n) {
  int32_t acc = 0;
  for (uint64_t k = 0; k < n; ++k) acc += int32_t{x[k]} * int32_t{w[k]};
  return acc;
}

// A layer with the input zero point folded into its biases: bias[o] - zp *
// (sum of the o-th output's weights).
struct Folded {
  const Layer* layer = nullptr;
  std::vector<int32_t> bias;
};

Folded fold(const Layer& l) {
  Folded f{&l, l.bias};
  const uint64_t k = l.dot_length();
  for (uint32_t o = 0; o < l.out.c; ++o) {
    int32_t sum = 0;
    for (uint64_t i = 0; i < k; ++i) sum += l.weights[o * k + i];
    f.bias[o] -= l.input_zero_point * sum;
  }
  return f;
}

int32_t dense_dot(const Folded& f, const int8_t* x, uint32_t o) {
  const uint64_t k = f.layer->dot_length();
  return f.bias[o] + dot(x, f.layer->weights.data() + o * k, k);
}

// The conv2d input surrounded by SAME padding, every pad holding the input
// zero point (so it contributes zp * w, which the folded bias cancels).
struct Padded {
  std::vector<int8_t> data;
  uint32_t h = 0, w = 0, top = 0, left = 0;
};

void pad_input(const Layer& l, const int8_t* x, Padded& p) {
  const uint32_t k = l.kernel_size;
  p.top = same_padding_before(l.in.h, k, l.stride);
  p.left = same_padding_before(l.in.w, k, l.stride);
  p.h = std::max((l.out.h - 1) * l.stride + k, l.in.h + p.top);
  p.w = std::max((l.out.w - 1) * l.stride + k, l.in.w + p.left);
  const uint32_t c = l.in.c;
  p.data.assign(uint64_t{p.h} * p.w * c, static_cast<int8_t>(l.input_zero_point));
  for (uint32_t y = 0; y < l.in.h; ++y) {
    std::copy_n(x + uint64_t{y} * l.in.w * c, uint64_t{l.in.w} * c,
                p.data.begin() + ((uint64_t{y} + p.top) * p.w + p.left) * c);
  }
}

int32_t conv_dot(const Folded& f, const Padded& p, uint32_t oy, uint32_t ox, uint32_t o) {
  const Layer& l = *f.layer;
  const uint32_t k = l.kernel_size, c = l.in.c;
  const int8_t* w = l.weights.data() + uint64_t{o} * k * k * c;
  int32_t acc = f.bias[o];
  for (uint32_t ky = 0; ky < k; ++ky) {
    // One kernel row is k * c contiguous inputs in HWC order.
    const int8_t* x = p.data.data() + ((uint64_t{oy} * l.stride + ky) * p.w + ox * l.stride) * c;
    acc += dot(x, w + uint64_t{ky} * k * c, uint64_t{k} * c);
  }
  return acc;
}

void hidden_layer(const Folded& f, const int8_t* x, int8_t* y, Padded& scratch) {
  const Layer& l = *f.layer;
  if (l.type == LayerType::kDense) {
    for (uint32_t o = 0; o < l.out.c; ++o) y[o] = requantize_to_int8(dense_dot(f, x, o), l);
    return;
  }
  pad_input(l, x, scratch);
  for (uint32_t oy = 0; oy < l.out.h; ++oy) {
    for (uint32_t ox = 0; ox < l.out.w; ++ox) {
      int8_t* yp = y + (uint64_t{oy} * l.out.w + ox) * l.out.c;
      for (uint32_t o = 0; o < l.out.c; ++o)
        yp[o] = requantize_to_int8(conv_dot(f, scratch, oy, ox, o), l);
    }
  }
}

}  // namespace

uint64_t output_size(const Model& model, uint32_t batch) {
  return uint64_t{batch} * (uint64_t{model.actions()} + 1) * 4;
}

Bytes infer_reference(const Model& model, ByteView observations, uint32_t batch, unsigned threads) {
  const uint64_t obs_size = model.input.elements();
  const uint32_t actions = model.actions();
  uint64_t largest = obs_size;
  for (const auto& l : model.layers) largest = std::max(largest, l.out.elements());
  std::vector<int32_t> logits(uint64_t{batch} * actions);
  std::vector<uint32_t> chosen(batch);
  std::vector<Folded> folded;
  for (const auto& l : model.layers) folded.push_back(fold(l));
  parallel_for(batch, threads, [&](uint64_t begin, uint64_t end) {
    std::vector<int8_t> a(largest), b(largest);
    Padded scratch;
    for (uint64_t n = begin; n < end; ++n) {
      std::copy_n(reinterpret_cast<const int8_t*>(observations.data()) + n * obs_size, obs_size,
                  a.begin());
      for (size_t i = 0; i + 1 < folded.size(); ++i) {
        hidden_layer(folded[i], a.data(), b.data(), scratch);
        std::swap(a, b);
      }
      int32_t* out = logits.data() + n * actions;
      uint32_t best = 0;
      for (uint32_t o = 0; o < actions; ++o) {
        out[o] = dense_dot(folded.back(), a.data(), o);
        if (out[o] > out[best]) best = o;
      }
      chosen[n] = best;
    }
  });
  Bytes out = to_bytes(logits);
  const Bytes tail = to_bytes(chosen);
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

Result<Decisions> decode_output(ByteView output, uint32_t batch, uint32_t actions) {
  const uint64_t logits_size = uint64_t{batch} * actions * 4;
  if (output.size() != logits_size + uint64_t{batch} * 4)
    return invalid_argument("nn output of " + std::to_string(output.size()) +
                            " bytes does not hold " + std::to_string(batch) + " NPCs x " +
                            std::to_string(actions) + " actions");
  Decisions d;
  d.logits = from_bytes<int32_t>(output.first(logits_size));
  d.actions = from_bytes<uint32_t>(output.subspan(logits_size));
  return d;
}

}  // namespace p2c2r::kernels::nn
