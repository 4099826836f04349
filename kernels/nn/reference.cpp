// The CPU reference: the model's arithmetic written the plain way, straight
// from the blob's layout, one observation at a time. The device plan folds
// and pads things differently; both give the same integers because every
// accumulator provably fits in int32 (validate_model).
#include <algorithm>

#include "kernels/image.h"
#include "kernels/nn/inference.h"

namespace p2c2r::kernels::nn {
namespace {

int32_t dense_dot(const Layer& l, const int8_t* x, uint32_t o) {
  const uint64_t k_count = l.dot_length();
  const int8_t* w = l.weights.data() + o * k_count;
  const int32_t zp = l.input_zero_point;
  int32_t acc = l.bias[o];
  for (uint64_t k = 0; k < k_count; ++k) acc += (int32_t{x[k]} - zp) * int32_t{w[k]};
  return acc;
}

// One conv2d output value at (oy, ox, o); padding taps hold the input zero
// point, i.e. contribute nothing.
int32_t conv_dot(const Layer& l, const int8_t* x, uint32_t oy, uint32_t ox, uint32_t o) {
  const int32_t k = int32_t(l.kernel_size), c_count = int32_t(l.in.c);
  const int32_t top = int32_t(same_padding_before(l.in.h, l.kernel_size, l.stride));
  const int32_t left = int32_t(same_padding_before(l.in.w, l.kernel_size, l.stride));
  const int32_t zp = l.input_zero_point;
  int32_t acc = l.bias[o];
  for (int32_t ky = 0; ky < k; ++ky) {
    const int32_t iy = int32_t(oy * l.stride) + ky - top;
    if (iy < 0 || iy >= int32_t(l.in.h)) continue;
    for (int32_t kx = 0; kx < k; ++kx) {
      const int32_t ix = int32_t(ox * l.stride) + kx - left;
      if (ix < 0 || ix >= int32_t(l.in.w)) continue;
      const int8_t* xp = x + (int64_t(iy) * l.in.w + ix) * c_count;
      const int8_t* wp = l.weights.data() + ((int64_t(o) * k + ky) * k + kx) * c_count;
      for (int32_t c = 0; c < c_count; ++c) acc += (int32_t{xp[c]} - zp) * int32_t{wp[c]};
    }
  }
  return acc;
}

void hidden_layer(const Layer& l, const int8_t* x, int8_t* y) {
  if (l.type == LayerType::kDense) {
    for (uint32_t o = 0; o < l.out.c; ++o) y[o] = requantize_to_int8(dense_dot(l, x, o), l);
    return;
  }
  for (uint32_t oy = 0; oy < l.out.h; ++oy) {
    for (uint32_t ox = 0; ox < l.out.w; ++ox) {
      int8_t* yp = y + (uint64_t{oy} * l.out.w + ox) * l.out.c;
      for (uint32_t o = 0; o < l.out.c; ++o)
        yp[o] = requantize_to_int8(conv_dot(l, x, oy, ox, o), l);
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
  parallel_for(batch, threads, [&](uint64_t begin, uint64_t end) {
    std::vector<int8_t> a(largest), b(largest);
    for (uint64_t n = begin; n < end; ++n) {
      std::copy_n(reinterpret_cast<const int8_t*>(observations.data()) + n * obs_size, obs_size,
                  a.begin());
      for (size_t i = 0; i + 1 < model.layers.size(); ++i) {
        hidden_layer(model.layers[i], a.data(), b.data());
        std::swap(a, b);
      }
      int32_t* out = logits.data() + n * actions;
      uint32_t best = 0;
      for (uint32_t o = 0; o < actions; ++o) {
        out[o] = dense_dot(model.layers.back(), a.data(), o);
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
