#include "load/latency_samples.hpp"

#include <algorithm>
#include <cmath>

namespace integr8scode {
namespace {

double Milliseconds(long long ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

void LatencySamples::Merge(const LatencySamples& other) {
  samples_ns_.insert(samples_ns_.end(), other.samples_ns_.begin(), other.samples_ns_.end());
}

long long NearestRank(const std::vector<long long>& sorted, double p) {
  const double n = static_cast<double>(sorted.size());
  // ceil(p/100 · n), as a 1-based rank; the epsilon keeps 95 % of 100 at rank 95
  // rather than 96 when the product lands a hair above an integer.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

LatencySummary LatencySamples::Summarize() const {
  LatencySummary summary;
  if (samples_ns_.empty()) return summary;
  std::vector<long long> sorted = samples_ns_;
  std::sort(sorted.begin(), sorted.end());
  long double total = 0;
  for (long long sample : sorted) total += sample;
  summary.count = sorted.size();
  summary.mean_ms = static_cast<double>(total / static_cast<long double>(sorted.size())) / 1e6;
  summary.p50_ms = Milliseconds(NearestRank(sorted, 50));
  summary.p95_ms = Milliseconds(NearestRank(sorted, 95));
  summary.p99_ms = Milliseconds(NearestRank(sorted, 99));
  summary.max_ms = Milliseconds(sorted.back());
  return summary;
}

}  // namespace integr8scode
