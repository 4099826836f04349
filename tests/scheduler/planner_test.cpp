#include "scheduler/planner.h"

#include <gtest/gtest.h>

namespace p2c2r::scheduler {
namespace {

wire::WorkloadSpec raw_spec(uint32_t units) {
  wire::WorkloadSpec s;
  s.kind = "raw";
  s.raw =
      wire::RawSpec{.kernel = "peak", .params = {{"iterations", 3}}, .seed = 10, .units = units};
  return s;
}

wire::WorkloadSpec game_spec(uint32_t frames, uint32_t tiles, const std::string& priority) {
  wire::WorkloadSpec s;
  s.kind = "game";
  s.priority = priority;
  s.game = wire::GameSpec{.frames = frames, .tiles = tiles, .seed = 5};
  return s;
}

TEST(PlannerTest, RawWorkloadMakesIndependentUnitsWithConsecutiveSeeds) {
  auto plan = plan_workload(raw_spec(3), 1000);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  ASSERT_EQ(plan->units.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(plan->units[i].seed, 10 + i);
    EXPECT_EQ(plan->units[i].kernel, "peak");
    EXPECT_EQ(plan->units[i].params.at("iterations"), 3);
    EXPECT_TRUE(plan->units[i].deps.empty());
    EXPECT_EQ(plan->units[i].deadline_ms, 1000 + kDefaultBatchDeadlineMs);
  }
}

TEST(PlannerTest, RawExplicitSeedsWin) {
  auto s = raw_spec(1);
  s.raw->seeds = {7, 9};
  auto plan = plan_workload(s, 0);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->units.size(), 2u);
  EXPECT_EQ(plan->units[1].seed, 9u);
}

TEST(PlannerTest, RawLimitsAreEnforced) {
  EXPECT_FALSE(plan_workload(raw_spec(0), 0).ok());
  auto big = plan_workload(raw_spec(11), 0, PlanLimits{.max_units = 10});
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("raw.units"), std::string::npos);
}

TEST(PlannerTest, GameFrameIsAiPhysicsTilesVideo) {
  auto plan = plan_workload(game_spec(2, 3, "batch"), 0);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  ASSERT_EQ(plan->units.size(), 2u * 6);
  const auto& u = plan->units;
  EXPECT_EQ(u[0].stage, "ai");
  EXPECT_TRUE(u[0].deps.empty());
  EXPECT_EQ(u[1].stage, "physics");
  EXPECT_EQ(u[1].deps, std::vector<uint32_t>{0});
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(u[2 + t].stage, "raytrace");
    EXPECT_EQ(u[2 + t].tile, uint32_t(t));
    EXPECT_EQ(u[2 + t].deps, std::vector<uint32_t>{1});
  }
  EXPECT_EQ(u[5].stage, "video");
  EXPECT_EQ(u[5].deps, (std::vector<uint32_t>{2, 3, 4}));
  // Frame 1's AI continues from frame 0's physics.
  EXPECT_EQ(u[6].frame, 1u);
  EXPECT_EQ(u[6].deps, std::vector<uint32_t>{1});
  for (const auto& x : u)
    for (uint32_t d : x.deps) EXPECT_LT(d, x.index) << "dependencies precede dependants";
}

TEST(PlannerTest, GameStagesUseTheKernelTable) {
  auto plan = plan_workload(game_spec(1, 1, "batch"), 0);
  ASSERT_TRUE(plan.ok());
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(plan->units[i].kernel, game_stages()[i].kernel);
}

TEST(PlannerTest, InteractiveFrameDeadlinesAreStaggeredAndStagesOrdered) {
  auto s = game_spec(3, 2, "interactive");
  s.deadline_ms = 100;
  auto plan = plan_workload(s, 1000);
  ASSERT_TRUE(plan.ok());
  const auto& u = plan->units;
  const size_t per_frame = 5;
  for (uint32_t f = 0; f < 3; ++f) {
    const auto* frame = &u[f * per_frame];
    EXPECT_EQ(frame[0].deadline_ms, 1000 + f * 100 + 20);  // ai at 20%
    EXPECT_LT(frame[0].deadline_ms, frame[1].deadline_ms);
    EXPECT_LT(frame[1].deadline_ms, frame[2].deadline_ms);
    EXPECT_EQ(frame[4].deadline_ms, 1000 + (f + 1) * 100);  // video ends the frame
    EXPECT_LE(frame[4].delay_bound_ms, 100);
  }
}

TEST(PlannerTest, BatchGameSharesTheWorkloadDeadline) {
  auto s = game_spec(2, 1, "batch");
  s.deadline_ms = 3600 * 1000;
  auto plan = plan_workload(s, 0);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->units.back().deadline_ms, 3600 * 1000);
  EXPECT_EQ(plan->units.back().delay_bound_ms, 3600 * 1000);
}

TEST(PlannerTest, GameRejectsBadShapes) {
  EXPECT_FALSE(plan_workload(game_spec(0, 1, "batch"), 0).ok());
  EXPECT_FALSE(plan_workload(game_spec(1, 0, "batch"), 0).ok());
  auto s = game_spec(1, 1, "batch");
  s.game->stage_params["sound"] = {};
  auto r = plan_workload(s, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("game.stage_params.sound"), std::string::npos);
  auto big = plan_workload(game_spec(10, 7, "batch"), 0, PlanLimits{.max_units = 99});
  EXPECT_FALSE(big.ok());
}

TEST(PlannerTest, StageParamsReachTheirUnits) {
  auto s = game_spec(1, 2, "batch");
  s.game->stage_params["raytrace"] = {{"width", 64}};
  auto plan = plan_workload(s, 0);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->units[2].params.at("width"), 64);
  // The AI's only parameters are the planner's: one NPC per body of the
  // world, choosing among as many actions as the physics units read.
  EXPECT_EQ(plan->units[0].params,
            (wire::ParamMap{{"batch", 64}, {"actions", kDefaultGameActions}}));
}

TEST(PlannerTest, GameAiObservesThePreviousFramesWorld) {
  auto s = game_spec(3, 2, "batch");
  s.game->stage_params["physics"] = {{"bodies", 40}, {"grid", 5}};
  auto plan = plan_workload(s, 0);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  const auto& u = plan->units;
  std::vector<const PlannedUnit*> ai, physics;
  for (const auto& unit : u) {
    if (unit.stage == "ai") ai.push_back(&unit);
    if (unit.stage == "physics") physics.push_back(&unit);
  }
  ASSERT_EQ(ai.size(), 3u);
  ASSERT_EQ(physics.size(), 3u);
  // Frame 0 has no world yet: seeded observations for as many NPCs.
  EXPECT_TRUE(ai[0]->deps.empty());
  EXPECT_FALSE(ai[0]->inputs_from_deps);
  EXPECT_EQ(ai[0]->params, (wire::ParamMap{{"batch", 40}, {"actions", kDefaultGameActions}}));
  for (uint32_t f = 1; f < 3; ++f) {
    EXPECT_EQ(ai[f]->deps, std::vector<uint32_t>{physics[f - 1]->index}) << "frame " << f;
    EXPECT_TRUE(ai[f]->inputs_from_deps);
    EXPECT_EQ(ai[f]->params.at("from_world"), 1);
    EXPECT_EQ(ai[f]->params.at("batch"), 40);
    EXPECT_EQ(ai[f]->params.at("world_grid"), 5);
  }
}

TEST(PlannerTest, GameAiParametersThePlannerSetsAreRefused) {
  for (const char* name : {"batch", "from_world", "world_grid"}) {
    auto s = game_spec(1, 2, "batch");
    s.game->stage_params["ai"] = {{name, 1}};
    auto plan = plan_workload(s, 0);
    ASSERT_FALSE(plan.ok()) << name;
    EXPECT_NE(plan.status().message().find(std::string("ai.") + name), std::string::npos)
        << plan.status().message();
  }
}

TEST(PlannerTest, GamePhysicsIsPushedByItsFramesAiActions) {
  auto s = game_spec(3, 2, "batch");
  s.game->stage_params["physics"] = {{"bodies", 40}, {"grid", 5}};
  s.game->stage_params["ai"] = {{"actions", 10}};
  auto plan = plan_workload(s, 0);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  const auto& u = plan->units;
  const size_t per_frame = 3 + 2;
  for (uint32_t f = 0; f < 3; ++f) {
    const PlannedUnit& ai = u[f * per_frame];
    const PlannedUnit& physics = u[f * per_frame + 1];
    ASSERT_EQ(ai.stage, "ai");
    ASSERT_EQ(physics.stage, "physics");
    EXPECT_EQ(ai.params.at("actions"), 10) << "the workload's AI action count is kept";
    // Inputs [world, actions]: frame 0's world is generated from its seed,
    // so its only data dependency is the AI; later frames take the world
    // before them first.
    std::vector<uint32_t> want = {ai.index};
    if (f > 0) want.insert(want.begin(), u[(f - 1) * per_frame + 1].index);
    EXPECT_EQ(physics.deps, want) << "frame " << f;
    EXPECT_TRUE(physics.inputs_from_deps);
    EXPECT_EQ(physics.params.at("actions"), 1);
    EXPECT_EQ(physics.params.at("npc_count"), 40) << "one NPC per body";
    EXPECT_EQ(physics.params.at("npc_count"), ai.params.at("batch"));
    EXPECT_EQ(physics.params.at("npc_actions"), 10) << "the AI's output shape";
    // No cycle: the AI waits only for the world before its frame.
    for (uint32_t d : ai.deps) EXPECT_LT(d, f * per_frame) << "frame " << f;
  }
  for (const auto& x : u)
    for (uint32_t d : x.deps) EXPECT_LT(d, x.index) << "dependencies precede dependants";
}

TEST(PlannerTest, GamePhysicsActionParametersThePlannerSetsAreRefused) {
  for (const char* name : {"actions", "npc_count", "npc_actions"}) {
    auto s = game_spec(1, 2, "batch");
    s.game->stage_params["physics"] = {{name, 1}};
    auto plan = plan_workload(s, 0);
    ASSERT_FALSE(plan.ok()) << name;
    EXPECT_NE(plan.status().message().find(std::string("game.stage_params.physics.") + name),
              std::string::npos)
        << plan.status().message();
  }
}

TEST(PlannerTest, GameVideoTakesItsFramesTilesAsDataInTileOrder) {
  auto plan = plan_workload(game_spec(2, 6, "batch"), 0);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  const auto& u = plan->units;
  const size_t per_frame = 3 + 6;
  for (uint32_t f = 0; f < 2; ++f) {
    const auto* frame = &u[f * per_frame];
    const PlannedUnit& video = frame[8];
    ASSERT_EQ(video.stage, "video");
    EXPECT_TRUE(video.inputs_from_deps);
    std::vector<uint32_t> tiles;
    for (uint32_t t = 0; t < 6; ++t) tiles.push_back(frame[2 + t].index);
    // Frame 1's video continues frame 0's stream: that unit's output follows the tiles.
    if (f == 1) tiles.push_back(frame[8].index - per_frame);
    EXPECT_EQ(video.deps, tiles);
    const wire::ParamMap want_video = {{"width", kDefaultGameWidth},
                                       {"height", kDefaultGameHeight},
                                       {"frames", 1},
                                       {"tiles_x", 3},
                                       {"tiles_y", 2},
                                       {"continues", f}};
    EXPECT_EQ(video.params, want_video);
    // The tiles' rectangles cover the video's frame exactly, once each.
    std::vector<int> covered(kDefaultGameWidth * kDefaultGameHeight, 0);
    for (uint32_t t = 0; t < 6; ++t) {
      const PlannedUnit& tile = frame[2 + t];
      EXPECT_EQ(tile.tile, t);
      EXPECT_EQ(tile.seed, frame[2].seed) << "one seed per frame";
      EXPECT_EQ(tile.params.at("width"), kDefaultGameWidth);
      EXPECT_EQ(tile.params.at("height"), kDefaultGameHeight);
      const int64_t x = tile.params.at("tile_x"), y = tile.params.at("tile_y");
      for (int64_t row = y; row < y + tile.params.at("tile_height"); ++row)
        for (int64_t col = x; col < x + tile.params.at("tile_width"); ++col)
          ++covered[row * kDefaultGameWidth + col];
    }
    for (int c : covered) ASSERT_EQ(c, 1);
  }
  EXPECT_NE(u[2].seed, u[per_frame + 2].seed) << "each frame its own seed";
}

TEST(PlannerTest, GameTilesDrawTheirFramesPhysicsWorld) {
  for (const bool given : {false, true}) {
    auto s = game_spec(3, 4, "batch");
    if (given) s.game->stage_params["physics"] = {{"bodies", 40}, {"grid", 8}, {"radius", 1 << 14}};
    auto plan = plan_workload(s, 0);
    ASSERT_TRUE(plan.ok()) << plan.status().to_string();
    const int64_t bodies = given ? 40 : kDefaultGameBodies, grid = given ? 8 : kDefaultGameGrid,
                  radius = given ? 1 << 14 : kDefaultGameRadius;
    const size_t per_frame = 3 + 4;
    for (uint32_t f = 0; f < 3; ++f) {
      const PlannedUnit* frame = &plan->units[f * per_frame];
      const PlannedUnit& physics = frame[1];
      ASSERT_EQ(physics.stage, "physics");
      EXPECT_EQ(physics.params.at("bodies"), bodies);
      EXPECT_EQ(physics.params.at("grid"), grid);
      EXPECT_EQ(physics.params.at("radius"), radius);
      // Frame f>0 simulates on from frame f-1's world, pushed by frame f's AI.
      if (f > 0) {
        EXPECT_TRUE(physics.inputs_from_deps);
        EXPECT_EQ(physics.deps, (std::vector<uint32_t>{plan->units[(f - 1) * per_frame + 1].index,
                                                       frame[0].index}));
      }
      for (uint32_t t = 0; t < 4; ++t) {
        const PlannedUnit& tile = frame[2 + t];
        ASSERT_EQ(tile.stage, "raytrace");
        EXPECT_TRUE(tile.inputs_from_deps) << "the world is the tile's input";
        EXPECT_EQ(tile.deps, std::vector<uint32_t>{physics.index}) << "this frame's world only";
        EXPECT_EQ(tile.params.at("from_world"), 1);
        EXPECT_EQ(tile.params.at("world_bodies"), bodies);
        EXPECT_EQ(tile.params.at("world_grid"), grid);
        EXPECT_EQ(tile.params.at("world_radius"), radius);
      }
    }
  }
}

TEST(PlannerTest, GameRefusesMoreBodiesThanAFrameCanDraw) {
  auto s = game_spec(1, 2, "batch");
  s.game->stage_params["physics"] = {{"bodies", kMaxGameBodies + 1}};
  auto r = plan_workload(s, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("game.stage_params.physics.bodies: 65 must be between 1 "
                                      "and 64, the spheres a ray-traced frame can draw"),
            std::string::npos)
      << r.status().message();
  s.game->stage_params["physics"] = {{"bodies", kMaxGameBodies}};
  EXPECT_TRUE(plan_workload(s, 0).ok());
}

TEST(PlannerTest, GameFrameSizeComesFromTheVideoOrRaytraceStage) {
  auto s = game_spec(1, 4, "batch");
  s.game->stage_params["video"] = {{"width", 128}, {"height", 96}, {"quality", 90}};
  auto plan = plan_workload(s, 0);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->units[2].params.at("width"), 128);
  EXPECT_EQ(plan->units[5].params.at("tile_x"), 64);
  EXPECT_EQ(plan->units[5].params.at("tile_height"), 48);
  EXPECT_EQ(plan->units[6].params.at("quality"), 90);

  s.game->stage_params["raytrace"] = {{"width", 128}, {"samples", 2}};
  ASSERT_TRUE(plan_workload(s, 0).ok()) << "agreeing sizes are fine";
  s.game->stage_params["raytrace"]["width"] = 64;
  auto differ = plan_workload(s, 0);
  ASSERT_FALSE(differ.ok());
  EXPECT_NE(differ.status().message().find("raytrace width 64 differs from video width 128"),
            std::string::npos)
      << differ.status().message();
}

// The video units of a game make one stream: frame f continues the frames
// since the last keyframe (every keyframe_interval-th frame, frame 0 first).
TEST(PlannerTest, GameVideoContinuesTheStreamBetweenKeyframes) {
  auto videos_of = [](const Plan& plan) {
    std::vector<const PlannedUnit*> v;
    for (const auto& u : plan.units)
      if (u.stage == "video") v.push_back(&u);
    return v;
  };
  auto s = game_spec(5, 2, "batch");
  s.game->keyframe_interval = 2;
  auto plan = plan_workload(s, 0);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  auto v = videos_of(*plan);
  ASSERT_EQ(v.size(), 5u);
  for (uint32_t f = 0; f < 5; ++f) {
    const bool key = f % 2 == 0;
    EXPECT_EQ(v[f]->params.at("continues"), key ? 0 : 1) << "frame " << f;
    ASSERT_EQ(v[f]->deps.size(), key ? 2u : 3u) << "frame " << f;
    if (!key) {
      EXPECT_EQ(v[f]->deps.back(), v[f - 1]->index) << "frame " << f;
    }
  }

  // The default: an I-frame every 8 frames; frame 7 continues frames 0..6.
  auto long_game = plan_workload(game_spec(10, 1, "batch"), 0);
  ASSERT_TRUE(long_game.ok()) << long_game.status().to_string();
  v = videos_of(*long_game);
  EXPECT_EQ(v[7]->params.at("continues"), 7);
  ASSERT_EQ(v[7]->deps.size(), 1u + 7u);
  for (uint32_t i = 0; i < 7; ++i) EXPECT_EQ(v[7]->deps[1 + i], v[i]->index);
  EXPECT_EQ(v[8]->params.at("continues"), 0);
  EXPECT_EQ(v[8]->deps.size(), 1u);
  EXPECT_EQ(v[9]->params.at("continues"), 1);
  EXPECT_EQ(v[9]->deps.back(), v[8]->index);

  for (uint32_t bad : {0u, kMaxKeyframeInterval + 1}) {
    auto b = game_spec(2, 1, "batch");
    b.game->keyframe_interval = bad;
    auto r = plan_workload(b, 0);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("game.keyframe_interval"), std::string::npos);
  }
}

TEST(PlannerTest, GameRefusesParamsThePlannerSets) {
  for (const auto& [stage, name] :
       std::vector<std::pair<std::string, std::string>>{{"raytrace", "tile_x"},
                                                        {"raytrace", "tile_height"},
                                                        {"raytrace", "from_world"},
                                                        {"raytrace", "world_bodies"},
                                                        {"video", "frames"},
                                                        {"video", "tiles_x"},
                                                        {"video", "continues"}}) {
    auto s = game_spec(1, 2, "batch");
    s.game->stage_params[stage] = {{name, 1}};
    auto r = plan_workload(s, 0);
    ASSERT_FALSE(r.ok()) << stage << "." << name;
    EXPECT_NE(r.status().message().find("game.stage_params." + stage + "." + name),
              std::string::npos);
  }
  auto tiny = game_spec(1, 7, "batch");  // 7x1 tiles
  tiny.game->stage_params["video"] = {{"width", 4}};
  auto r = plan_workload(tiny, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("do not fit a 4x240 frame"), std::string::npos)
      << r.status().message();
}

TEST(ReplicationTest, DefaultsPerClass) {
  auto b = default_replication(Priority::kBatch);
  EXPECT_EQ(b.min_quorum, 2u);
  EXPECT_EQ(b.target_nresults, 2u);
  auto i = default_replication(Priority::kInteractive);
  EXPECT_EQ(i.target_nresults, 3u);
}

TEST(ReplicationTest, OverridesAndSanityChecks) {
  auto r = resolve_replication(Priority::kBatch, {.min_quorum = 1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->min_quorum, 1u);
  EXPECT_EQ(r->target_nresults, 1u);
  auto bad = resolve_replication(Priority::kBatch, {.min_quorum = 3, .target_nresults = 2});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("target_nresults"), std::string::npos);
  EXPECT_FALSE(resolve_replication(Priority::kBatch, {.min_quorum = 0}).ok());
  EXPECT_FALSE(
      resolve_replication(Priority::kBatch, {.target_nresults = 4, .max_total_results = 3}).ok());
  auto grown = resolve_replication(Priority::kBatch, {.target_nresults = 9});
  ASSERT_TRUE(grown.ok());
  EXPECT_EQ(grown->max_total_results, 9u);
}

TEST(ReplicationTest, PlanCarriesResolvedPolicy) {
  auto s = raw_spec(1);
  s.replication.min_quorum = 1;
  s.replication.target_nresults = 1;
  auto plan = plan_workload(s, 0);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->replication.min_quorum, 1u);
  s.priority = "urgent";
  EXPECT_FALSE(plan_workload(s, 0).ok());
}

}  // namespace
}  // namespace p2c2r::scheduler
