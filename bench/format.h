// Number formatting for benchmark tables.
#pragma once

#include <cstdio>
#include <string>

namespace p2c2r::bench {

// 27300000000 -> "27.3G": three significant digits and an SI prefix.
inline std::string si(double v) {
  const char* suffix[] = {"", "k", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1000 && i < 5) v /= 1000, ++i;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", v, suffix[i]);
  return buf;
}

}  // namespace p2c2r::bench
