// Physics with a game frame's NPC actions (actions=1): impulses whose answers
// are known, the same start world for the CPU reference and the device,
// unchanged output without actions, and clear errors for actions blobs that
// do not fit.
#include <gtest/gtest.h>

#include "common/digest.h"
#include "kernels/physics/actions.h"
#include "kernels/physics/world.h"
#include "kernels/registry.h"
#include "runtime/execute.h"
#include "tests/support/kernels.h"

namespace p2c2r {
namespace {

using kernels::physics::Body;
using kernels::physics::kOne;

const kernels::Kernel& physics_kernel() { return testing::kernel("physics"); }

kernels::Params params(std::map<std::string, int64_t> given, uint64_t seed = 7) {
  return testing::resolved("physics", given, seed);
}

// An nn output: `npc_actions` zero logits per NPC, then the actions.
Bytes actions_blob(const std::vector<uint32_t>& actions, uint32_t npc_actions) {
  std::vector<uint32_t> words(actions.size() * npc_actions, 0);
  words.insert(words.end(), actions.begin(), actions.end());
  return to_bytes(words);
}

// Four resting bodies at the centres of the cells along x in a 4^3 box;
// body 1 already moving east at max_speed less one unit/s.
Bytes four_bodies(int32_t max_speed) {
  std::vector<Body> bodies(4);
  for (int32_t i = 0; i < 4; ++i)
    bodies[i] = {{i * kOne + kOne / 2, kOne / 2, kOne / 2}, {0, 0, 0}};
  bodies[1].v[0] = max_speed - kOne;
  return kernels::physics::world_blob(bodies);
}

const std::map<std::string, int64_t> kFour = {
    {"bodies", 4}, {"grid", 4}, {"actions", 1}, {"npc_count", 3}, {"npc_actions", 16}};

TEST(PhysicsActionsTest, EastAddsActionSpeedOnXClampedAtMaxSpeed) {
  const auto p = params(kFour);
  const int32_t speed = static_cast<int32_t>(p.get("action_speed"));
  const int32_t max_speed = static_cast<int32_t>(p.get("max_speed"));
  const Bytes world = four_bodies(max_speed);
  // Body 0 east, body 1 east (13 acts as 3), body 2 stays; body 3 is no NPC.
  auto pushed = kernels::physics::apply_actions(world, actions_blob({3, 13, 0}, 16), p);
  ASSERT_TRUE(pushed.ok()) << pushed.status().to_string();
  const auto before = kernels::physics::bodies_of(world);
  const auto after = kernels::physics::bodies_of(*pushed);
  EXPECT_EQ(after[0].v[0], speed);
  EXPECT_EQ(after[0].v[1], 0);
  EXPECT_EQ(after[0].v[2], 0);
  EXPECT_EQ(after[1].v[0], max_speed) << "clamped like the simulation clamps speed";
  for (int b : {2, 3}) {
    for (int a = 0; a < 3; ++a) {
      EXPECT_EQ(after[b].v[a], before[b].v[a]) << "body " << b;
      EXPECT_EQ(after[b].p[a], before[b].p[a]) << "body " << b;
    }
  }
  for (int a = 0; a < 3; ++a) EXPECT_EQ(after[0].p[a], before[0].p[a]) << "positions untouched";
}

TEST(PhysicsActionsTest, ActionTableIsTheCompassAndAJump) {
  using kernels::physics::action_impulse;
  const int32_t s = 2 * kOne, d = static_cast<int32_t>((int64_t{s} * 46341) >> 16);
  const std::array<int32_t, 3> want[10] = {{0, 0, 0},  {0, s, 0},  {d, d, 0},   {s, 0, 0},
                                           {d, -d, 0}, {0, -s, 0}, {-d, -d, 0}, {-s, 0, 0},
                                           {-d, d, 0}, {0, 0, s}};
  for (uint32_t k = 0; k < 30; ++k) EXPECT_EQ(action_impulse(k, s), want[k % 10]) << "action " << k;
}

TEST(PhysicsActionsTest, ReferenceSimulatesThePushedWorld) {
  const auto p = params(kFour);
  const Bytes world = four_bodies(static_cast<int32_t>(p.get("max_speed")));
  const Bytes actions = actions_blob({9, 7, 1}, 16);
  auto with = physics_kernel().reference(p, {world, actions}, 1);
  ASSERT_TRUE(with.ok()) << with.status().to_string();
  auto without =
      physics_kernel().reference(params({{"bodies", 4}, {"grid", 4}}),
                                 {*kernels::physics::apply_actions(world, actions, p)}, 1);
  EXPECT_EQ(*with, *without);
  EXPECT_NE(*with, *physics_kernel().reference(params({{"bodies", 4}, {"grid", 4}}), {world}, 1));
}

TEST(PhysicsActionsTest, InputsAreWorldThenActionsOnlyWithActions) {
  EXPECT_EQ(physics_kernel().input_names_for(params({})), std::vector<std::string>{"world"});
  EXPECT_EQ(physics_kernel().input_names_for(params(kFour)),
            (std::vector<std::string>{"world", "actions"}));
  const auto generated = physics_kernel().generate_inputs(params(kFour)).value();
  ASSERT_EQ(generated.size(), 2u);
  EXPECT_TRUE(kernels::physics::check_actions(params(kFour), generated[1]).ok());
}

TEST(PhysicsActionsTest, WithoutActionsTheOutputIsUnchanged) {
  // small_params() at seed 7, as computed before actions existed.
  const auto given = physics_kernel().small_params();
  const auto p = params({given.begin(), given.end()});
  const auto inputs = physics_kernel().generate_inputs(p).value();
  EXPECT_EQ(digest_of(*physics_kernel().reference(p, inputs, 2)).hex(),
            "69e76abc8387f03ca0556766d6a1fb4df7abf6a2eb47dddf8052893a9177c898");
}

TEST(PhysicsActionsTest, DeviceMatchesReferenceWithActions) {
  auto device = runtime::open_device("", {}, {});
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  auto given = physics_kernel().small_params();
  given.insert(
      {{"actions", 1}, {"npc_count", 300}, {"npc_actions", 16}, {"action_speed", 4 * kOne}});
  const auto p = params({given.begin(), given.end()});
  const auto inputs = physics_kernel().generate_inputs(p).value();
  const Bytes expected = *physics_kernel().reference(p, inputs, 2);
  EXPECT_NE(expected, *physics_kernel().reference(
                          p, {inputs[0], actions_blob(std::vector<uint32_t>(300, 0), 16)}, 2))
      << "the generated actions change the outcome";
  for (uint32_t local_size : {32u, 64u}) {
    auto run = runtime::execute_unit(**device, physics_kernel(), p, inputs, local_size);
    ASSERT_TRUE(run.ok()) << run.status().to_string();
    EXPECT_EQ(run->output, expected) << "local size " << local_size;
  }
}

void expect_refused(const kernels::Params& p, const std::vector<Bytes>& inputs,
                    const std::string& fragment) {
  for (const Status& st :
       {physics_kernel().check_inputs(p, inputs), physics_kernel().reference(p, inputs, 1).status(),
        physics_kernel().plan(p, inputs, 32).status()}) {
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.to_string();
    EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
  }
}

TEST(PhysicsActionsTest, BadActionsBlobsAreRefusedClearly) {
  const auto p = params(kFour);
  const Bytes world = four_bodies(static_cast<int32_t>(p.get("max_speed")));
  const Bytes good = actions_blob({3, 3, 3}, 16);
  Bytes shorter(good.begin(), good.end() - 1), longer = good;
  longer.push_back(0);
  expect_refused(p, {world, shorter}, "actions blob is 203 bytes, expected 204");
  expect_refused(p, {world, longer}, "actions blob is 205 bytes, expected 204");
  expect_refused(p, {world, actions_blob({3, 3}, 16)}, "expected 204");
  expect_refused(p, {world, actions_blob({3, 16, 3}, 16)}, "NPC 1 chose action 16");
  expect_refused(p, {world, actions_blob({3, 3, 0xffffffffu}, 16)}, "NPC 2 chose action");
  expect_refused(p, {world}, "physics takes 2 input blob(s)");
  EXPECT_TRUE(physics_kernel().check_inputs(p, {world, good}).ok());
}

TEST(PhysicsActionsTest, MoreNpcsThanBodiesAreRefused) {
  auto given = kFour;
  given["npc_count"] = 5;
  auto p = physics_kernel().resolve_params(1, given);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("npc_count=5 exceeds bodies=4"), std::string::npos)
      << p.status().message();
  // apply_actions checks it too, for parameters that did not come through resolve_params.
  auto unchecked = params(kFour);
  unchecked.values["npc_count"] = 5;
  const Bytes world = four_bodies(static_cast<int32_t>(unchecked.get("max_speed")));
  auto pushed =
      kernels::physics::apply_actions(world, actions_blob({0, 0, 0, 0, 0}, 16), unchecked);
  ASSERT_FALSE(pushed.ok());
  EXPECT_NE(pushed.status().message().find("exceeds bodies"), std::string::npos);
}

}  // namespace
}  // namespace p2c2r
