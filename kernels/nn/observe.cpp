#include "kernels/nn/observe.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/physics/world.h"

namespace p2c2r::kernels::nn {
namespace {

int32_t saturate(int64_t v) { return static_cast<int32_t>(std::clamp<int64_t>(v, -127, 127)); }

// 1/32 unit (Q16.16: 2^11) per step. C++ division truncates toward zero, the
// same on every host.
int32_t fine(int64_t q16) { return saturate(q16 / 2048); }

}  // namespace

Status check_world_for_observations(const WorldView& shape, ByteView world) {
  if (shape.bodies == 0 || shape.bodies > kMaxWorldNpcs) {
    return invalid_argument("nn: a world of " + std::to_string(shape.bodies) +
                            " bodies; observations are built for 1.." +
                            std::to_string(kMaxWorldNpcs));
  }
  // The physics module's own checks of header, size and positions, with the
  // smallest radius it allows (every valid world of this box passes).
  physics::Config config;
  config.bodies = shape.bodies;
  config.grid = shape.grid;
  config.radius = physics::kOne / 4;
  return physics::check_world_geometry(config, world).with_context("nn: world input");
}

Bytes observations_from_world(const WorldView& shape, ByteView world, uint32_t features,
                              int32_t zero_point) {
  const std::vector<physics::Body> bodies = physics::bodies_of(world);
  const int64_t half = int64_t{shape.grid} * physics::kOne / 2;
  const uint32_t n = static_cast<uint32_t>(bodies.size());
  Bytes out(uint64_t{n} * features, 0);
  std::vector<uint32_t> order(n);
  std::vector<int64_t> d2(n);
  for (uint32_t i = 0; i < n; ++i) {
    const physics::Body& me = bodies[i];
    std::vector<int32_t> f;
    f.reserve(features);
    for (int a = 0; a < 3; ++a) f.push_back(saturate((me.p[a] - half) * 127 / half));
    for (int a = 0; a < 3; ++a) f.push_back(fine(me.v[a]));
    const uint32_t neighbours =
        features > 6 ? std::min<uint32_t>((features - 6 + 2) / 3, n - 1) : 0;
    if (neighbours > 0) {
      for (uint32_t j = 0; j < n; ++j) {
        int64_t s = 0;
        for (int a = 0; a < 3; ++a) {
          const int64_t d = int64_t{bodies[j].p[a]} - me.p[a];
          s += d * d;
        }
        d2[j] = s;
      }
      std::iota(order.begin(), order.end(), 0u);
      auto closer = [&](uint32_t a, uint32_t b) { return d2[a] != d2[b] ? d2[a] < d2[b] : a < b; };
      // The body itself may tie at distance 0 with another; it is skipped
      // by id, so take one more than needed.
      const uint32_t take = std::min(n, neighbours + 1);
      std::partial_sort(order.begin(), order.begin() + take, order.end(), closer);
      for (uint32_t k = 0, used = 0; k < take && used < neighbours; ++k) {
        if (order[k] == i) continue;
        for (int a = 0; a < 3; ++a) f.push_back(fine(int64_t{bodies[order[k]].p[a]} - me.p[a]));
        ++used;
      }
    }
    f.resize(features, 0);
    for (uint32_t k = 0; k < features; ++k) {
      const int64_t q = std::clamp<int64_t>(int64_t{f[k]} + zero_point, -128, 127);
      out[uint64_t{i} * features + k] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  }
  return out;
}

}  // namespace p2c2r::kernels::nn
