// NPC actions acting on a physics world (docs/kernels/physics.md, "Actions").
//
// A game frame's AI (an nn kernel) chooses one action per NPC, and NPC i is
// body i of the world. A physics unit with `actions=1` takes that nn unit's
// output as is, as its second input: `npc_count x npc_actions` int32 logits
// (NPC-major, not read here), then `npc_count` uint32 actions. Each action
// changes its body's velocity by a fixed Q16.16 impulse (action_impulse),
// clamped per component to max_speed as the simulation clamps it, before the
// first step. The change is made on the CPU, for the CPU reference and the
// device plan's initial world alike, so both simulate the same bytes.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "kernels/kernel.h"

namespace p2c2r::kernels::physics {

// Actions repeat every kActionKinds indices: action k acts as k % 10.
constexpr uint32_t kActionKinds = 10;

// The velocity change (vx, vy, vz) of action k at `speed` (Q16.16 units/s):
// 0 stay; 1..8 the horizontal compass directions N (+y), NE, E (+x), SE, S,
// SW, W, NW, each diagonal component speed·46341 >> 16 (speed/√2, rounded
// down); 9 jump (+z).
std::array<int32_t, 3> action_impulse(uint32_t action, int32_t speed);

// The size an actions blob must have for these parameters.
uint64_t actions_blob_bytes(const Params& params);

// Refuses npc_count > bodies (NPC i is body i), for check_params.
Status check_npc_count(const Params& params);

// Refuses an actions blob that is not an nn output for npc_count NPCs of
// npc_actions actions, or that names an action >= npc_actions.
Status check_actions(const Params& params, ByteView actions);

// `world` (checked for these params' shape) with bodies 0..npc_count-1's
// velocities changed by their actions' impulses of action_speed, each
// component clamped to [-max_speed, max_speed]; other bodies unchanged.
Result<Bytes> apply_actions(ByteView world, ByteView actions, const Params& params);

// A seeded actions blob: random actions, each NPC's logits 0 but 1 for its
// action (so the action is their argmax, as the nn kernels choose).
Bytes generate_actions(const Params& params, uint64_t seed);

}  // namespace p2c2r::kernels::physics
