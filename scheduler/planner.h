// Workload planning: a submitted workload becomes work units linked as a DAG,
// each with a kernel, parameters, a seed, a deadline and a replication policy.
//
// Pure policy: the spec and the current time come in, a plan comes out; no
// clocks, no I/O. Kernel names and parameters are not checked here (the
// server checks them against the kernel registry before accepting a plan).
//
// Kinds:
//   raw   one kernel, `units` units (seeds seed, seed+1, ... or the explicit
//         `seeds` list), no dependencies.
//   game  F frames; each frame is AI -> physics -> T ray-traced tiles ->
//         video encode, and frame f's AI depends on frame f-1's physics (the
//         world state carries over). A unit's inputs are its dependencies'
//         canonical outputs, in dependency order, where inputs_from_deps
//         says so: frame f>0's AI observes frame f-1's world (one NPC per
//         body: batch = bodies, from_world=1), frame f's physics takes
//         frame f-1's world (frame 0's is generated) and then frame f's AI
//         output, whose actions push the NPCs' bodies (actions=1,
//         npc_count = bodies, npc_actions = the AI's actions), every tile
//         of frame f draws frame f's physics world (raytrace from_world=1,
//         world_bodies/grid/radius = the physics bodies/grid/radius, at most
//         kMaxGameBodies bodies), and every frame's video takes its T tiles.
//         The planner cuts the frame (video's width/height if given, else
//         raytrace's, else kDefaultGameWidth x kDefaultGameHeight) into a
//         tile grid (common/tile_grid.h), sets each raytrace unit's rectangle
//         and the video's size, tiles_x/tiles_y and frames = 1. The video
//         units make one stream: frame f is an I-frame when f is a multiple
//         of game.keyframe_interval; otherwise its video also depends on the
//         video units since that keyframe (inputs after its tiles, oldest
//         first; continues = their count) and codes a P-frame against the
//         frame before (docs/kernels/video.md).
//
// Deadlines: an interactive game's `deadline_ms` is per frame (frame f is
// due at now + (f+1)·deadline_ms, and each stage is due at its share of the
// frame's window); for batch work and raw workloads it is the whole
// workload's. A replica must report within its unit's delay bound of being
// sent, after which it times out and is reissued.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/wire.h"
#include "validator/quorum.h"

namespace p2c2r::scheduler {

enum class Priority { kInteractive, kBatch };

const char* priority_name(Priority p);
Result<Priority> parse_priority(const std::string& name);

// BOINC's replication defaults per priority class. Interactive work sends a
// third replica up front so one slow or lost peer does not cost a frame.
validator::ReplicationPolicy default_replication(Priority p);
// Defaults overridden by the workload's `replication`, checked for sense
// (1 <= min_quorum <= target_nresults <= max_total_results).
Result<validator::ReplicationPolicy> resolve_replication(Priority p,
                                                         const wire::Replication& given);

// Default deadlines: per frame for interactive games, per workload otherwise.
inline constexpr int64_t kDefaultFrameDeadlineMs = 100;
inline constexpr int64_t kDefaultInteractiveDeadlineMs = 1000;
inline constexpr int64_t kDefaultBatchDeadlineMs = 4LL * 3600 * 1000;

// A game's world when its physics stage does not say: 64 spheres of radius
// 1/2 (Q16.16) in a 6x6x6 box. At most kMaxGameBodies bodies: a ray-traced
// frame draws every body as one of at most 64 spheres (docs/kernels/raytrace.md).
inline constexpr int64_t kDefaultGameBodies = 64;
inline constexpr int64_t kDefaultGameGrid = 6;
inline constexpr int64_t kDefaultGameRadius = 1 << 15;
inline constexpr uint32_t kMaxGameBodies = 64;
// A game AI's actions per NPC when its stage does not say (the nn kernels'
// default); the planner sets it on the AI and the physics units alike.
inline constexpr int64_t kDefaultGameActions = 16;

// A game frame's size when neither the raytrace nor the video stage gives one.
inline constexpr uint32_t kDefaultGameWidth = 320;
inline constexpr uint32_t kDefaultGameHeight = 240;

// A game's keyframe interval at most: the video kernel continues a stream
// through at most 63 earlier units (kernels/video/codec.h, kMaxChain).
inline constexpr uint32_t kMaxKeyframeInterval = 64;

// Upper bounds that keep one submission from swamping the server.
struct PlanLimits {
  uint32_t max_units = 100000;
  uint32_t max_tiles = 256;
};

// A game stage and the kernel that computes it: the one table to change when
// kernel names change.
struct GameStage {
  const char* stage;
  const char* kernel;
  // The stage is due at this fraction of the frame's window.
  double deadline_fraction;
};
const std::vector<GameStage>& game_stages();

struct PlannedUnit {
  uint32_t index = 0;  // position in Plan::units
  std::string stage;   // "raw", or a game stage name
  uint32_t frame = 0;
  uint32_t tile = 0;
  std::string kernel;
  wire::ParamMap params;
  uint64_t seed = 0;
  int64_t deadline_ms = 0;     // unix ms
  int64_t delay_bound_ms = 0;  // how long one replica may take
  // Indices of units this one waits for. When `inputs_from_deps`, their
  // canonical outputs are this unit's last inputs, in order, after any the
  // kernel takes beyond them, which are generated from its seed (the AI's
  // weights before the world it observes); otherwise they only order the
  // work and all of the unit's inputs are generated from its seed.
  std::vector<uint32_t> deps;
  bool inputs_from_deps = true;
};

struct Plan {
  Priority priority = Priority::kBatch;
  validator::ReplicationPolicy replication;
  std::vector<PlannedUnit> units;  // dependencies always precede dependants
};

Result<Plan> plan_workload(const wire::WorkloadSpec& spec, int64_t now_ms,
                           const PlanLimits& limits = {});

}  // namespace p2c2r::scheduler
