// When a peer may take work: a volunteer's limits. Pure policy: the caller
// passes the local time of day and the machine's recent CPU busy fraction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

namespace p2c2r::peer {

struct Availability {
  // Daily window in minutes since local midnight, [start, end); a window that
  // wraps midnight (22:00-06:00) is allowed. nullopt = any time.
  std::optional<std::pair<int, int>> window;
  // Take work only while the rest of the machine is idle: the CPU busy
  // fraction (excluding our own executor) must be below `idle_threshold`.
  bool only_when_idle = false;
  double idle_threshold = 0.25;
};

// Parses "HH:MM-HH:MM".
Result<std::pair<int, int>> parse_window(const std::string& text);

// Whether work may start now; if not, `why` says what holds it back.
bool may_take_work(const Availability& a, int minutes_since_midnight, double cpu_busy_fraction,
                   std::string* why);

}  // namespace p2c2r::peer
