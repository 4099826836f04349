#include "scheduler/planner.h"

#include <algorithm>

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

Result<Plan> plan_game(const wire::GameSpec& game, int64_t now_ms, int64_t deadline_ms,
                       const PlanLimits& limits, Plan plan) {
  if (game.frames == 0) return invalid_argument("game.frames: must be at least 1");
  if (game.tiles == 0 || game.tiles > limits.max_tiles)
    return invalid_argument("game.tiles: must be between 1 and " + num(limits.max_tiles));
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
  const bool interactive = plan.priority == Priority::kInteractive;
  const GameStage& ai = game_stages()[0];
  const GameStage& physics = game_stages()[1];
  const GameStage& ray = game_stages()[2];
  const GameStage& video = game_stages()[3];
  uint32_t prev_physics = 0;
  for (uint32_t f = 0; f < game.frames; ++f) {
    // An interactive frame owns the window [start, end); batch frames share the whole deadline.
    const int64_t start = interactive ? now_ms + int64_t{f} * deadline_ms : now_ms;
    const int64_t window = deadline_ms;
    auto add = [&](const GameStage& s, uint32_t tile, std::vector<uint32_t> deps, bool data = false) {
      PlannedUnit u;
      u.index = static_cast<uint32_t>(plan.units.size());
      u.stage = s.stage;
      u.frame = f;
      u.tile = tile;
      u.kernel = s.kernel;
      if (auto it = game.stage_params.find(s.stage); it != game.stage_params.end())
        u.params = it->second;
      u.seed = game.seed + u.index;  // distinct and reproducible per unit
      u.deadline_ms =
          start + std::max<int64_t>(1, static_cast<int64_t>(window * s.deadline_fraction));
      u.delay_bound_ms = interactive ? std::max<int64_t>(1, u.deadline_ms - start) : window;
      u.deps = std::move(deps);
      u.inputs_from_deps = data;
      plan.units.push_back(std::move(u));
      return plan.units.back().index;
    };
    // The physics world is real data from frame to frame: frame f simulates
    // on from frame f-1's validated world. The AI, the tiles and the video
    // run in frame order after it, on inputs generated from their seeds
    // (deriving the scene from the world is future work, docs/kernels.md).
    const uint32_t a = add(ai, 0, f == 0 ? std::vector<uint32_t>{} : std::vector{prev_physics});
    const uint32_t p = f == 0 ? add(physics, 0, {a}) : add(physics, 0, {prev_physics}, true);
    std::vector<uint32_t> tiles;
    for (uint32_t t = 0; t < game.tiles; ++t) tiles.push_back(add(ray, t, {p}));
    add(video, 0, tiles);
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
