#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "service/execution_observer.hpp"

namespace integr8scode {

// The process's Prometheus metrics (prometheus-cpp core, text exposition format).
// Names and types are pinned by tests/metrics/metrics_golden.txt: renaming one is a
// breaking change for dashboards and alerts. Thread-safe; every method is cheap and
// does no I/O. prometheus-cpp headers stay in metrics.cpp.
class Metrics final : public ExecutionObserver {
 public:
  Metrics();
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One answered HTTP request. `route` is the route pattern ("/api/v1/executions/{id}",
  // "static", "unmatched"), never the raw path, so that ids do not explode the label
  // space; a method outside GET HEAD POST PUT DELETE OPTIONS PATCH is counted as
  // "other". Every label takes a bounded set of values: the caller passes only
  // constants for `route`.
  void ObserveRequest(std::string_view route, std::string_view method, int status,
                      std::chrono::nanoseconds latency);
  void ConnectionOpened();
  void ConnectionClosed();
  void RequestRateLimited(std::string_view group);

  // ExecutionObserver
  void OnQueued(std::string_view language, std::string_view version) override;
  void OnStarted(std::string_view language, std::string_view version,
                 std::chrono::milliseconds queue_wait) override;
  void OnFinished(std::string_view language, std::string_view version,
                  const RunResult& result) override;
  void SetQueueDepth(std::size_t queued) override;
  void SetRunning(std::size_t running) override;
  void SetOldestQueuedAge(std::chrono::milliseconds age) override;
  void OnLeasesRescued(std::size_t requeued, std::size_t failed) override;
  void SetStoreUp(bool up) override;

  // integr8scode_process_info{role, version} = 1; once, at start.
  void SetProcessInfo(std::string_view role, std::string_view version);

  // Everything in the Prometheus text format (version 0.0.4).
  std::string Render() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

}  // namespace integr8scode
