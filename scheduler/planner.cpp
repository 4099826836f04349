#include "scheduler/planner.h"

#include <algorithm>
#include <optional>

#include "common/tile_grid.h"

namespace p2c2r::scheduler {
namespace {

std::string num(uint64_t v) { return std::to_string(v); }

Result<Plan> plan_raw(const wire::RawSpec& raw, int64_t now_ms, int64_t deadline_ms,
                      const PlanLimits& limits, Plan plan) {
  if (raw.kernel.empty()) return invalid_argument("raw.kernel: must not be empty");
  std::vector<uint64_t> seeds = raw.seeds;
  if (seeds.empty()) {
    if (raw.units == 0) return invalid_argument("raw.units: must be at least 1");
    if (raw.units > limits.max_units)
      return invalid_argument("raw.units: " + num(raw.units) + " exceeds the limit of " +
                              num(limits.max_units));
    for (uint32_t i = 0; i < raw.units; ++i) seeds.push_back(raw.seed + i);
  } else if (seeds.size() > limits.max_units) {
    return invalid_argument("raw.seeds: " + num(seeds.size()) + " exceeds the limit of " +
                            num(limits.max_units));
  }
  for (uint32_t i = 0; i < seeds.size(); ++i) {
    PlannedUnit u;
    u.index = i;
    u.stage = "raw";
    u.kernel = raw.kernel;
    u.params = raw.params;
    u.seed = seeds[i];
    u.deadline_ms = now_ms + deadline_ms;
    u.delay_bound_ms = deadline_ms;
    plan.units.push_back(std::move(u));
  }
  return plan;
}

// What the planner decides for every frame of a game: its size and how its
// ray-traced tiles cut it (common/tile_grid.h). The raytrace units get their
// rectangles and the video unit the same size and grid, so the tiles it
// receives cover exactly the frame it encodes.
struct GameFrame {
  uint32_t width = 0, height = 0;
  TileGrid grid;
};

// The world the physics stage simulates and the tiles draw: the physics
// units get these bodies/grid/radius and the raytrace units the same as
// world_bodies/world_grid/world_radius, so every tile can read the world.
// Its NPCs are its first bodies (all of them): the AI's batch, and the
// physics units' npc_count, whose npc_actions is the AI's action count.
struct GameWorld {
  int64_t bodies = kDefaultGameBodies, grid = kDefaultGameGrid, radius = kDefaultGameRadius;
  int64_t npc_actions = kDefaultGameActions;
};

// Parameters the planner sets itself; a user giving them would break the
// agreement between the world, the AI, the tiles and the video.
Status refuse_planner_params(const wire::GameSpec& game) {
  const std::pair<const char*, std::vector<const char*>> owned[] = {
      {"ai", {"batch", "from_world", "world_grid"}},
      {"physics", {"actions", "npc_count", "npc_actions"}},
      {"raytrace",
       {"tile_x", "tile_y", "tile_width", "tile_height", "from_world", "world_bodies", "world_grid",
        "world_radius"}},
      {"video", {"frames", "tiles_x", "tiles_y", "continues"}}};
  for (const auto& [stage, names] : owned) {
    auto it = game.stage_params.find(stage);
    if (it == game.stage_params.end()) continue;
    for (const char* name : names)
      if (it->second.count(name))
        return invalid_argument(
            std::string("game.stage_params.") + stage + "." + name +
            ": set by the planner (from game.tiles, the world, the AI and the stream), not by "
            "the workload");
  }
  return Status::Ok();
}

// The frame side `name` ("width"/"height"): the video's if given, else the
// ray tracer's, else `fallback`; both given must agree.
Result<uint32_t> frame_side(const wire::GameSpec& game, const std::string& name,
                            uint32_t fallback) {
  auto given = [&](const char* stage) -> std::optional<int64_t> {
    auto it = game.stage_params.find(stage);
    if (it == game.stage_params.end()) return std::nullopt;
    auto v = it->second.find(name);
    if (v == it->second.end()) return std::nullopt;
    return v->second;
  };
  const auto ray = given("raytrace"), video = given("video");
  if (ray && video && *ray != *video)
    return invalid_argument("game.stage_params: raytrace " + name + " " + std::to_string(*ray) +
                            " differs from video " + name + " " + std::to_string(*video) +
                            " (the video encodes the frame the tiles render)");
  const int64_t v = video ? *video : ray ? *ray : fallback;
  if (v < 1 || v > 65535)
    return invalid_argument("game.stage_params: frame " + name + " " + std::to_string(v) +
                            " is out of range");
  return static_cast<uint32_t>(v);
}

Result<GameFrame> game_frame(const wire::GameSpec& game) {
  P2C2R_RETURN_IF_ERROR(refuse_planner_params(game));
  GameFrame f;
  P2C2R_ASSIGN_OR_RETURN(f.width, frame_side(game, "width", kDefaultGameWidth));
  P2C2R_ASSIGN_OR_RETURN(f.height, frame_side(game, "height", kDefaultGameHeight));
  f.grid = tile_grid_for(game.tiles);
  if (f.grid.columns > f.width || f.grid.rows > f.height)
    return invalid_argument("game.tiles: " + num(game.tiles) + " tiles (" + num(f.grid.columns) +
                            "x" + num(f.grid.rows) + ") do not fit a " + num(f.width) + "x" +
                            num(f.height) + " frame");
  return f;
}

// The physics stage's world: its bodies/grid/radius if given, else the game
// defaults. More bodies than a frame's scene holds are refused here rather
// than drawn in part: a picture missing bodies would misrepresent the game.
Result<GameWorld> game_world(const wire::GameSpec& game) {
  GameWorld w;
  if (auto ai = game.stage_params.find("ai"); ai != game.stage_params.end())
    if (auto v = ai->second.find("actions"); v != ai->second.end()) w.npc_actions = v->second;
  auto it = game.stage_params.find("physics");
  if (it == game.stage_params.end()) return w;
  const auto& given = it->second;
  if (auto v = given.find("bodies"); v != given.end()) w.bodies = v->second;
  if (auto v = given.find("grid"); v != given.end()) w.grid = v->second;
  if (auto v = given.find("radius"); v != given.end()) w.radius = v->second;
  if (w.bodies < 1 || w.bodies > kMaxGameBodies)
    return invalid_argument("game.stage_params.physics.bodies: " + std::to_string(w.bodies) +
                            " must be between 1 and " + num(kMaxGameBodies) +
                            ", the spheres a ray-traced frame can draw");
  return w;
}

Result<Plan> plan_game(const wire::GameSpec& game, int64_t now_ms, int64_t deadline_ms,
                       const PlanLimits& limits, Plan plan) {
  if (game.frames == 0) return invalid_argument("game.frames: must be at least 1");
  if (game.tiles == 0 || game.tiles > limits.max_tiles)
    return invalid_argument("game.tiles: must be between 1 and " + num(limits.max_tiles));
  if (game.keyframe_interval == 0 || game.keyframe_interval > kMaxKeyframeInterval)
    return invalid_argument(
        "game.keyframe_interval: must be between 1 (every frame an I-frame) "
        "and " +
        num(kMaxKeyframeInterval));
  const uint64_t per_frame = 3 + uint64_t{game.tiles};
  if (game.frames * per_frame > limits.max_units)
    return invalid_argument("game: " + num(game.frames) + " frames of " + num(per_frame) +
                            " units exceed the limit of " + num(limits.max_units) + " units");
  for (const auto& [stage, params] : game.stage_params) {
    const auto& st = game_stages();
    if (std::none_of(st.begin(), st.end(), [&](const GameStage& s) { return stage == s.stage; }))
      return invalid_argument("game.stage_params." + stage +
                              ": unknown stage (known: ai, physics, raytrace, video)");
  }
  P2C2R_ASSIGN_OR_RETURN(const GameFrame frame, game_frame(game));
  P2C2R_ASSIGN_OR_RETURN(const GameWorld world, game_world(game));
  // NPC i is body i: one NPC per body, whose actions push it.
  const int64_t npcs = world.bodies;
  const wire::ParamMap physics_world = {
      {"bodies", world.bodies}, {"grid", world.grid}, {"radius", world.radius},
      {"actions", 1},           {"npc_count", npcs},  {"npc_actions", world.npc_actions}};
  const bool interactive = plan.priority == Priority::kInteractive;
  const GameStage& ai = game_stages()[0];
  const GameStage& physics = game_stages()[1];
  const GameStage& ray = game_stages()[2];
  const GameStage& video = game_stages()[3];
  uint32_t prev_physics = 0;
  std::vector<uint32_t> gop;  // this group of pictures' video units so far, oldest first
  for (uint32_t f = 0; f < game.frames; ++f) {
    // An interactive frame owns the window [start, end); batch frames share the whole deadline.
    const int64_t start = interactive ? now_ms + int64_t{f} * deadline_ms : now_ms;
    const int64_t window = deadline_ms;
    auto add = [&](const GameStage& s, uint32_t tile, std::vector<uint32_t> deps, bool data = false,
                   const wire::ParamMap& set = {}) {
      PlannedUnit u;
      u.index = static_cast<uint32_t>(plan.units.size());
      u.stage = s.stage;
      u.frame = f;
      u.tile = tile;
      u.kernel = s.kernel;
      if (auto it = game.stage_params.find(s.stage); it != game.stage_params.end())
        u.params = it->second;
      for (const auto& [name, value] : set) u.params[name] = value;
      u.seed = game.seed + u.index;  // distinct and reproducible per unit
      u.deadline_ms =
          start + std::max<int64_t>(1, static_cast<int64_t>(window * s.deadline_fraction));
      u.delay_bound_ms = interactive ? std::max<int64_t>(1, u.deadline_ms - start) : window;
      u.deps = std::move(deps);
      u.inputs_from_deps = data;
      plan.units.push_back(std::move(u));
      return plan.units.back().index;
    };
    // Real data flows four times: frame f's AI observes frame f-1's world
    // (from_world=1; frame 0's, before any world exists, runs on
    // observations generated from its seed, for as many NPCs); frame f's
    // physics simulates on from frame f-1's validated world (frame 0's is
    // generated from its seed), pushed first by the actions frame f's AI
    // chose (actions=1: inputs [world, actions]); frame f's tiles draw frame
    // f's physics output world (their one input; from_world=1); and frame
    // f's video encodes the frame that its tiles rendered (their outputs are
    // its inputs, in tile order). No cycle: the AI waits only for the world
    // before it.
    const wire::ParamMap npc_policy = {{"batch", npcs}, {"actions", world.npc_actions}};
    wire::ParamMap observing = npc_policy;
    observing.insert({{"from_world", 1}, {"world_grid", world.grid}});
    const uint32_t a =
        f == 0 ? add(ai, 0, {}, false, npc_policy) : add(ai, 0, {prev_physics}, true, observing);
    plan.units.back().seed = game.seed;  // one NPC policy (the weights) for every frame
    const uint32_t p = f == 0 ? add(physics, 0, {a}, true, physics_world)
                              : add(physics, 0, {prev_physics, a}, true, physics_world);
    std::vector<uint32_t> tiles;
    const uint64_t scene_seed = game.seed + plan.units.size();
    for (uint32_t t = 0; t < game.tiles; ++t) {
      const TileRect r = tile_rect(frame.width, frame.height, frame.grid, t);
      tiles.push_back(add(ray, t, {p}, true,
                          {{"width", frame.width},
                           {"height", frame.height},
                           {"tile_x", r.x},
                           {"tile_y", r.y},
                           {"tile_width", r.width},
                           {"tile_height", r.height},
                           {"from_world", 1},
                           {"world_bodies", world.bodies},
                           {"world_grid", world.grid},
                           {"world_radius", world.radius}}));
      plan.units.back().seed = scene_seed;
    }
    // Frame f's video continues the stream of the frames since the last
    // keyframe: their video units' outputs follow its tiles as its inputs,
    // and it codes its frame as a P-frame against the last of them.
    if (f % game.keyframe_interval == 0) gop.clear();
    std::vector<uint32_t> video_deps = tiles;
    video_deps.insert(video_deps.end(), gop.begin(), gop.end());
    gop.push_back(add(video, 0, std::move(video_deps), true,
                      {{"width", frame.width},
                       {"height", frame.height},
                       {"frames", 1},
                       {"tiles_x", frame.grid.columns},
                       {"tiles_y", frame.grid.rows},
                       {"continues", static_cast<int64_t>(gop.size())}}));
    prev_physics = p;
  }
  return plan;
}

}  // namespace

const char* priority_name(Priority p) {
  return p == Priority::kInteractive ? "interactive" : "batch";
}

Result<Priority> parse_priority(const std::string& name) {
  if (name == "interactive") return Priority::kInteractive;
  if (name == "batch") return Priority::kBatch;
  return invalid_argument("priority: must be 'interactive' or 'batch', got '" + name + "'");
}

validator::ReplicationPolicy default_replication(Priority p) {
  if (p == Priority::kInteractive)
    return {.min_quorum = 2, .target_nresults = 3, .max_error_results = 3, .max_total_results = 6};
  return {.min_quorum = 2, .target_nresults = 2, .max_error_results = 3, .max_total_results = 6};
}

Result<validator::ReplicationPolicy> resolve_replication(Priority p,
                                                         const wire::Replication& given) {
  auto r = default_replication(p);
  if (given.min_quorum) r.min_quorum = *given.min_quorum;
  if (given.target_nresults) r.target_nresults = *given.target_nresults;
  if (given.max_error_results) r.max_error_results = *given.max_error_results;
  if (given.max_total_results) r.max_total_results = *given.max_total_results;
  // A changed quorum keeps the class's spare replicas unless target_nresults is given too.
  const auto d = default_replication(p);
  if (given.min_quorum && !given.target_nresults)
    r.target_nresults = r.min_quorum + (d.target_nresults - d.min_quorum);
  if (!given.max_total_results)
    r.max_total_results = std::max(r.max_total_results, r.target_nresults);
  if (r.min_quorum < 1) return invalid_argument("replication.min_quorum: must be at least 1");
  if (r.min_quorum > 16) return invalid_argument("replication.min_quorum: must be at most 16");
  if (r.target_nresults < r.min_quorum)
    return invalid_argument("replication.target_nresults: " + num(r.target_nresults) +
                            " is less than min_quorum " + num(r.min_quorum));
  if (r.max_total_results < r.target_nresults)
    return invalid_argument("replication.max_total_results: " + num(r.max_total_results) +
                            " is less than target_nresults " + num(r.target_nresults));
  if (r.max_total_results > 64)
    return invalid_argument("replication.max_total_results: must be at most 64");
  return r;
}

const std::vector<GameStage>& game_stages() {
  static const std::vector<GameStage> stages = {
      {"ai", "nn_mlp", 0.20},
      {"physics", "physics", 0.45},
      {"raytrace", "raytrace", 0.85},
      {"video", "video", 1.00},
  };
  return stages;
}

Result<Plan> plan_workload(const wire::WorkloadSpec& spec, int64_t now_ms,
                           const PlanLimits& limits) {
  Plan plan;
  P2C2R_ASSIGN_OR_RETURN(plan.priority, parse_priority(spec.priority));
  P2C2R_ASSIGN_OR_RETURN(plan.replication, resolve_replication(plan.priority, spec.replication));
  const bool interactive = plan.priority == Priority::kInteractive;
  if (spec.kind == "raw" && spec.raw) {
    const int64_t d = spec.deadline_ms.value_or(interactive ? kDefaultInteractiveDeadlineMs
                                                            : kDefaultBatchDeadlineMs);
    return plan_raw(*spec.raw, now_ms, d, limits, std::move(plan));
  }
  if (spec.kind == "game" && spec.game) {
    const int64_t d =
        spec.deadline_ms.value_or(interactive ? kDefaultFrameDeadlineMs : kDefaultBatchDeadlineMs);
    return plan_game(*spec.game, now_ms, d, limits, std::move(plan));
  }
  return invalid_argument("kind: unknown workload kind '" + spec.kind + "' (known: raw, game)");
}

}  // namespace p2c2r::scheduler
