// NPC observations from a game frame's physics world (docs/kernels/nn.md,
// "Observations from a world"): NPC i is body i, and its feature vector says
// where it is, how it moves and where its nearest neighbours are, in int8.
// Built on the CPU from the physics unit's output blob, for the device plan
// and the CPU reference alike, so both run the network on the same bytes.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"

namespace p2c2r::kernels::nn {

// Largest world an observation batch is built from (nearest neighbours are
// found by a full scan: bodies^2 distance tests).
constexpr uint32_t kMaxWorldNpcs = 4096;

// The shape of a world: its body count (the blob's size) and its box side
// in cells (positions are Q16.16 in [0, grid]).
struct WorldView {
  uint32_t bodies = 0;
  uint32_t grid = 0;
};

// Refuses a blob that is not a world of this shape (header, size, every
// centre inside the box), with a message naming the problem.
Status check_world_for_observations(const WorldView& shape, ByteView world);

// `features` int8 values per body, body-id order, each the feature value
// plus `zero_point` (the model's input zero point), saturated to int8:
//   0..2  position from the box centre, ±127 at the walls
//   3..5  velocity, 1/32 unit/s per step, saturated at ±127
//   then  the nearest other bodies (squared distance, ties to the lower id),
//         3 values each: their offset from this body, 1/32 unit per step
//   rest  0 (fewer features than that list: it is cut short)
// The world must have passed check_world_for_observations.
Bytes observations_from_world(const WorldView& shape, ByteView world, uint32_t features,
                              int32_t zero_point);

}  // namespace p2c2r::kernels::nn
