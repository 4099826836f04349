// The nn family: hand-built networks with known answers, quantized inference
// tracking a float evaluation of the same network, gemmlowp requantization,
// and malformed weight blobs rejected with clear errors. Every device run is
// compared with the CPU reference byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>

#include "common/digest.h"
#include "kernels/nn/inference.h"
#include "kernels/nn/model.h"
#include "kernels/registry.h"
#include "runtime/execute.h"
#include "tests/support/kernels.h"

namespace p2c2r {
namespace {

using kernels::nn::Layer;
using kernels::nn::LayerType;
using kernels::nn::Model;
using kernels::nn::Shape;

using testing::kernel;

runtime::Device& device() {
  static auto d = runtime::open_device("", {}, {});
  if (!d.ok()) throw std::runtime_error(d.status().to_string());
  return **d;
}

// Runs a unit on the device and on the CPU, checks they agree byte for byte
// and returns the decoded decisions.
kernels::nn::Decisions run_both(const std::string& name,
                                const std::map<std::string, int64_t>& given, const Model& model,
                                const Bytes& observations) {
  const auto& k = kernel(name);
  auto params = k.resolve_params(1, given);
  EXPECT_TRUE(params.ok()) << params.status().to_string();
  const std::vector<Bytes> inputs{kernels::nn::encode_model(model), observations};
  auto reference = k.reference(*params, inputs, 2);
  EXPECT_TRUE(reference.ok()) << reference.status().to_string();
  auto run = runtime::execute_unit(device(), k, *params, inputs);
  EXPECT_TRUE(run.ok()) << run.status().to_string();
  if (!reference.ok() || !run.ok()) return {};
  EXPECT_EQ(run->digest, digest_of(*reference));
  auto decisions =
      kernels::nn::decode_output(*reference, params->u32("batch"), params->u32("actions"));
  EXPECT_TRUE(decisions.ok());
  return decisions.ok() ? *decisions : kernels::nn::Decisions{};
}

Layer dense_layer(uint32_t in, uint32_t out) {
  return {.type = LayerType::kDense, .in = {1, 1, in}, .out = {1, 1, out}};
}

// requantize() with scale exactly 1: multiplier 2^30 and a left shift of 1.
void identity_requantization(Layer& l, int32_t zero_point, bool relu) {
  l.multiplier = 1 << 30;
  l.shift = 1;
  l.output_zero_point = zero_point;
  l.relu = relu;
}

uint32_t argmax_lowest(const int32_t* values, uint32_t n) {
  return static_cast<uint32_t>(std::max_element(values, values + n) - values);
}

uint32_t argmax_lowest_float(const std::vector<float>& values) {
  return static_cast<uint32_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

TEST(NnHandBuiltTest, MlpPicksTheLargestFeature) {
  // Hidden layer: identity into an int8 activation (zero point -128, ReLU);
  // output layer: identity, so logit i = feature i + 128.
  constexpr uint32_t kActions = 6, kBatch = 300;
  Model model{.input = {1, 1, kActions}, .input_zero_point = -128};
  Layer hidden = dense_layer(kActions, kActions);
  hidden.input_zero_point = -128;
  identity_requantization(hidden, -128, true);
  Layer out = dense_layer(kActions, kActions);
  out.input_zero_point = -128;
  for (Layer* l : {&hidden, &out}) {
    l->bias.assign(kActions, 0);
    l->weights.assign(kActions * kActions, 0);
    for (uint32_t i = 0; i < kActions; ++i) l->weights[i * kActions + i] = 1;
  }
  model.layers = {hidden, out};

  std::mt19937 rng(7);
  Bytes obs(kBatch * kActions);
  for (auto& b : obs) b = static_cast<uint8_t>(rng() % 8 == 0 ? 127 : rng() % 256);  // many ties
  const auto d = run_both("nn_mlp",
                          {{"batch", kBatch},
                           {"inputs", kActions},
                           {"hidden", kActions},
                           {"hidden_layers", 1},
                           {"actions", kActions}},
                          model, obs);
  ASSERT_EQ(d.actions.size(), kBatch);
  for (uint32_t n = 0; n < kBatch; ++n) {
    int32_t features[kActions];
    for (uint32_t i = 0; i < kActions; ++i) {
      features[i] = int8_t(obs[n * kActions + i]);
      EXPECT_EQ(d.logits[n * kActions + i], features[i] + 128) << "NPC " << n;
    }
    EXPECT_EQ(d.actions[n], argmax_lowest(features, kActions)) << "NPC " << n;
  }
}

TEST(NnHandBuiltTest, CnnHeadsForTheQuadrantWithMostEnemies) {
  // 8x8 grid, channel 0 walls, channel 1 enemies (127 = present, -128 = free).
  // conv3x3: the centre tap copies the enemy channel; dense: enemy count per
  // quadrant (scale 1/255); output: identity, so logit q = enemies in q.
  constexpr uint32_t kSide = 8, kBatch = 50;
  Model model{.input = {kSide, kSide, 2}, .input_zero_point = -128};
  Layer conv{.type = LayerType::kConv2d,
             .in = model.input,
             .out = {kSide, kSide, 1},
             .kernel_size = 3,
             .stride = 1,
             .input_zero_point = -128};
  identity_requantization(conv, -128, true);
  conv.bias = {0};
  conv.weights.assign(9 * 2, 0);
  conv.weights[4 * 2 + 1] = 1;  // tap (1, 1), channel 1
  Layer count = dense_layer(0, 4);
  count.in = conv.out;
  count.input_zero_point = -128;
  const auto scale = kernels::nn::quantize_multiplier(1.0 / 255.0);
  count.multiplier = scale.multiplier;
  count.shift = scale.shift;
  count.output_zero_point = -128;
  count.relu = true;
  count.bias.assign(4, 0);
  count.weights.assign(4 * kSide * kSide, 0);
  for (uint32_t y = 0; y < kSide; ++y)
    for (uint32_t x = 0; x < kSide; ++x)
      count.weights[(y / 4 * 2 + x / 4) * kSide * kSide + y * kSide + x] = 1;
  Layer out = dense_layer(4, 4);
  out.input_zero_point = -128;
  out.bias.assign(4, 0);
  out.weights = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  model.layers = {conv, count, out};

  std::mt19937 rng(11);
  Bytes obs(kBatch * kSide * kSide * 2, 0x80);
  std::vector<std::array<int32_t, 4>> enemies(kBatch, {0, 0, 0, 0});
  for (uint32_t n = 0; n < kBatch; ++n) {
    for (uint32_t cell = 0; cell < kSide * kSide; ++cell) {
      uint8_t* px = &obs[(n * kSide * kSide + cell) * 2];
      if (rng() % 4 == 0) px[0] = 127;
      if (rng() % 5 == 0) {
        px[1] = 127;
        enemies[n][(cell / kSide / 4) * 2 + cell % kSide / 4]++;
      }
    }
  }
  const auto d = run_both("nn_cnn",
                          {{"batch", kBatch},
                           {"grid", kSide},
                           {"channels", 2},
                           {"filters", 1},
                           {"conv_layers", 1},
                           {"hidden", 4},
                           {"actions", 4}},
                          model, obs);
  ASSERT_EQ(d.actions.size(), kBatch);
  for (uint32_t n = 0; n < kBatch; ++n) {
    for (uint32_t q = 0; q < 4; ++q) EXPECT_EQ(d.logits[n * 4 + q], enemies[n][q]) << "NPC " << n;
    EXPECT_EQ(d.actions[n], argmax_lowest(enemies[n].data(), 4)) << "NPC " << n;
  }
}

// gemmlowp's MultiplyByQuantizedMultiplier, computed in 128 bits from its
// definition: a saturating left shift, acc * m / 2^31 rounded to nearest
// with ties up, then a rounding right shift with ties away from zero.
int32_t requantize_exact(int32_t acc, int32_t multiplier, int32_t shift) {
  const int64_t x = std::clamp<int64_t>(int64_t{acc} << std::max(shift, 0), INT32_MIN, INT32_MAX);
  const __int128 ab = __int128{x} * multiplier;
  const int64_t high = int64_t((ab + (__int128{1} << 30)) >> 31);  // floor((ab + 2^30) / 2^31)
  const int right = std::max(-shift, 0);
  if (right == 0) return int32_t(high);
  const int64_t magnitude = (std::abs(high) + (int64_t{1} << (right - 1))) >> right;
  return int32_t(high < 0 ? -magnitude : magnitude);
}

TEST(NnRequantizeTest, MatchesExactRoundingOnKnownAndRandomValues) {
  // Scale 1/2 in the doubling high multiply: ties round up (gemmlowp's
  // nudge), 1.5 -> 2 and -1.5 -> -1.
  EXPECT_EQ(kernels::nn::requantize(3, 1 << 30, 0), 2);
  EXPECT_EQ(kernels::nn::requantize(-3, 1 << 30, 0), -1);
  // Scale 1/4: the high multiply halves exactly, the rounding right shift
  // breaks the tie away from zero, 1.5 -> 2 and -1.5 -> -2.
  EXPECT_EQ(kernels::nn::requantize(6, 1 << 30, -1), 2);
  EXPECT_EQ(kernels::nn::requantize(-6, 1 << 30, -1), -2);
  // Scale 1 (2^30 with a left shift of 1) is the identity, but the left
  // shift saturates before the multiply.
  EXPECT_EQ(kernels::nn::requantize(12345, 1 << 30, 1), 12345);
  EXPECT_EQ(kernels::nn::requantize(INT32_MAX, 1 << 30, 1), 1 << 30);
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> acc(-(1 << 30), 1 << 30);
  std::uniform_int_distribution<int32_t> mult(1 << 30, INT32_MAX), shift(-31, 30);
  for (int i = 0; i < 100000; ++i) {
    const int32_t a = acc(rng), m = mult(rng), s = shift(rng);
    ASSERT_EQ(kernels::nn::requantize(a, m, s), requantize_exact(a, m, s))
        << a << " * " << m << " shift " << s;
  }
}

TEST(NnRequantizeTest, QuantizeMultiplierRepresentsTheScale) {
  for (double scale : {1.0, 0.5, 0.3, 1e-3, 7.25, 1e-8}) {
    const auto q = kernels::nn::quantize_multiplier(scale);
    EXPECT_GE(q.multiplier, 1 << 30) << scale;
    EXPECT_NEAR(std::ldexp(double(q.multiplier), q.shift - 31), scale, scale * 1e-9);
  }
}

// A valid MLP unit (weights, observations) for the malformed-input tests.
struct MlpUnit {
  kernels::Params params;
  std::vector<Bytes> inputs;
};

MlpUnit small_mlp() {
  const auto& k = kernel("nn_mlp");
  auto params = k.resolve_params(4, k.small_params());
  EXPECT_TRUE(params.ok());
  return {*params, *k.generate_inputs(*params)};
}

void expect_rejected(const MlpUnit& unit, const Bytes& weights, const std::string& words) {
  const auto& k = kernel("nn_mlp");
  std::vector<Bytes> inputs{weights, unit.inputs[1]};
  const Status status = k.check_inputs(unit.params, inputs);
  EXPECT_EQ(status.code(), Code::kInvalidArgument) << words;
  EXPECT_NE(status.message().find(words), std::string::npos) << status.message();
  EXPECT_FALSE(k.reference(unit.params, inputs, 1).ok());
  EXPECT_FALSE(runtime::execute_unit(device(), k, unit.params, inputs).ok());
}

void put_u32(Bytes& blob, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) blob[offset + i] = uint8_t(value >> (8 * i));
}

TEST(NnMalformedTest, BadWeightBlobsAreRejectedClearly) {
  const MlpUnit unit = small_mlp();
  const Bytes good = unit.inputs[0];
  ASSERT_TRUE(kernel("nn_mlp").check_inputs(unit.params, unit.inputs).ok());
  constexpr size_t kLayer0 = kernels::nn::kHeaderWords * 4;  // first layer header
  expect_rejected(unit, Bytes(good.begin(), good.begin() + 20), "shorter than the 32-byte header");
  Bytes bad = good;
  bad[0] ^= 0xff;
  expect_rejected(unit, bad, "bad magic");
  bad = good;
  put_u32(bad, 4, 9);
  expect_rejected(unit, bad, "version 9");
  bad = good;
  put_u32(bad, 8, 0);
  expect_rejected(unit, bad, "declares 0 layers");
  bad = good;
  put_u32(bad, 28, 1);
  expect_rejected(unit, bad, "reserved word");
  expect_rejected(unit, Bytes(good.begin(), good.begin() + kLayer0 + 30), "layer 0: truncated");
  expect_rejected(unit, Bytes(good.begin(), good.end() - 4), "truncated");
  bad = good;
  bad.insert(bad.end(), 4, 0);
  expect_rejected(unit, bad, "trailing bytes");
  bad = good;
  put_u32(bad, kLayer0 + 14 * 4, 7);  // weight count
  expect_rejected(unit, bad, "weights declared");
  bad = good;
  put_u32(bad, kLayer0 + 12 * 4, 5);  // multiplier below 2^30
  expect_rejected(unit, bad, "multiplier 5");
  bad = good;
  put_u32(bad, kLayer0 + 13 * 4, 40);  // shift
  expect_rejected(unit, bad, "shift 40");
  bad = good;
  put_u32(bad, kLayer0, 3);  // layer type
  expect_rejected(unit, bad, "unknown layer type 3");
  bad = good;
  put_u32(bad, kLayer0 + 10 * 4, 1000);  // input zero point
  expect_rejected(unit, bad, "input zero point 1000");
}

TEST(NnMalformedTest, ModelOfAnotherArchitectureOrWrongObservationsIsRejected) {
  const MlpUnit unit = small_mlp();
  const auto& k = kernel("nn_mlp");
  auto wider = unit.params;
  wider.values["hidden"] += 1;
  const Status status = k.check_inputs(wider, unit.inputs);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("architecture"), std::string::npos) << status.message();
  auto inputs = unit.inputs;
  inputs[1].pop_back();
  const Status obs = k.check_inputs(unit.params, inputs);
  EXPECT_NE(obs.message().find("observations"), std::string::npos) << obs.message();
  EXPECT_FALSE(k.check_inputs(unit.params, {unit.inputs[0]}).ok());
}

TEST(NnMalformedTest, OversizedArchitecturesAndBatchesAreRejected) {
  // Tensors past kMaxTensorElements (which also bounds every dot product, so
  // int32 accumulators stay exact) are refused before anything runs.
  auto too_big = kernel("nn_cnn").resolve_params(
      1, {{"grid", 64}, {"channels", 16}, {"filters", 64}, {"conv_layers", 1}});
  EXPECT_EQ(too_big.status().code(), Code::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("at most 16384 elements"), std::string::npos)
      << too_big.status().message();
  auto zero = kernel("nn_mlp").resolve_params(1, {{"batch", 0}});
  EXPECT_EQ(zero.status().code(), Code::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("batch"), std::string::npos);
}

// A float network of the same architecture as a quantized Model, evaluated
// the obvious way; quantized TFLite-style (symmetric per-layer weights,
// activations calibrated on the batch) to build the int8 model.
struct FloatNet {
  Model shapes;  // layer shapes and ReLU flags only
  std::vector<std::vector<float>> weights, biases;
};

std::vector<float> float_layer(const Layer& l, const std::vector<float>& w,
                               const std::vector<float>& b, const std::vector<float>& x) {
  std::vector<float> y(l.out.elements());
  if (l.type == LayerType::kDense) {
    const uint64_t k = l.dot_length();
    for (uint32_t o = 0; o < l.out.c; ++o) {
      float acc = b[o];
      for (uint64_t i = 0; i < k; ++i) acc += x[i] * w[o * k + i];
      y[o] = acc;
    }
  } else {
    const int32_t k = int32_t(l.kernel_size);
    const int32_t top = int32_t(kernels::nn::same_padding_before(l.in.h, k, l.stride));
    const int32_t left = int32_t(kernels::nn::same_padding_before(l.in.w, k, l.stride));
    for (uint32_t oy = 0; oy < l.out.h; ++oy)
      for (uint32_t ox = 0; ox < l.out.w; ++ox)
        for (uint32_t o = 0; o < l.out.c; ++o) {
          float acc = b[o];
          for (int32_t ky = 0; ky < k; ++ky)
            for (int32_t kx = 0; kx < k; ++kx) {
              const int32_t iy = int32_t(oy * l.stride) + ky - top;
              const int32_t ix = int32_t(ox * l.stride) + kx - left;
              if (iy < 0 || ix < 0 || iy >= int32_t(l.in.h) || ix >= int32_t(l.in.w)) continue;
              for (uint32_t c = 0; c < l.in.c; ++c)
                acc += x[(iy * l.in.w + ix) * l.in.c + c] * w[((o * k + ky) * k + kx) * l.in.c + c];
            }
          y[(oy * l.out.w + ox) * l.out.c + o] = acc;
        }
  }
  if (l.relu)
    for (auto& v : y) v = std::max(v, 0.0f);
  return y;
}

// Every layer's output (the last one: float logits) for one observation.
std::vector<std::vector<float>> float_forward(const FloatNet& net, const std::vector<float>& x) {
  std::vector<std::vector<float>> outs;
  const std::vector<float>* in = &x;
  for (size_t i = 0; i < net.shapes.layers.size(); ++i) {
    outs.push_back(float_layer(net.shapes.layers[i], net.weights[i], net.biases[i], *in));
    in = &outs.back();
  }
  return outs;
}

FloatNet random_float_net(Model shapes, std::mt19937& rng) {
  FloatNet net{.shapes = std::move(shapes)};
  for (const auto& l : net.shapes.layers) {
    std::normal_distribution<float> w(0.0f, std::sqrt(2.0f / float(l.dot_length())));
    std::normal_distribution<float> b(0.0f, 0.1f);
    net.weights.emplace_back(l.out.c * l.dot_length());
    for (auto& v : net.weights.back()) v = w(rng);
    net.biases.emplace_back(l.out.c);
    for (auto& v : net.biases.back()) v = b(rng);
  }
  return net;
}

struct TrackingResult {
  double argmax_agreement = 0;  // fraction of NPCs
  double max_logit_error = 0;   // relative to the largest |float logit|
};

// Quantizes `net` calibrated on `obs`, runs the int8 kernel (device and CPU,
// same bytes) and compares with the float logits.
TrackingResult track(const std::string& kernel_name, const std::map<std::string, int64_t>& params,
                     const FloatNet& net, const std::vector<std::vector<float>>& obs) {
  const auto quantize = [](float v, float scale, int32_t zp) {
    return int8_t(std::clamp<long>(std::lround(v / scale) + zp, -128, 127));
  };
  std::vector<std::vector<std::vector<float>>> outs;
  for (const auto& x : obs) outs.push_back(float_forward(net, x));
  float lo = 0, hi = 0;
  for (const auto& x : obs)
    for (float v : x) lo = std::min(lo, v), hi = std::max(hi, v);
  float in_scale = (hi - lo) / 255.0f;
  Model model = net.shapes;
  model.input_zero_point = int32_t(std::lround(-128.0f - lo / in_scale));
  int32_t in_zp = model.input_zero_point;
  Bytes qobs;
  for (const auto& x : obs)
    for (float v : x) qobs.push_back(uint8_t(quantize(v, in_scale, in_zp)));
  float logit_scale = 0;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    Layer& l = model.layers[i];
    float w_max = 0;
    for (float w : net.weights[i]) w_max = std::max(w_max, std::fabs(w));
    const float w_scale = w_max / 127.0f;
    for (float w : net.weights[i]) l.weights.push_back(quantize(w, w_scale, 0));
    for (float b : net.biases[i]) l.bias.push_back(int32_t(std::lround(b / (in_scale * w_scale))));
    l.input_zero_point = in_zp;
    if (i + 1 == model.layers.size()) {
      logit_scale = in_scale * w_scale;
      break;
    }
    float out_max = 0;  // ReLU outputs: range [0, max], zero point -128
    for (const auto& o : outs)
      for (float v : o[i]) out_max = std::max(out_max, v);
    const float out_scale = out_max / 255.0f;
    const auto m = kernels::nn::quantize_multiplier(double(in_scale) * w_scale / out_scale);
    l.multiplier = m.multiplier;
    l.shift = m.shift;
    l.output_zero_point = in_zp = -128;
    in_scale = out_scale;
  }
  const auto d = run_both(kernel_name, params, model, qobs);
  const uint32_t actions = model.actions();
  TrackingResult r;
  double largest = 0, worst = 0;
  uint32_t agree = 0;
  for (size_t n = 0; n < obs.size() && !d.actions.empty(); ++n) {
    const auto& f = outs[n].back();
    agree += d.actions[n] == argmax_lowest_float(f);
    for (uint32_t a = 0; a < actions; ++a) {
      largest = std::max(largest, std::fabs(double(f[a])));
      worst = std::max(worst, std::fabs(d.logits[n * actions + a] * double(logit_scale) - f[a]));
    }
  }
  r.argmax_agreement = double(agree) / double(obs.size());
  r.max_logit_error = worst / largest;
  return r;
}

// Stated bounds: the int8 network picks the float network's action for at
// least 90% of NPCs (near-ties may flip), and no logit is off by more than
// 10% of the largest float logit.
constexpr double kMinArgmaxAgreement = 0.90;
constexpr double kMaxRelativeLogitError = 0.10;

TEST(NnFloatTrackingTest, QuantizedMlpTracksTheFloatNetwork) {
  std::mt19937 rng(3);
  Model shapes{.input = {1, 1, 32}};
  shapes.layers = {dense_layer(32, 64), dense_layer(64, 64), dense_layer(64, 8)};
  shapes.layers[0].relu = shapes.layers[1].relu = true;
  const FloatNet net = random_float_net(shapes, rng);
  std::uniform_real_distribution<float> feature(-1.0f, 1.0f);
  std::vector<std::vector<float>> obs(512, std::vector<float>(32));
  for (auto& x : obs)
    for (auto& v : x) v = feature(rng);
  const auto r =
      track("nn_mlp",
            {{"batch", 512}, {"inputs", 32}, {"hidden", 64}, {"hidden_layers", 2}, {"actions", 8}},
            net, obs);
  EXPECT_GE(r.argmax_agreement, kMinArgmaxAgreement);
  EXPECT_LE(r.max_logit_error, kMaxRelativeLogitError);
  std::cout << "MLP: argmax agreement " << r.argmax_agreement << ", max logit error "
            << r.max_logit_error << " of the largest logit\n";
}

TEST(NnFloatTrackingTest, QuantizedCnnTracksTheFloatNetwork) {
  std::mt19937 rng(5);
  Model shapes{.input = {12, 12, 3}};
  const auto conv = [](Shape in, uint32_t filters, uint32_t stride) {
    return Layer{.type = LayerType::kConv2d,
                 .relu = true,
                 .in = in,
                 .out = {(in.h + stride - 1) / stride, (in.w + stride - 1) / stride, filters},
                 .kernel_size = 3,
                 .stride = stride};
  };
  shapes.layers = {conv(shapes.input, 8, 1), conv({12, 12, 8}, 8, 2), dense_layer(0, 32),
                   dense_layer(32, 6)};
  shapes.layers[2].in = {6, 6, 8};
  shapes.layers[2].relu = true;
  const FloatNet net = random_float_net(shapes, rng);
  std::vector<std::vector<float>> obs(128, std::vector<float>(12 * 12 * 3));
  for (auto& x : obs)
    for (auto& v : x) v = rng() % 6 == 0 ? 1.0f : 0.0f;  // sparse occupancy
  const auto r = track("nn_cnn",
                       {{"batch", 128},
                        {"grid", 12},
                        {"channels", 3},
                        {"filters", 8},
                        {"conv_layers", 2},
                        {"hidden", 32},
                        {"actions", 6}},
                       net, obs);
  EXPECT_GE(r.argmax_agreement, kMinArgmaxAgreement);
  EXPECT_LE(r.max_logit_error, kMaxRelativeLogitError);
  std::cout << "CNN: argmax agreement " << r.argmax_agreement << ", max logit error "
            << r.max_logit_error << " of the largest logit\n";
}

}  // namespace
}  // namespace p2c2r
