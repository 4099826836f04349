// The nn family: hand-built networks with known answers, quantized inference
// tracking a float evaluation of the same network, gemmlowp requantization,
// and malformed weight blobs rejected with clear errors. Every device run is
// compared with the CPU reference byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/digest.h"
#include "kernels/nn/inference.h"
#include "kernels/nn/model.h"
#include "kernels/registry.h"
#include "runtime/execute.h"

namespace p2c2r {
namespace {

using kernels::nn::Layer;
using kernels::nn::LayerType;
using kernels::nn::Model;
using kernels::nn::Shape;

const kernels::Kernel& kernel(const std::string& name) {
  static const kernels::Registry registry = kernels::builtin_registry();
  auto k = registry.find(name);
  if (!k.ok()) throw std::runtime_error(k.status().to_string());
  return **k;
}

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
                          {{"batch", kBatch}, {"inputs", kActions}, {"hidden", kActions},
                           {"hidden_layers", 1}, {"actions", kActions}},
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
                          {{"batch", kBatch}, {"grid", kSide}, {"channels", 2}, {"filters", 1},
                           {"conv_layers", 1}, {"hidden", 4}, {"actions", 4}},
                          model, obs);
  ASSERT_EQ(d.actions.size(), kBatch);
  for (uint32_t n = 0; n < kBatch; ++n) {
    for (uint32_t q = 0; q < 4; ++q) EXPECT_EQ(d.logits[n * 4 + q], enemies[n][q]) << "NPC " << n;
    EXPECT_EQ(d.actions[n], argmax_lowest(enemies[n].data(), 4)) << "NPC " << n;
  }
}

}  // namespace
}  // namespace p2c2r
