#include "kernels/physics/actions.h"

#include <algorithm>
#include <cstring>

#include "common/rng.h"
#include "kernels/physics/world.h"

namespace p2c2r::kernels::physics {
namespace {

// Seeds the actions' generator apart from the world's (same unit seed).
constexpr uint64_t kActionsSeedSalt = 0x41435453;  // "ACTS"

uint64_t logits_bytes(const Params& p) {
  return uint64_t{p.u32("npc_count")} * p.u32("npc_actions") * 4;
}

uint32_t action_of(ByteView actions, const Params& p, uint32_t npc) {
  uint32_t a;
  std::memcpy(&a, actions.data() + logits_bytes(p) + 4 * uint64_t{npc}, 4);
  return a;
}

}  // namespace

std::array<int32_t, 3> action_impulse(uint32_t action, int32_t speed) {
  // Unit steps of the eight compass directions, N first, clockwise.
  static constexpr int32_t kCompass[8][2] = {{0, 1},  {1, 1},   {1, 0},  {1, -1},
                                             {0, -1}, {-1, -1}, {-1, 0}, {-1, 1}};
  const uint32_t kind = action % kActionKinds;
  if (kind == 0) return {0, 0, 0};
  if (kind == 9) return {0, 0, speed};
  const int32_t* d = kCompass[kind - 1];
  const int32_t step =
      d[0] != 0 && d[1] != 0 ? static_cast<int32_t>((int64_t{speed} * 46341) >> 16) : speed;
  return {d[0] * step, d[1] * step, 0};
}

uint64_t actions_blob_bytes(const Params& p) {
  return logits_bytes(p) + uint64_t{p.u32("npc_count")} * 4;
}

Status check_npc_count(const Params& p) {
  if (p.get("npc_count") > p.get("bodies")) {
    return invalid_argument("npc_count=" + std::to_string(p.get("npc_count")) + " exceeds bodies=" +
                            std::to_string(p.get("bodies")) + " (NPC i acts on body i)");
  }
  return Status::Ok();
}

Status check_actions(const Params& p, ByteView actions) {
  P2C2R_RETURN_IF_ERROR(check_npc_count(p));
  const uint64_t expected = actions_blob_bytes(p);
  if (actions.size() != expected) {
    return invalid_argument("actions blob is " + std::to_string(actions.size()) +
                            " bytes, expected " + std::to_string(expected) +
                            " (npc_count=" + std::to_string(p.get("npc_count")) +
                            " x npc_actions=" + std::to_string(p.get("npc_actions")) +
                            " int32 logits, then npc_count uint32 actions)");
  }
  for (uint32_t i = 0; i < p.u32("npc_count"); ++i) {
    if (const uint32_t a = action_of(actions, p, i); a >= p.u32("npc_actions")) {
      return invalid_argument("NPC " + std::to_string(i) + " chose action " + std::to_string(a) +
                              ", but npc_actions=" + std::to_string(p.get("npc_actions")));
    }
  }
  return Status::Ok();
}

Result<Bytes> apply_actions(ByteView world, ByteView actions, const Params& p) {
  const Config c = config_from(p);
  P2C2R_RETURN_IF_ERROR(check_world_geometry(c, world).with_context("input 'world'"));
  P2C2R_RETURN_IF_ERROR(check_actions(p, actions).with_context("input 'actions'"));
  std::vector<Body> bodies = bodies_of(world);
  const int32_t speed = static_cast<int32_t>(p.get("action_speed"));
  for (uint32_t i = 0; i < p.u32("npc_count"); ++i) {
    const auto dv = action_impulse(action_of(actions, p, i), speed);
    for (int a = 0; a < 3; ++a) {
      const int64_t v = int64_t{bodies[i].v[a]} + dv[a];
      bodies[i].v[a] = static_cast<int32_t>(std::clamp<int64_t>(v, -c.max_speed, c.max_speed));
    }
  }
  return world_blob(bodies);
}

Bytes generate_actions(const Params& p, uint64_t seed) {
  Rng rng(seed ^ kActionsSeedSalt);
  const uint32_t npcs = p.u32("npc_count"), kinds = p.u32("npc_actions");
  // Logits (NPC-major) then actions, as 32-bit words.
  std::vector<uint32_t> words(uint64_t{npcs} * kinds + npcs, 0);
  for (uint32_t i = 0; i < npcs; ++i) {
    const auto chosen = static_cast<uint32_t>(rng.below(kinds));
    words[uint64_t{i} * kinds + chosen] = 1;
    words[uint64_t{npcs} * kinds + i] = chosen;
  }
  return to_bytes(words);
}

}  // namespace p2c2r::kernels::physics
