#include "peer/availability.h"

#include <cstdio>

namespace p2c2r::peer {

Result<std::pair<int, int>> parse_window(const std::string& text) {
  int h1, m1, h2, m2;
  char tail;
  if (std::sscanf(text.c_str(), "%d:%d-%d:%d%c", &h1, &m1, &h2, &m2, &tail) != 4 || h1 < 0 ||
      h1 > 23 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 ||
      (h2 == 24 && m2 != 0)) {
    return invalid_argument("a time window is HH:MM-HH:MM (e.g. 22:00-07:00), got '" + text + "'");
  }
  const int start = h1 * 60 + m1, end = h2 * 60 + m2;
  if (start == end) return invalid_argument("the time window '" + text + "' is empty");
  return std::make_pair(start, end);
}

bool may_take_work(const Availability& a, int minute, double busy, std::string* why) {
  if (a.window) {
    const auto [start, end] = *a.window;
    const bool inside =
        start < end ? (minute >= start && minute < end) : (minute >= start || minute < end);
    if (!inside) {
      if (why) *why = "outside the daily time window";
      return false;
    }
  }
  if (a.only_when_idle && busy >= a.idle_threshold) {
    if (why)
      *why = "the machine is busy (" + std::to_string(static_cast<int>(busy * 100)) + "% CPU)";
    return false;
  }
  return true;
}

}  // namespace p2c2r::peer
