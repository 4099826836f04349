#include "server/metrics.h"

#include <cstdio>

namespace p2c2r::server {

void Metrics::dispatched(double latency_ms) {
  for (size_t i = 0; i < kBucketsMs.size(); ++i)
    if (latency_ms <= kBucketsMs[i]) ++buckets_[i];
  ++count_;
  sum_ms_ += latency_ms;
}

void Metrics::result_reported(int64_t now_ms) {
  ++results_total_;
  recent_.push_back(now_ms);
  while (!recent_.empty() && recent_.front() < now_ms - 10000) recent_.pop_front();
}

double Metrics::results_per_second(int64_t now_ms) {
  while (!recent_.empty() && recent_.front() < now_ms - 10000) recent_.pop_front();
  return static_cast<double>(recent_.size()) / 10.0;
}

std::string Metrics::render_histogram() const {
  std::string out =
      "# HELP p2c2r_dispatch_latency_seconds Time from a unit becoming ready to a replica being "
      "sent.\n"
      "# TYPE p2c2r_dispatch_latency_seconds histogram\n";
  char line[160];
  for (size_t i = 0; i < kBucketsMs.size(); ++i) {
    std::snprintf(line, sizeof line, "p2c2r_dispatch_latency_seconds_bucket{le=\"%g\"} %llu\n",
                  kBucketsMs[i] / 1000.0, static_cast<unsigned long long>(buckets_[i]));
    out += line;
  }
  std::snprintf(
      line, sizeof line,
      "p2c2r_dispatch_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
      "p2c2r_dispatch_latency_seconds_sum %g\np2c2r_dispatch_latency_seconds_count %llu\n",
      static_cast<unsigned long long>(count_), sum_ms_ / 1000.0,
      static_cast<unsigned long long>(count_));
  out += line;
  return out;
}

}  // namespace p2c2r::server
