#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

namespace integr8scode {

// Percentiles of one latency series, in milliseconds. All zero when `count` is 0.
struct LatencySummary {
  std::size_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

// Every sample of one latency series, kept whole so that percentiles are exact (a
// 30 s run at a few hundred requests a second is a few MB at most). Not thread-safe:
// one series belongs to one thread (the load generator's event loop).
class LatencySamples {
 public:
  void Add(std::chrono::nanoseconds sample) { samples_ns_.push_back(sample.count()); }
  void Merge(const LatencySamples& other);
  std::size_t Count() const { return samples_ns_.size(); }

  // Nearest-rank percentiles: p is the smallest sample with at least p % of the samples
  // at or below it, so every reported figure is a latency that was actually measured.
  LatencySummary Summarize() const;

 private:
  std::vector<long long> samples_ns_;
};

// The nearest-rank percentile `p` (0 < p <= 100) of `sorted`, which must be sorted
// ascending and not empty.
long long NearestRank(const std::vector<long long>& sorted, double p);

}  // namespace integr8scode
