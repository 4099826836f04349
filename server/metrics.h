// Counters behind /metrics (Prometheus text format 0.0.4). Updated under the
// coordinator's lock; rendered by it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>

namespace p2c2r::server {

class Metrics {
 public:
  // Time from a unit becoming ready to one of its replicas being sent.
  void dispatched(double latency_ms);
  void result_reported(int64_t now_ms);
  // Results reported over the last 10 seconds, per second.
  double results_per_second(int64_t now_ms);
  std::string render_histogram() const;
  uint64_t results_total() const { return results_total_; }
  uint64_t dispatches() const { return count_; }

 private:
  static constexpr std::array<double, 12> kBucketsMs = {0.1, 0.25, 0.5, 1,   2.5,  5,
                                                        10,  25,   50,  100, 1000, 10000};
  std::array<uint64_t, kBucketsMs.size()> buckets_{};
  uint64_t count_ = 0;
  double sum_ms_ = 0;
  uint64_t results_total_ = 0;
  std::deque<int64_t> recent_;  // report times within the window
};

}  // namespace p2c2r::server
