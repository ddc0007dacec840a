#include "load/latency_samples.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

using std::chrono::milliseconds;

TEST(LatencySamples, EmptySeriesSummarizesToZeros) {
  const LatencySummary summary = LatencySamples().Summarize();
  EXPECT_EQ(summary.count, 0u);
  EXPECT_EQ(summary.p99_ms, 0);
  EXPECT_EQ(summary.max_ms, 0);
}

TEST(LatencySamples, NearestRankPercentilesOfOneToHundred) {
  LatencySamples samples;
  // Added out of order: the summary must sort.
  for (int i = 100; i >= 1; --i) samples.Add(milliseconds(i));
  const LatencySummary summary = samples.Summarize();
  EXPECT_EQ(summary.count, 100u);
  EXPECT_DOUBLE_EQ(summary.p50_ms, 50);
  EXPECT_DOUBLE_EQ(summary.p95_ms, 95);
  EXPECT_DOUBLE_EQ(summary.p99_ms, 99);
  EXPECT_DOUBLE_EQ(summary.max_ms, 100);
  EXPECT_DOUBLE_EQ(summary.mean_ms, 50.5);
}

TEST(LatencySamples, PercentilesAreMeasuredValuesNotInterpolations) {
  LatencySamples samples;
  for (int ms : {1, 2, 3, 1000}) samples.Add(milliseconds(ms));
  const LatencySummary summary = samples.Summarize();
  EXPECT_DOUBLE_EQ(summary.p50_ms, 2);  // rank ceil(0.5 · 4) = 2
  EXPECT_DOUBLE_EQ(summary.p95_ms, 1000);
  EXPECT_DOUBLE_EQ(summary.p99_ms, 1000);
}

TEST(LatencySamples, KeepsSubMillisecondResolution) {
  LatencySamples samples;
  samples.Add(std::chrono::microseconds(250));
  EXPECT_DOUBLE_EQ(samples.Summarize().p50_ms, 0.25);
}

TEST(LatencySamples, MergeKeepsEverySample) {
  LatencySamples a;
  LatencySamples b;
  a.Add(milliseconds(1));
  b.Add(milliseconds(3));
  b.Add(milliseconds(2));
  a.Merge(b);
  EXPECT_EQ(a.Count(), 3u);
  EXPECT_DOUBLE_EQ(a.Summarize().max_ms, 3);
  EXPECT_DOUBLE_EQ(a.Summarize().p50_ms, 2);
}

TEST(NearestRank, SingleSampleIsEveryPercentile) {
  const std::vector<long long> one{7};
  EXPECT_EQ(NearestRank(one, 1), 7);
  EXPECT_EQ(NearestRank(one, 100), 7);
}

}  // namespace
}  // namespace integr8scode
