#pragma once

#include <prometheus/metric_family.h>

#include <vector>

namespace integr8scode {

// The standard process_* metrics of Prometheus client libraries (CPU seconds, resident and
// virtual memory, open and maximum descriptors, start time), read from /proc/self at each
// scrape. prometheus-cpp has none of its own. A file that cannot be read leaves its
// metrics out of that scrape; nothing throws. Thread-safe (no state).
std::vector<prometheus::MetricFamily> CollectProcessMetrics();

}  // namespace integr8scode
