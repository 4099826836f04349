#include "kernels/nn/model.h"

#include <algorithm>
#include <cmath>

namespace p2c2r::kernels::nn {

std::string Shape::to_string() const {
  return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
}

uint64_t Layer::dot_length() const {
  return type == LayerType::kDense ? in.elements() : uint64_t{kernel_size} * kernel_size * in.c;
}

uint64_t Model::macs_per_observation() const {
  uint64_t total = 0;
  for (const auto& layer : layers) total += layer.macs();
  return total;
}

uint32_t same_output_side(uint32_t in, uint32_t stride) { return (in + stride - 1) / stride; }

uint32_t same_padding_before(uint32_t in, uint32_t kernel, uint32_t stride) {
  const int64_t out = same_output_side(in, stride);
  const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - int64_t{in}, 0);
  return static_cast<uint32_t>(total / 2);
}

namespace {

bool is_int8(int32_t v) { return v >= -128 && v <= 127; }

Status check_shape(const Shape& s, const std::string& what) {
  if (s.h < 1 || s.w < 1 || s.c < 1 || s.h > kMaxSide || s.w > kMaxSide || s.c > kMaxChannels ||
      s.elements() > kMaxTensorElements) {
    return invalid_argument(what + " shape " + s.to_string() + " is out of range (sides 1.." +
                            std::to_string(kMaxSide) + ", channels 1.." +
                            std::to_string(kMaxChannels) + ", at most " +
                            std::to_string(kMaxTensorElements) + " elements)");
  }
  return Status::Ok();
}

Status check_layer(const Layer& l, bool last, bool check_data) {
  P2C2R_RETURN_IF_ERROR(check_shape(l.in, "input"));
  P2C2R_RETURN_IF_ERROR(check_shape(l.out, "output"));
  if (l.type == LayerType::kDense) {
    if (l.kernel_size != 0 || l.stride != 0)
      return invalid_argument("a dense layer has kernel_size 0 and stride 0");
    if (l.out.h != 1 || l.out.w != 1)
      return invalid_argument("a dense layer's output is 1x1xN, not " + l.out.to_string());
  } else if (l.type == LayerType::kConv2d) {
    if (l.kernel_size < 1 || l.kernel_size > kMaxKernelSize)
      return invalid_argument("kernel_size " + std::to_string(l.kernel_size) + " not in 1.." +
                              std::to_string(kMaxKernelSize));
    if (l.stride < 1 || l.stride > kMaxStride)
      return invalid_argument("stride " + std::to_string(l.stride) + " not in 1.." +
                              std::to_string(kMaxStride));
    const Shape expected{same_output_side(l.in.h, l.stride), same_output_side(l.in.w, l.stride),
                         l.out.c};
    if (l.out != expected)
      return invalid_argument("conv2d output " + l.out.to_string() + " does not match SAME " +
                              "padding of input " + l.in.to_string() + " at stride " +
                              std::to_string(l.stride) + " (expected " + expected.to_string() +
                              ")");
    if (last) return invalid_argument("the last layer must be dense (it produces the logits)");
  } else {
    return invalid_argument("unknown layer type " + std::to_string(uint32_t(l.type)));
  }
  if (l.dot_length() > kMaxDotLength)
    return invalid_argument("dot product of " + std::to_string(l.dot_length()) +
                            " inputs exceeds " + std::to_string(kMaxDotLength));
  if (!is_int8(l.input_zero_point))
    return invalid_argument("input zero point " + std::to_string(l.input_zero_point) +
                            " is not an int8");
  if (last) {
    if (l.relu || l.output_zero_point != 0 || l.multiplier != 0 || l.shift != 0)
      return invalid_argument(
          "the last layer outputs raw int32 logits: relu, output zero point, multiplier and "
          "shift must all be 0");
  } else {
    if (!is_int8(l.output_zero_point))
      return invalid_argument("output zero point " + std::to_string(l.output_zero_point) +
                              " is not an int8");
    if (l.multiplier != 0 && l.multiplier < (1 << 30))
      return invalid_argument("multiplier " + std::to_string(l.multiplier) +
                              " must be 0 or in [2^30, 2^31-1]");
    if (l.shift < -31 || l.shift > 30)
      return invalid_argument("shift " + std::to_string(l.shift) + " not in [-31, 30]");
  }
  if (!check_data) return Status::Ok();
  if (l.bias.size() != l.out.c)
    return invalid_argument(std::to_string(l.bias.size()) + " biases for " +
                            std::to_string(l.out.c) + " outputs");
  for (int32_t b : l.bias) {
    if (b < -kMaxAbsBias || b > kMaxAbsBias)
      return invalid_argument("bias " + std::to_string(b) + " outside [-2^30, 2^30]");
  }
  if (l.weights.size() != uint64_t{l.out.c} * l.dot_length())
    return invalid_argument(std::to_string(l.weights.size()) + " weights, shape needs " +
                            std::to_string(uint64_t{l.out.c} * l.dot_length()));
  return Status::Ok();
}

}  // namespace

Status validate_model(const Model& model, bool check_data) {
  P2C2R_RETURN_IF_ERROR(check_shape(model.input, "model input"));
  if (!is_int8(model.input_zero_point))
    return invalid_argument("model input zero point is not an int8");
  if (model.layers.empty() || model.layers.size() > kMaxLayers)
    return invalid_argument("a model has 1.." + std::to_string(kMaxLayers) + " layers, not " +
                            std::to_string(model.layers.size()));
  Shape shape = model.input;
  int32_t zero_point = model.input_zero_point;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& l = model.layers[i];
    const std::string where = "layer " + std::to_string(i);
    if (l.in != shape)
      return invalid_argument(where + " expects input " + l.in.to_string() + " but " +
                              (i == 0 ? "the model input is " : "the previous layer produces ") +
                              shape.to_string());
    if (l.input_zero_point != zero_point)
      return invalid_argument(where + " expects input zero point " +
                              std::to_string(l.input_zero_point) + " but its input has " +
                              std::to_string(zero_point));
    P2C2R_RETURN_IF_ERROR(
        check_layer(l, i + 1 == model.layers.size(), check_data).with_context(where));
    shape = l.out;
    zero_point = l.output_zero_point;
  }
  return Status::Ok();
}

namespace {

uint64_t padded4(uint64_t n) { return (n + 3) / 4 * 4; }

}  // namespace

Bytes encode_model(const Model& model) {
  Bytes out;
  for (uint32_t w : {kModelMagic, kModelVersion, uint32_t(model.layers.size()), model.input.h,
                     model.input.w, model.input.c, uint32_t(model.input_zero_point), 0u})
    append_le(out, w);
  for (const auto& l : model.layers) {
    for (uint32_t w :
         {uint32_t(l.type), l.relu ? 1u : 0u, l.in.h, l.in.w, l.in.c, l.out.h, l.out.w, l.out.c,
          l.kernel_size, l.stride, uint32_t(l.input_zero_point), uint32_t(l.output_zero_point),
          uint32_t(l.multiplier), uint32_t(l.shift), uint32_t(l.weights.size()), 0u})
      append_le(out, w);
    for (int32_t b : l.bias) append_le(out, b);
    for (int8_t w : l.weights) out.push_back(static_cast<uint8_t>(w));
    out.resize(padded4(out.size()), 0);
  }
  return out;
}

Result<Model> decode_model(ByteView blob) {
  WordReader r(blob);
  if (!r.has(kHeaderWords * 4))
    return invalid_argument("weights blob of " + std::to_string(blob.size()) +
                            " bytes is shorter than the " + std::to_string(kHeaderWords * 4) +
                            "-byte header");
  if (const uint32_t magic = r.u32(); magic != kModelMagic)
    return invalid_argument("weights blob has bad magic " + to_hex(blob.first(4)) +
                            " (expected \"P2NN\")");
  if (const uint32_t version = r.u32(); version != kModelVersion)
    return invalid_argument("weights blob version " + std::to_string(version) +
                            " is not supported (this build reads version " +
                            std::to_string(kModelVersion) + ")");
  Model model;
  const uint32_t layer_count = r.u32();
  model.input = {r.u32(), r.u32(), r.u32()};
  model.input_zero_point = r.i32();
  if (r.u32() != 0) return invalid_argument("weights blob header: reserved word is not 0");
  if (layer_count < 1 || layer_count > kMaxLayers)
    return invalid_argument("weights blob declares " + std::to_string(layer_count) +
                            " layers, must be 1.." + std::to_string(kMaxLayers));
  for (uint32_t i = 0; i < layer_count; ++i) {
    const std::string where = "weights blob layer " + std::to_string(i);
    if (!r.has(kLayerHeaderWords * 4))
      return invalid_argument(where + ": truncated at byte " + std::to_string(r.pos()) +
                              " (layer header needs " + std::to_string(kLayerHeaderWords * 4) +
                              " bytes, " + std::to_string(r.left()) + " left)");
    Layer l;
    l.type = static_cast<LayerType>(r.u32());
    const uint32_t flags = r.u32();
    l.relu = flags & 1;
    l.in = {r.u32(), r.u32(), r.u32()};
    l.out = {r.u32(), r.u32(), r.u32()};
    l.kernel_size = r.u32();
    l.stride = r.u32();
    l.input_zero_point = r.i32();
    l.output_zero_point = r.i32();
    l.multiplier = r.i32();
    l.shift = r.i32();
    const uint32_t weight_count = r.u32();
    const uint32_t reserved = r.u32();
    if (flags > 1 || reserved != 0)
      return invalid_argument(where + ": unknown flags or nonzero reserved word");
    // Shapes first, so the counts below are bounded before anything is read.
    P2C2R_RETURN_IF_ERROR(check_layer(l, i + 1 == layer_count, false).with_context(where));
    const uint64_t expected = uint64_t{l.out.c} * l.dot_length();
    if (weight_count != expected)
      return invalid_argument(where + ": " + std::to_string(weight_count) +
                              " weights declared, shape " + l.in.to_string() + " -> " +
                              l.out.to_string() + " needs " + std::to_string(expected));
    const uint64_t data = uint64_t{l.out.c} * 4 + padded4(weight_count);
    if (!r.has(data))
      return invalid_argument(where + ": truncated (needs " + std::to_string(data) +
                              " bytes of biases and weights, " + std::to_string(r.left()) +
                              " left)");
    l.bias = from_bytes<int32_t>(r.take(uint64_t{l.out.c} * 4));
    ByteView w = r.take(padded4(weight_count));
    l.weights.assign(reinterpret_cast<const int8_t*>(w.data()),
                     reinterpret_cast<const int8_t*>(w.data()) + weight_count);
    model.layers.push_back(std::move(l));
  }
  if (r.left() != 0)
    return invalid_argument("weights blob has " + std::to_string(r.left()) +
                            " trailing bytes after the last layer");
  P2C2R_RETURN_IF_ERROR(validate_model(model).with_context("weights blob"));
  return model;
}

int32_t requantize(int32_t acc, int32_t multiplier, int32_t shift) {
  const int32_t left = std::max(shift, 0), right = std::max(-shift, 0);
  const int64_t shifted =
      std::clamp<int64_t>(int64_t{acc} * (int64_t{1} << left), INT32_MIN, INT32_MAX);
  // Rounding doubling high multiply: (x * m + nudge) / 2^31, truncated toward
  // zero. multiplier >= 0, so the INT32_MIN * INT32_MIN corner cannot occur.
  const int64_t ab = shifted * multiplier;
  const int64_t t = ab + (ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30));
  const int64_t high = t >= 0 ? (t >> 31) : -((-t) >> 31);
  // Rounding divide by 2^right, ties away from zero.
  const int64_t mask = (int64_t{1} << right) - 1;
  const int64_t remainder = high & mask;
  const int64_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return static_cast<int32_t>((high >> right) + (remainder > threshold ? 1 : 0));
}

int8_t requantize_to_int8(int32_t acc, const Layer& layer) {
  const int32_t v = std::clamp(requantize(acc, layer.multiplier, layer.shift), -256, 256) +
                    layer.output_zero_point;
  const int32_t low = layer.relu ? layer.output_zero_point : -128;
  return static_cast<int8_t>(std::clamp(v, low, 127));
}

QuantizedMultiplier quantize_multiplier(double scale) {
  if (!(scale > 0)) return {};
  int exponent = 0;
  const double q = std::frexp(scale, &exponent);  // scale = q * 2^exponent, q in [0.5, 1)
  int64_t m = std::llround(q * double(int64_t{1} << 31));
  if (m == (int64_t{1} << 31)) {
    m /= 2;
    ++exponent;
  }
  if (exponent < -31) return {};  // underflows to 0
  return {static_cast<int32_t>(m), std::min(exponent, 30)};
}

}  // namespace p2c2r::kernels::nn
