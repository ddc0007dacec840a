#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "domain/status.hpp"
#include "metrics/process_metrics.hpp"

namespace integr8scode {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Bucket bounds are chosen for what each histogram measures: HTTP answers in
// sub-milliseconds to seconds (?wait=true), runs in tens of milliseconds to the 30 s
// maximum, the sandbox set-up in microseconds to tens of milliseconds.
Histogram::BucketBoundaries HttpBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
}
Histogram::BucketBoundaries RunBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}
Histogram::BucketBoundaries QueueWaitBuckets() {
  return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
}
Histogram::BucketBoundaries MemoryBuckets() {
  Histogram::BucketBoundaries bounds;
  for (double bytes = 1 << 20; bytes <= 4.0 * (1 << 30); bytes *= 2) bounds.push_back(bytes);
  return bounds;
}
Histogram::BucketBoundaries SetupBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25};
}

// The method label takes a fixed set of values: a method is whatever token a client
// sends, and each new label value is a new series kept for the life of the process.
std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST", "PUT",
                                                "DELETE", "OPTIONS", "PATCH"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

// Statuses this server sends are a small set; anything outside 100–599 would be a bug,
// and still must not add series.
std::string CodeLabel(int status) {
  return status >= 100 && status <= 599 ? std::to_string(status) : "other";
}

double Seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

struct Metrics::Families {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  prometheus::Family<prometheus::Counter>& http_requests =
      BuildCounter()
          .Name("integr8scode_http_requests_total")
          .Help("HTTP requests answered, by route pattern, method and status code")
          .Register(*registry);
  prometheus::Family<Histogram>& http_duration =
      BuildHistogram()
          .Name("integr8scode_http_request_duration_seconds")
          .Help(
              "Time from the end of the request headers to the end of the answer, by route "
              "pattern, method and status code")
          .Register(*registry);
  prometheus::Gauge& http_connections = BuildGauge()
                                            .Name("integr8scode_http_open_connections")
                                            .Help("HTTP connections currently open")
                                            .Register(*registry)
                                            .Add({});
  prometheus::Family<prometheus::Counter>& rate_limited =
      BuildCounter()
          .Name("integr8scode_http_rate_limited_total")
          .Help("Requests refused with 429, by rate-limit group")
          .Register(*registry);

  prometheus::Family<prometheus::Counter>& submitted =
      BuildCounter()
          .Name("integr8scode_executions_submitted_total")
          .Help("Executions accepted into the queue, by language and version")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& finished =
      BuildCounter()
          .Name("integr8scode_executions_total")
          .Help("Executions finished, by language, version and final status")
          .Register(*registry);
  prometheus::Gauge& queue_depth = BuildGauge()
                                       .Name("integr8scode_execution_queue_depth")
                                       .Help("Executions waiting in the queue")
                                       .Register(*registry)
                                       .Add({});
  prometheus::Gauge& running = BuildGauge()
                                   .Name("integr8scode_executions_running")
                                   .Help("Executions running in the sandbox now")
                                   .Register(*registry)
                                   .Add({});
  prometheus::Family<Histogram>& queue_wait =
      BuildHistogram()
          .Name("integr8scode_execution_queue_wait_seconds")
          .Help("Time an execution waited in the queue before a worker started it")
          .Register(*registry);
  prometheus::Family<Histogram>& wall =
      BuildHistogram()
          .Name("integr8scode_execution_wall_seconds")
          .Help("Wall-clock time of finished runs, by language and version")
          .Register(*registry);
  prometheus::Family<Histogram>& cpu =
      BuildHistogram()
          .Name("integr8scode_execution_cpu_seconds")
          .Help("CPU time of finished runs, by language and version")
          .Register(*registry);
  prometheus::Family<Histogram>& memory =
      BuildHistogram()
          .Name("integr8scode_execution_peak_memory_bytes")
          .Help("Peak memory of finished runs, by language and version")
          .Register(*registry);
  prometheus::Counter& warm_starts =
      BuildCounter()
          .Name("integr8scode_warm_starts_total")
          .Help("Runs whose interpreter was started ahead (sandbox.warm)")
          .Register(*registry)
          .Add({});
  prometheus::Counter& warm_fallbacks =
      BuildCounter()
          .Name("integr8scode_warm_fallbacks_total")
          .Help("Runs that found a warm interpreter unusable and started cold")
          .Register(*registry)
          .Add({});
  prometheus::Counter& warm_preload_missing =
      BuildCounter()
          .Name("integr8scode_warm_preload_missing_total")
          .Help("Warm runs whose interpreter could not import some of sandbox.warm_preload")
          .Register(*registry)
          .Add({});
  prometheus::Family<Histogram>& setup =
      BuildHistogram()
          .Name("integr8scode_sandbox_setup_seconds")
          .Help("Time the sandbox took to set itself up before the program started")
          .Register(*registry);
  prometheus::Gauge& oldest_queued =
      BuildGauge()
          .Name("integr8scode_execution_queue_oldest_age_seconds")
          .Help("Age of the oldest waiting execution (0 when none); cluster-wide on PostgreSQL")
          .Register(*registry)
          .Add({});
  prometheus::Family<prometheus::Counter>& rescued =
      BuildCounter()
          .Name("integr8scode_leases_rescued_total")
          .Help("Executions of lost workers taken back, by outcome (requeued or failed)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& process_info =
      BuildGauge()
          .Name("integr8scode_process_info")
          .Help("1, labelled with this process's role and version")
          .Register(*registry);
  prometheus::Gauge& store_up = BuildGauge()
                                    .Name("integr8scode_store_up")
                                    .Help("1 when the last database check succeeded, else 0")
                                    .Register(*registry)
                                    .Add({});
  Histogram& queue_wait_all = queue_wait.Add({}, QueueWaitBuckets());
  prometheus::Counter& setup_failures =
      BuildCounter()
          .Name("integr8scode_sandbox_setup_failures_total")
          .Help("Runs that ended in status error before the program started (sandbox set-up)")
          .Register(*registry)
          .Add({});
  Histogram& setup_all = setup.Add({}, SetupBuckets());
};

Metrics::Metrics() : families_(std::make_unique<Families>()) {
  // Present from the start, so that a rate over them has a first sample.
  families_->rescued.Add({{"outcome", "requeued"}});
  families_->rescued.Add({{"outcome", "failed"}});
}
Metrics::~Metrics() = default;

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             std::chrono::nanoseconds latency) {
  const prometheus::Labels labels{{"route", std::string(route)},
                                  {"method", std::string(MethodLabel(method))},
                                  {"code", CodeLabel(status)}};
  families_->http_requests.Add(labels).Increment();
  families_->http_duration.Add(labels, HttpBuckets()).Observe(Seconds(latency));
}

void Metrics::ConnectionOpened() { families_->http_connections.Increment(); }
void Metrics::ConnectionClosed() { families_->http_connections.Decrement(); }

void Metrics::RequestRateLimited(std::string_view group) {
  families_->rate_limited.Add({{"group", std::string(group)}}).Increment();
}

void Metrics::OnQueued(std::string_view language, std::string_view version) {
  families_->submitted.Add({{"lang", std::string(language)}, {"version", std::string(version)}})
      .Increment();
}

void Metrics::OnStarted(std::string_view, std::string_view, std::chrono::milliseconds queue_wait) {
  families_->queue_wait_all.Observe(Seconds(queue_wait));
}

void Metrics::OnFinished(std::string_view language, std::string_view version,
                         const RunResult& result) {
  const prometheus::Labels runtime{{"lang", std::string(language)},
                                   {"version", std::string(version)}};
  prometheus::Labels with_status = runtime;
  with_status.emplace("status", std::string(StatusName(result.status)));
  families_->finished.Add(with_status).Increment();
  // A run that never started (cancelled while queued, platform error) has no usage to record.
  const bool started = result.usage.wall_time_ms > 0 || result.usage.cpu_time_ms > 0;
  // A platform error before the program started is the executor failing to set up the
  // sandbox (namespaces, mounts, cgroup, seccomp, launch) or to find the runtime.
  if (!started && result.status == ExecutionStatus::kError) families_->setup_failures.Increment();
  if (started) {
    families_->wall.Add(runtime, RunBuckets())
        .Observe(static_cast<double>(result.usage.wall_time_ms) / 1000.0);
    families_->cpu.Add(runtime, RunBuckets())
        .Observe(static_cast<double>(result.usage.cpu_time_ms) / 1000.0);
    families_->memory.Add(runtime, MemoryBuckets())
        .Observe(static_cast<double>(result.usage.peak_memory_bytes));
  }
  if (result.setup_us > 0) families_->setup_all.Observe(static_cast<double>(result.setup_us) / 1e6);
  if (result.start == StartKind::kWarm) families_->warm_starts.Increment();
  if (result.start == StartKind::kWarmFallback) families_->warm_fallbacks.Increment();
  if (result.preload_incomplete) families_->warm_preload_missing.Increment();
}

void Metrics::SetQueueDepth(std::size_t queued) {
  families_->queue_depth.Set(static_cast<double>(queued));
}
void Metrics::SetRunning(std::size_t running) {
  families_->running.Set(static_cast<double>(running));
}

void Metrics::SetOldestQueuedAge(std::chrono::milliseconds age) {
  families_->oldest_queued.Set(Seconds(age));
}

void Metrics::OnLeasesRescued(std::size_t requeued, std::size_t failed) {
  families_->rescued.Add({{"outcome", "requeued"}}).Increment(static_cast<double>(requeued));
  families_->rescued.Add({{"outcome", "failed"}}).Increment(static_cast<double>(failed));
}

void Metrics::SetStoreUp(bool up) { families_->store_up.Set(up ? 1 : 0); }

void Metrics::SetProcessInfo(std::string_view role, std::string_view version) {
  families_->process_info.Add({{"role", std::string(role)}, {"version", std::string(version)}})
      .Set(1);
}

std::string Metrics::Render() const {
  std::ostringstream out;
  std::vector<prometheus::MetricFamily> families = families_->registry->Collect();
  for (prometheus::MetricFamily& family : CollectProcessMetrics()) {
    families.push_back(std::move(family));
  }
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace integr8scode
