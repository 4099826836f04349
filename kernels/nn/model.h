// The nn family's model: an int8-quantized feed-forward network (dense and
// 3x3-style conv2d layers, fused ReLU) in the versioned blob format that a
// work unit carries as its "weights" input (docs/kernels/nn.md).
//
// Promises: decode_model accepts a blob only if every field is in range,
// every layer's input shape is the previous layer's output shape, every
// weight and bias count matches its shape and no int32 accumulator can
// overflow; after that, inference reads nothing out of bounds. Arithmetic is
// TFLite/gemmlowp int8 quantization: symmetric int8 weights (zero point 0),
// asymmetric int8 activations, int32 biases and accumulators, per-layer
// requantization by an int32 multiplier and a shift with round-half-away
// rounding, saturation to int8. The last layer is dense and outputs its raw
// int32 accumulators as the logits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace p2c2r::kernels::nn {

constexpr uint32_t kModelMagic = 0x4E4E3250;  // "P2NN" as little-endian bytes
constexpr uint32_t kModelVersion = 1;
constexpr uint32_t kHeaderWords = 8;
constexpr uint32_t kLayerHeaderWords = 16;

// Limits that keep every unit bounded and every accumulator inside int32:
// |bias| <= 2^30 and K * 255 * 128 < 2^30 for K <= kMaxDotLength.
constexpr uint32_t kMaxLayers = 16;
constexpr uint32_t kMaxSide = 64;
constexpr uint32_t kMaxChannels = 1024;
constexpr uint64_t kMaxTensorElements = 16384;  // per observation, per layer
constexpr uint64_t kMaxDotLength = 16384;       // inputs of one output value
constexpr uint32_t kMaxKernelSize = 7;
constexpr uint32_t kMaxStride = 4;
constexpr int32_t kMaxAbsBias = 1 << 30;

enum class LayerType : uint32_t { kDense = 1, kConv2d = 2 };

// An activation tensor of one observation, height x width x channels, stored
// HWC (channels fastest); a feature vector is 1 x 1 x features.
struct Shape {
  uint32_t h = 1, w = 1, c = 1;
  uint64_t elements() const { return uint64_t{h} * w * c; }
  bool operator==(const Shape&) const = default;
  std::string to_string() const;
};

struct Layer {
  LayerType type = LayerType::kDense;
  bool relu = false;
  Shape in, out;
  uint32_t kernel_size = 0;  // conv2d only (odd or even, 1..7); 0 for dense
  uint32_t stride = 0;       // conv2d only (1..4); 0 for dense
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;  // 0 for the last layer
  int32_t multiplier = 0;         // 0 or [2^30, 2^31-1]; 0 for the last layer
  int32_t shift = 0;              // [-31, 30]: > 0 shifts left, < 0 right
  std::vector<int32_t> bias;      // out.c values
  // Dense: [out.c][in.h][in.w][in.c]; conv2d: [out.c][kernel][kernel][in.c] (TFLite OHWI).
  std::vector<int8_t> weights;

  // Inputs feeding one output value (the dot-product length).
  uint64_t dot_length() const;
  uint64_t macs() const { return out.elements() * dot_length(); }
};

struct Model {
  Shape input;
  int32_t input_zero_point = 0;
  std::vector<Layer> layers;

  uint32_t actions() const { return layers.empty() ? 0 : layers.back().out.c; }
  uint64_t macs_per_observation() const;
};

// TFLite "SAME" padding: output side ceil(in / stride), padding split with
// the smaller half before.
uint32_t same_output_side(uint32_t in, uint32_t stride);
uint32_t same_padding_before(uint32_t in, uint32_t kernel, uint32_t stride);

// Checks the layer list's shapes, limits and quantization parameters. With
// check_data, also the bias and weight vector sizes and the bias range.
Status validate_model(const Model& model, bool check_data = true);

Bytes encode_model(const Model& model);
// Parses and fully validates a blob; errors name the layer and the field.
Result<Model> decode_model(ByteView blob);

// gemmlowp's MultiplyByQuantizedMultiplier: acc * multiplier * 2^shift / 2^31
// with a saturating left shift, a rounding doubling high multiply and a
// rounding (half away from zero) right shift. Exact in integers.
int32_t requantize(int32_t acc, int32_t multiplier, int32_t shift);
// The int8 activation: requantized value plus the zero point, clamped to
// [relu ? zero_point : -128, 127].
int8_t requantize_to_int8(int32_t acc, const Layer& layer);

// TFLite's QuantizeMultiplier: a positive real scale as multiplier * 2^shift
// / 2^31 with multiplier in [2^30, 2^31). For building models on the host
// (converters, tests); nothing on the inference path uses floating point.
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;
};
QuantizedMultiplier quantize_multiplier(double scale);

}  // namespace p2c2r::kernels::nn
