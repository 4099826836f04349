// The AI observing a physics world (nn_mlp with from_world=1): features
// built from hand-placed bodies are the documented ones, device and CPU
// reference agree on them, and a world that does not fit is refused.
#include <gtest/gtest.h>

#include "kernels/nn/observe.h"
#include "kernels/physics/world.h"
#include "kernels/registry.h"
#include "runtime/execute.h"

namespace p2c2r::kernels {
namespace {

constexpr int32_t kOne = physics::kOne;

physics::Body body(int32_t x, int32_t y, int32_t z, int32_t vx = 0) {
  return {{x, y, z}, {vx, 0, 0}};
}

std::vector<int8_t> features_of(const Bytes& obs, uint32_t npc, uint32_t features) {
  std::vector<int8_t> f(features);
  for (uint32_t k = 0; k < features; ++k)
    f[k] = static_cast<int8_t>(obs[uint64_t{npc} * features + k]);
  return f;
}

TEST(NnWorldTest, FeaturesArePositionVelocityAndNearestNeighbours) {
  // Body 0 at the centre of a 4-unit box moving +x at 1 unit/s; bodies 1
  // and 2 one unit away (a tie: the lower id comes first); body 3 far off.
  const Bytes world = physics::world_blob(
      {body(2 * kOne, 2 * kOne, 2 * kOne, kOne), body(3 * kOne, 2 * kOne, 2 * kOne),
       body(2 * kOne, kOne, 2 * kOne), body(kOne / 2, kOne / 2, kOne / 2)});
  const nn::WorldView shape{.bodies = 4, .grid = 4};
  ASSERT_TRUE(nn::check_world_for_observations(shape, world).ok());
  const Bytes obs = nn::observations_from_world(shape, world, 12, 0);
  ASSERT_EQ(obs.size(), 4u * 12);
  // Position from the centre (±127 at the walls), velocity and offsets in 1/32 unit.
  EXPECT_EQ(features_of(obs, 0, 12), (std::vector<int8_t>{0, 0, 0, 32, 0, 0, 32, 0, 0, 0, -32, 0}));
  // Body 3 sits 1.5 units from the walls: (0.5 - 2) / 2 * 127 = -95.25 -> -95.
  // Its nearest is body 2 (offset (1.5, 0.5, 1.5) units = (48, 16, 48)).
  const auto far = features_of(obs, 3, 12);
  EXPECT_EQ(far[0], -95);
  EXPECT_EQ((std::vector<int8_t>{far[6], far[7], far[8]}), (std::vector<int8_t>{48, 16, 48}));

  // The model's input zero point shifts every value; fewer features cut the list short.
  const Bytes shifted = nn::observations_from_world(shape, world, 8, -5);
  EXPECT_EQ(features_of(shifted, 0, 8), (std::vector<int8_t>{-5, -5, -5, 27, -5, -5, 27, -5}));
}

TEST(NnWorldTest, OffsetsAndVelocitiesSaturate) {
  const Bytes world =
      physics::world_blob({body(kOne / 2, kOne / 2, kOne / 2, 64 * kOne),
                           body(63 * kOne + kOne / 2, 63 * kOne + kOne / 2, 63 * kOne + kOne / 2)});
  const Bytes obs = nn::observations_from_world({.bodies = 2, .grid = 64}, world, 9, 0);
  EXPECT_EQ(features_of(obs, 0, 9),
            (std::vector<int8_t>{-125, -125, -125, 127, 0, 0, 127, 127, 127}));
}

TEST(NnWorldTest, WorldsThatDoNotFitAreRefused) {
  const Bytes world = physics::world_blob({body(kOne, kOne, kOne), body(2 * kOne, kOne, kOne)});
  auto st = nn::check_world_for_observations({.bodies = 3, .grid = 4}, world);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("holds 2 bodies"), std::string::npos) << st.message();
  st = nn::check_world_for_observations({.bodies = 2, .grid = 4}, Bytes(10, 0));
  EXPECT_FALSE(st.ok());
  // A centre outside the box.
  const Bytes outside =
      physics::world_blob({body(9 * kOne, kOne, kOne), body(2 * kOne, kOne, kOne)});
  EXPECT_FALSE(nn::check_world_for_observations({.bodies = 2, .grid = 4}, outside).ok());
}

TEST(NnWorldTest, DeviceMatchesReferenceAndBadWorldsAreClearErrors) {
  const Registry registry = builtin_registry();
  const Kernel& mlp = **registry.find("nn_mlp");
  auto params = mlp.resolve_params(5, {{"from_world", 1},
                                       {"batch", 40},
                                       {"world_grid", 5},
                                       {"inputs", 20},
                                       {"hidden", 24},
                                       {"actions", 6}});
  ASSERT_TRUE(params.ok()) << params.status().message();
  EXPECT_EQ(mlp.input_names_for(*params), (std::vector<std::string>{"weights", "world"}));
  auto inputs = mlp.generate_inputs(*params);
  ASSERT_TRUE(inputs.ok());
  auto device = runtime::open_device("");
  ASSERT_TRUE(device.ok()) << device.status().message();
  auto run = runtime::execute_unit(**device, mlp, *params, *inputs);
  ASSERT_TRUE(run.ok()) << run.status().message();
  auto reference = mlp.reference(*params, *inputs, 2);
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ(run->output, *reference);

  // The world of another body count, and a world of garbage, are refused before any dispatch.
  auto other = mlp.resolve_params(5, {{"from_world", 1},
                                      {"batch", 41},
                                      {"world_grid", 5},
                                      {"inputs", 20},
                                      {"hidden", 24},
                                      {"actions", 6}});
  ASSERT_TRUE(other.ok());
  auto refused = runtime::execute_unit(**device, mlp, *other, *inputs);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("bodies"), std::string::npos)
      << refused.status().message();
  std::vector<Bytes> garbage = {(*inputs)[0], Bytes(100, 7)};
  EXPECT_FALSE(mlp.check_inputs(*params, garbage).ok());
  EXPECT_FALSE(mlp.reference(*params, garbage, 1).ok());
  // More NPCs than the box has cells.
  EXPECT_FALSE(mlp.resolve_params(5, {{"from_world", 1}, {"batch", 200}, {"world_grid", 5}}).ok());
}

}  // namespace
}  // namespace p2c2r::kernels
