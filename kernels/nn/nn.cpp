// The nn family: int8 NPC policy networks over a batch of observations.
//
// nn_mlp runs a multi-layer perceptron over a feature vector per NPC; nn_cnn
// runs conv3x3 layers over a local occupancy grid per NPC, then two dense
// layers. Both take the same two inputs, a weights blob (kernels/nn/model.h)
// and an observations blob, and return logits plus the chosen action per NPC
// (kernels/nn/inference.h). The parameters fix the architecture; the blob
// supplies everything learned (weights, biases, zero points, requantization,
// ReLU flags), so a trained model of that shape can be uploaded as is.
#include <bit>
#include <fstream>
#include <numeric>

#include "common/rng.h"
#include "kernels/nn/inference.h"
#include "kernels/nn/observe.h"
#include "kernels/physics/world.h"
#include "kernels/registry.h"
#include "nn_argmax.spv.h"
#include "nn_conv.spv.h"
#include "nn_dense.spv.h"

namespace p2c2r::kernels {
namespace {

using nn::Layer;
using nn::LayerType;
using nn::Model;
using nn::Shape;

Layer dense(const Shape& in, uint32_t out, bool relu) {
  return {.type = LayerType::kDense, .relu = relu, .in = in, .out = {1, 1, out}};
}

Layer conv3x3(const Shape& in, uint32_t filters, uint32_t stride) {
  return {.type = LayerType::kConv2d,
          .relu = true,
          .in = in,
          .out = {nn::same_output_side(in.h, stride), nn::same_output_side(in.w, stride), filters},
          .kernel_size = 3,
          .stride = stride};
}

// Learned values for a skeleton, from the seed: weights in [-100, 100],
// ReLU layers with output zero point -128 (TFLite's choice for [0, max]
// ranges) and a requantization scale that keeps activations spread out.
void fill_model(Model& m, Rng& rng) {
  int32_t zero_point = m.input_zero_point;
  for (size_t i = 0; i < m.layers.size(); ++i) {
    Layer& l = m.layers[i];
    const bool last = i + 1 == m.layers.size();
    const uint64_t k = l.dot_length();
    l.input_zero_point = zero_point;
    l.weights.resize(l.out.c * k);
    for (auto& w : l.weights) w = static_cast<int8_t>(rng.between(-100, 100));
    const int64_t bias_range = int64_t{1024} << (std::bit_width(k) / 2);
    l.bias.resize(l.out.c);
    for (auto& b : l.bias) b = static_cast<int32_t>(rng.between(-bias_range, bias_range));
    if (!last) {
      l.output_zero_point = l.relu ? -128 : static_cast<int32_t>(rng.between(-16, 16));
      l.multiplier = static_cast<int32_t>(rng.between(int64_t{1} << 30, INT32_MAX));
      l.shift = -(7 + static_cast<int32_t>(std::bit_width(k) / 2));
      zero_point = l.output_zero_point;
    }
  }
}

class NnKernel : public Kernel {
 public:
  uint32_t version() const override { return 1; }
  std::string family() const override { return "nn"; }
  std::vector<Shader> shaders() const override {
    return {{"nn_dense", nn_dense_spv, {.binding_count = 4, .push_constant_size = 44}},
            {"nn_conv", nn_conv_spv, {.binding_count = 4, .push_constant_size = 80}},
            {"nn_argmax", nn_argmax_spv, {.binding_count = 2, .push_constant_size = 8}}};
  }
  std::vector<std::string> input_names() const override { return {"weights", "observations"}; }
  std::vector<std::string> input_names_for(const Params& p) const override {
    if (observes_world(p)) return {"weights", "world"};
    return input_names();
  }

  Status check_inputs(const Params& p, const std::vector<Bytes>& inputs) const override {
    return decode(p, inputs).status();
  }

  Result<Bytes> reference(const Params& p, const std::vector<Bytes>& inputs,
                          unsigned threads) const override {
    P2C2R_ASSIGN_OR_RETURN(Model model, decode(p, inputs));
    Bytes built;
    return nn::infer_reference(model, observations_of(p, model, inputs, built), p.u32("batch"),
                               threads);
  }

  Result<Plan> plan(const Params& p, const std::vector<Bytes>& inputs,
                    uint32_t local_size) const override {
    P2C2R_ASSIGN_OR_RETURN(Model model, decode(p, inputs));
    Bytes built;
    return nn::plan_inference(model, observations_of(p, model, inputs, built), p.u32("batch"),
                              local_size);
  }

  uint64_t cost(const Params& p) const override {
    return 2 * skeleton(p).macs_per_observation() * uint64_t(p.get("batch"));
  }
  double work_items(const Params& p) const override { return double(cost(p) / 2); }
  std::string work_unit_name() const override { return "MAC"; }

  Result<std::string> write_output(const Params& p, ByteView output,
                                   const std::string& path) const override;

 protected:
  // The architecture the parameters describe, without learned values.
  virtual Model skeleton(const Params& p) const = 0;

  // Whether the second input is a physics world (from_world=1) whose bodies
  // are the NPCs, observed by nn::observations_from_world.
  virtual bool observes_world(const Params&) const { return false; }
  static nn::WorldView world_view(const Params& p) {
    return {.bodies = p.u32("batch"), .grid = p.u32("world_grid")};
  }
  // The observations of a decoded unit: its second input, or those built
  // from the world it holds (kept in `built`).
  ByteView observations_of(const Params& p, const Model& model, const std::vector<Bytes>& inputs,
                           Bytes& built) const {
    if (!observes_world(p)) return inputs[1];
    built = nn::observations_from_world(world_view(p), inputs[1],
                                        static_cast<uint32_t>(model.input.elements()),
                                        model.input_zero_point);
    return built;
  }

  Status check_params(const Params& p) const override {
    return nn::validate_model(skeleton(p), /*check_data=*/false);
  }

 private:
  // The decoded model, after checking that it has the parameters'
  // architecture and that the observations fit it.
  Result<Model> decode(const Params& p, const std::vector<Bytes>& inputs) const {
    if (inputs.size() != 2)
      return invalid_argument(std::string("expected 2 input blobs (weights, ") +
                              (observes_world(p) ? "world" : "observations") + "), got " +
                              std::to_string(inputs.size()));
    P2C2R_ASSIGN_OR_RETURN(Model model, nn::decode_model(inputs[0]));
    const Model expected = skeleton(p);
    if (model.input != expected.input || model.layers.size() != expected.layers.size())
      return invalid_argument(name() + ": the weights blob's model (input " +
                              model.input.to_string() + ", " + std::to_string(model.layers.size()) +
                              " layers) is not the architecture the parameters describe (input " +
                              expected.input.to_string() + ", " +
                              std::to_string(expected.layers.size()) + " layers)");
    for (size_t i = 0; i < model.layers.size(); ++i) {
      const Layer &a = model.layers[i], &b = expected.layers[i];
      if (a.type != b.type || a.in != b.in || a.out != b.out || a.kernel_size != b.kernel_size ||
          a.stride != b.stride)
        return invalid_argument(name() + ": weights blob layer " + std::to_string(i) + " (" +
                                a.in.to_string() + " -> " + a.out.to_string() +
                                ") differs from the parameters' architecture (" + b.in.to_string() +
                                " -> " + b.out.to_string() + ")");
    }
    if (observes_world(p)) {
      P2C2R_RETURN_IF_ERROR(nn::check_world_for_observations(world_view(p), inputs[1]));
      return model;
    }
    const uint64_t obs = uint64_t(p.get("batch")) * model.input.elements();
    if (inputs[1].size() != obs)
      return invalid_argument("input 'observations' is " + std::to_string(inputs[1].size()) +
                              " bytes, expected " + std::to_string(obs) + " (batch x " +
                              model.input.to_string() + " int8)");
    return model;
  }
};

Result<std::string> NnKernel::write_output(const Params& p, ByteView output,
                                           const std::string& path) const {
  const uint32_t batch = p.u32("batch"), actions = p.u32("actions");
  P2C2R_ASSIGN_OR_RETURN(nn::Decisions d, nn::decode_output(output, batch, actions));
  std::ofstream out(path, std::ios::trunc);
  std::vector<uint32_t> histogram(actions, 0);
  for (uint32_t a : d.actions) histogram[std::min(a, actions - 1)]++;
  out << "# " << name() << ": " << batch << " NPCs, " << actions << " actions\n# action counts:";
  for (uint32_t a = 0; a < actions; ++a) out << " " << a << ":" << histogram[a];
  out << "\nnpc\taction\tlogits\n";
  for (uint32_t n = 0; n < batch; ++n) {
    out << n << "\t" << d.actions[n] << "\t";
    for (uint32_t a = 0; a < actions; ++a)
      out << (a ? " " : "") << d.logits[uint64_t{n} * actions + a];
    out << "\n";
  }
  if (!out) return unavailable("cannot write " + path);
  return std::string("text table");
}

class MlpKernel final : public NnKernel {
 public:
  std::string name() const override { return "nn_mlp"; }
  std::string description() const override {
    return "int8 MLP policy: NPC feature vectors -> logits and chosen actions";
  }
  std::vector<ParamSpec> param_specs() const override {
    return {
        {"batch", 1, 8192, 4096, "NPC observations per unit"},
        {"inputs", 1, 1024, 64, "features per observation"},
        {"hidden", 1, 1024, 128, "width of each hidden layer"},
        {"hidden_layers", 0, 8, 2, "hidden dense + ReLU layers"},
        {"actions", 2, 256, 16, "actions (logits) per NPC"},
        {"from_world", 0, 1, 0,
         "0: the second input is observations; 1: it is a physics world, one NPC per body "
         "(batch = its bodies), observed on the CPU"},
        {"world_grid", 2, 64, 6, "from_world: the world's box side in units (its physics 'grid')"}};
  }
  std::map<std::string, int64_t> small_params() const override {
    return {{"batch", 37}, {"inputs", 13}, {"hidden", 20}, {"hidden_layers", 2}, {"actions", 5}};
  }

  // from_world: a world as a physics unit would start from (bodies at rest).
  Result<std::vector<Bytes>> generate_inputs(const Params& p) const override {
    Rng rng(p.seed);
    Model model = skeleton(p);
    model.input_zero_point = static_cast<int32_t>(rng.between(-16, 16));
    fill_model(model, rng);
    if (observes_world(p)) {
      physics::Config config;
      config.bodies = p.u32("batch");
      config.grid = p.u32("world_grid");
      config.radius = physics::kOne / 4;
      return std::vector<Bytes>{nn::encode_model(model), physics::generate_world(config, p.seed)};
    }
    Bytes obs(uint64_t(p.get("batch")) * model.input.elements());
    for (auto& b : obs) b = static_cast<uint8_t>(rng.between(-128, 127));
    return std::vector<Bytes>{nn::encode_model(model), std::move(obs)};
  }

 protected:
  bool observes_world(const Params& p) const override { return p.get("from_world") != 0; }
  Status check_params(const Params& p) const override {
    P2C2R_RETURN_IF_ERROR(NnKernel::check_params(p));
    if (observes_world(p)) {
      const uint64_t grid = p.get("world_grid");
      if (p.get("batch") > nn::kMaxWorldNpcs || uint64_t(p.get("batch")) > grid * grid * grid)
        return invalid_argument("nn_mlp: from_world takes at most " +
                                std::to_string(nn::kMaxWorldNpcs) +
                                " bodies, and at most world_grid^3 (one per cell)");
    }
    return Status::Ok();
  }

  Model skeleton(const Params& p) const override {
    Model m{.input = {1, 1, p.u32("inputs")}};
    Shape shape = m.input;
    for (uint32_t i = 0; i < p.u32("hidden_layers"); ++i) {
      m.layers.push_back(dense(shape, p.u32("hidden"), true));
      shape = m.layers.back().out;
    }
    m.layers.push_back(dense(shape, p.u32("actions"), false));
    return m;
  }
};

class CnnKernel final : public NnKernel {
 public:
  std::string name() const override { return "nn_cnn"; }
  std::string description() const override {
    return "int8 CNN policy: per-NPC occupancy grids -> conv3x3 layers -> logits and actions";
  }
  std::vector<ParamSpec> param_specs() const override {
    return {{"batch", 1, 8192, 1024, "NPC observations per unit"},
            {"grid", 4, 64, 16, "side of the local occupancy grid"},
            {"channels", 1, 16, 4, "grid channels (walls, allies, enemies, items, ...)"},
            {"filters", 1, 64, 16, "output channels of each conv layer"},
            {"conv_layers", 1, 4, 2, "conv3x3 + ReLU layers (the first stride 1, then stride 2)"},
            {"hidden", 1, 1024, 64, "width of the dense layer after the convolutions"},
            {"actions", 2, 256, 16, "actions (logits) per NPC"}};
  }
  std::map<std::string, int64_t> small_params() const override {
    return {{"batch", 9},       {"grid", 7},    {"channels", 3}, {"filters", 5},
            {"conv_layers", 2}, {"hidden", 11}, {"actions", 4}};
  }

  // Occupancy grids as a game would send them: channel 0 walls (a few
  // straight segments), then allies, enemies, items and any extra channels as
  // sparse cells; 127 = occupied, -128 = free (zero point -128).
  Result<std::vector<Bytes>> generate_inputs(const Params& p) const override {
    Rng rng(p.seed);
    Model model = skeleton(p);
    model.input_zero_point = -128;
    fill_model(model, rng);
    const uint32_t n = p.u32("grid"), c = p.u32("channels");
    Bytes obs(uint64_t(p.get("batch")) * n * n * c, 0x80);
    for (uint64_t npc = 0; npc < uint64_t(p.get("batch")); ++npc) {
      uint8_t* g = obs.data() + npc * n * n * c;
      const auto cell = [&](uint32_t y, uint32_t x, uint32_t ch) -> uint8_t& {
        return g[(uint64_t{y} * n + x) * c + ch];
      };
      for (int wall = 0; wall < 3; ++wall) {
        const bool horizontal = rng.below(2);
        const uint32_t fixed = uint32_t(rng.below(n)), from = uint32_t(rng.below(n));
        const uint32_t to = std::min(n, from + 2 + uint32_t(rng.below(n / 2 + 1)));
        for (uint32_t t = from; t < to; ++t)
          (horizontal ? cell(fixed, t, 0) : cell(t, fixed, 0)) = 127;
      }
      for (uint32_t ch = 1; ch < c; ++ch) {
        for (uint32_t k = 0, count = uint32_t(rng.below(4)); k < count; ++k)
          cell(uint32_t(rng.below(n)), uint32_t(rng.below(n)), ch) = 127;
      }
    }
    return std::vector<Bytes>{nn::encode_model(model), std::move(obs)};
  }

 protected:
  Model skeleton(const Params& p) const override {
    const uint32_t n = p.u32("grid");
    Model m{.input = {n, n, p.u32("channels")}};
    Shape shape = m.input;
    for (uint32_t i = 0; i < p.u32("conv_layers"); ++i) {
      m.layers.push_back(conv3x3(shape, p.u32("filters"), i == 0 ? 1 : 2));
      shape = m.layers.back().out;
    }
    m.layers.push_back(dense(shape, p.u32("hidden"), true));
    m.layers.push_back(dense(m.layers.back().out, p.u32("actions"), false));
    return m;
  }
};

}  // namespace

void register_nn_kernels(Registry& registry) {
  registry.add(std::make_unique<MlpKernel>());
  registry.add(std::make_unique<CnnKernel>());
}

}  // namespace p2c2r::kernels
