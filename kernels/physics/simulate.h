// The physics kernel's CPU reference: the same fixed-point algorithm as the
// shaders (physics_*.comp), pass for pass, so it returns the same bytes.
//
// One step: build the uniform grid (counting sort by cell, then by body id),
// count each body's contacts, then solve every body Jacobi style from the old
// state of itself and its neighbours. The thread count only splits the
// per-body passes, each of which writes nothing but its own bodies' slots.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/isqrt.h"
#include "kernels/physics/world.h"

namespace p2c2r::kernels::physics {

// At most this many contacts per body are solved: the first found in the
// fixed neighbour order (physics_common.glsl has the same constant).
constexpr uint32_t kMaxContacts = 16;

using kernels::isqrt32;  // kernels/isqrt.h: 16 fixed rounds, as in the shaders

// Runs config.steps steps on `bodies` (id order) and returns the new state.
std::vector<Body> simulate(const Config& config, std::vector<Body> bodies, unsigned threads);

}  // namespace p2c2r::kernels::physics
