// How much longer tests allow for things that compile shaders or run units in
// the sanitizer build: AddressSanitizer intercepts every allocation LLVM makes
// while lavapipe compiles a shader, which makes the largest (video) take
// ~40 s instead of ~12 s on a 2-core machine. Bounds only; nothing is timed.
#pragma once

namespace p2c2r::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr int kSlowdown = 4;
#else
inline constexpr int kSlowdown = 1;
#endif

}  // namespace p2c2r::testing
