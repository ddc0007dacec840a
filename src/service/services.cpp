#include "service/services.hpp"

#include <fmt/format.h>

#include <utility>

#include "common/log.hpp"
#include "common/try.hpp"
#include "queue/cluster_queue.hpp"
#include "queue/periodic_task.hpp"
#include "queue/retention.hpp"
#include "service/auth_service_impl.hpp"
#include "service/crypto.hpp"
#include "service/event_publisher.hpp"
#include "service/execution_service_impl.hpp"
#include "service/script_service_impl.hpp"
#include "service/store_event_hub.hpp"

namespace integr8scode {
namespace {

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ValidateOptions(const ServiceStores& stores, const RuntimeCatalog& catalog,
                       const std::vector<RuntimeAvailability>& availability,
                       const ServiceOptions& options) {
  if (!stores.executions || !stores.users || !stores.scripts || !stores.tokens) {
    return Fail(ErrorCode::kInvalidArgument, "every store must be given to the services");
  }
  if (!availability.empty() && availability.size() != catalog.All().size()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("runtime availability lists {} entries for {} runtimes",
                            availability.size(), catalog.All().size()));
  }
  if (auto within = CheckWithin(options.default_limits, options.maximum_limits); !within) {
    return Fail(ErrorCode::kInvalidArgument,
                "the default limits must lie within the maximum: " + within.error().message);
  }
  if (options.max_script_bytes == 0) {
    return Fail(ErrorCode::kInvalidArgument, "the script size limit must be positive");
  }
  if (options.queue.capacity == 0) {
    return Fail(ErrorCode::kInvalidArgument, "the queue capacity must be positive");
  }
  if (options.queue.max_attempts < 1) {
    return Fail(ErrorCode::kInvalidArgument, "queue max_attempts must be at least 1");
  }
  if (options.queue.retention.count() < 0 || options.anonymous_retention.count() < 0 ||
      options.queue.retention_sweep_interval.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "the retention must be 0 (keep forever) or positive, its sweep interval positive");
  }
  return {};
}

// How often the cluster-wide queue depth is read (gauges, the capacity check).
constexpr std::chrono::seconds kDepthInterval{1};
constexpr std::string_view kLostWorkerReason =
    "the worker running this execution was lost (no heartbeat within its lease)";

class ServicesImpl final : public Services {
 public:
  ServicesImpl(ServiceStores stores, Executor* executor, RuntimeCatalog catalog,
               std::vector<RuntimeAvailability> availability, ServiceOptions options,
               ExecutionObserver* observer, std::unique_ptr<AuthServiceImpl> auth)
      : stores_(std::move(stores)),
        executor_(executor),
        catalog_(std::move(catalog)),
        availability_(std::move(availability)),
        options_(std::move(options)),
        observer_(observer),
        hub_(MakeHub()),
        publisher_(*hub_, observer, stores_.cluster != nullptr),
        auth_(std::move(auth)),
        scripts_(stores_.scripts, catalog_, options_.max_script_bytes, options_.quotas,
                 options_.now_ms) {
    if (stores_.cluster) {
      if (executor_ != nullptr) {
        cluster_workers_ = std::make_unique<ClusterWorkerPool>(
            *stores_.cluster, *stores_.executions, *executor_, catalog_, publisher_, options_.queue,
            options_.now_ms);
      }
      cluster_submit_ = std::make_unique<ClusterSubmitQueue>(
          *stores_.cluster, options_.queue.capacity,
          [this] { return cluster_workers_ ? cluster_workers_->Slots() : 0; });
      submit_ = cluster_submit_.get();
      workers_ = cluster_workers_.get();
    } else {
      local_queue_ = std::make_unique<ExecutionQueue>(*stores_.executions, *executor_, catalog_,
                                                      publisher_, options_.queue, options_.now_ms);
      submit_ = local_queue_.get();
      workers_ = local_queue_.get();
    }
    executions_ =
        std::make_unique<ExecutionServiceImpl>(stores_.executions, *submit_, *hub_, publisher_,
                                               catalog_, availability_, options_, options_.now_ms);
  }

  ~ServicesImpl() override { Shutdown(std::chrono::milliseconds(0)); }

  Status Start() {
    if (stores_.cluster) {
      if (stores_.change_feed) {
        ChangeFeedCallbacks callbacks;
        callbacks.on_notify = [this](std::string_view channel, std::string_view payload) {
          OnNotify(channel, payload);
        };
        callbacks.on_connected = [this] {
          if (cluster_workers_) cluster_workers_->WakeUp();
          if (auto* hub = dynamic_cast<StoreEventHub*>(hub_.get())) hub->NotifyAll();
        };
        feed_ = stores_.change_feed(std::move(callbacks));
      }
      if (auto depth = cluster_submit_->Refresh(); !depth) {
        return Fail(std::move(depth.error()).WithContext("read the queue"));
      }
      RescueExpired();
      if (workers_ != nullptr) workers_->Start();
      cluster_maintenance_ = std::make_unique<PeriodicTask>(
          std::min<std::chrono::milliseconds>(options_.queue.rescue_interval, kDepthInterval),
          [this] { MaintainCluster(); });
    } else {
      auto recovered = I8C_TRY_VALUE(workers_->Recover());
      for (const std::string& id : recovered.failed) {
        Log(LogLevel::kWarn, "execution interrupted too often; marked as error",
            {{"execution_id", id}});
      }
      workers_->Start();
    }
    maintenance_ = std::make_unique<PeriodicTask>(options_.queue.retention_sweep_interval,
                                                  [this] { Maintain(); });
    return {};
  }

  ExecutionService& Executions() override { return *executions_; }
  AuthService& Auth() override { return *auth_; }
  ScriptService& Scripts() override { return scripts_; }
  EventHub& Events() override { return *hub_; }
  SharedRateLimits* RateLimits() override { return stores_.rate_limits.get(); }

  std::vector<ReadinessCheck> CheckReady() override {
    std::vector<ReadinessCheck> checks;
    Status store = stores_.check ? stores_.check() : Status{};
    if (observer_ != nullptr) observer_->SetStoreUp(store.has_value());
    checks.push_back({"store", std::move(store)});
    if (executor_ != nullptr) checks.push_back({"sandbox", executor_->CheckReady()});
    Status queue;
    if (!submit_->Accepting()) {
      queue =
          Fail(MakeError(ErrorCode::kUnavailable, "unavailable", "the server is shutting down"));
    }
    checks.push_back({"queue", std::move(queue)});
    if (feed_) {
      Status listening;
      if (!feed_->Connected()) {
        listening = Fail(MakeError(ErrorCode::kUnavailable, "unavailable",
                                   "not listening for queue notifications (database unreachable)"));
      }
      checks.push_back({"listener", std::move(listening)});
    }
    return checks;
  }

  void Shutdown(std::chrono::milliseconds grace) override {
    if (cluster_submit_) cluster_submit_->StopAccepting();
    if (workers_ != nullptr) workers_->Shutdown(grace);
    if (cluster_maintenance_) cluster_maintenance_->Stop();
    if (maintenance_) maintenance_->Stop();
    feed_.reset();
    hub_->Flush();
  }

 private:
  std::unique_ptr<EventHub> MakeHub() const {
    if (stores_.cluster) {
      return std::make_unique<StoreEventHub>(*stores_.cluster, options_.events, options_.now_ms,
                                             options_.queue.poll_interval);
    }
    return std::make_unique<MemoryEventHub>(options_.events, options_.now_ms);
  }

  void OnNotify(std::string_view channel, std::string_view payload) {
    if (channel == kWorkChannel) {
      if (cluster_workers_) cluster_workers_->WakeUp();
    } else if (channel == kCancelChannel) {
      if (cluster_workers_) cluster_workers_->StopIfRunning(payload);
    } else if (channel == kEventsChannel) {
      if (auto* hub = dynamic_cast<StoreEventHub*>(hub_.get())) hub->Notify(payload);
    }
  }

  void RescueExpired() {
    auto rescued = stores_.cluster->RescueExpired(options_.queue.max_attempts, kLostWorkerReason,
                                                  options_.now_ms());
    if (!rescued) {
      Log(LogLevel::kWarn, "lease rescue failed", {{"error", rescued.error().Describe()}});
      return;
    }
    if (rescued->requeued.empty() && rescued->failed.empty()) return;
    Log(LogLevel::kWarn, "rescued executions of lost workers",
        {{"requeued", rescued->requeued.size()}, {"failed", rescued->failed.size()}});
    if (observer_ != nullptr) {
      observer_->OnLeasesRescued(rescued->requeued.size(), rescued->failed.size());
    }
  }

  void MaintainCluster() {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_rescue_) {
      next_rescue_ = now + options_.queue.rescue_interval;
      RescueExpired();
    }
    auto depth = cluster_submit_->Refresh();
    if (observer_ == nullptr) return;
    observer_->SetStoreUp(depth.has_value());
    if (!depth) return;
    observer_->SetQueueDepth(depth->queued);
    observer_->SetRunning(cluster_workers_ ? cluster_workers_->Running() : 0);
    const std::int64_t oldest =
        depth->oldest_queued_at_ms ? options_.now_ms() - *depth->oldest_queued_at_ms : 0;
    observer_->SetOldestQueuedAge(std::chrono::milliseconds(std::max<std::int64_t>(0, oldest)));
  }

  void Maintain() {
    const std::int64_t now = options_.now_ms();
    if (auto swept = SweepFinishedExecutions(*stores_.executions, options_.queue.retention, now);
        !swept) {
      Log(LogLevel::kWarn, "retention sweep failed", {{"error", swept.error().Describe()}});
    }
    if (auto swept = SweepFinishedExecutions(*stores_.executions, options_.anonymous_retention, now,
                                             /*anonymous_only=*/true);
        !swept) {
      Log(LogLevel::kWarn, "anonymous retention sweep failed",
          {{"error", swept.error().Describe()}});
    }
    if (auto swept = auth_->SweepExpiredRevocations(); !swept) {
      Log(LogLevel::kWarn, "token revocation sweep failed", {{"error", swept.error().Describe()}});
    }
    if (auto swept = auth_->SweepLoginAttempts(); !swept) {
      Log(LogLevel::kWarn, "failed-login sweep failed", {{"error", swept.error().Describe()}});
    }
    hub_->Sweep();
    if (stores_.rate_limits) {
      if (auto deleted = stores_.rate_limits->DeleteIdle(); !deleted) {
        Log(LogLevel::kWarn, "rate bucket sweep failed", {{"error", deleted.error().Describe()}});
      }
    }
  }

  ServiceStores stores_;
  Executor* executor_;
  const RuntimeCatalog catalog_;
  const std::vector<RuntimeAvailability> availability_;
  const ServiceOptions options_;
  ExecutionObserver* observer_;
  std::unique_ptr<EventHub> hub_;
  EventPublisher publisher_;
  std::unique_ptr<AuthServiceImpl> auth_;
  ScriptServiceImpl scripts_;
  std::unique_ptr<ExecutionQueue> local_queue_;
  std::unique_ptr<ClusterWorkerPool> cluster_workers_;
  std::unique_ptr<ClusterSubmitQueue> cluster_submit_;
  SubmitQueue* submit_ = nullptr;
  WorkerPool* workers_ = nullptr;
  std::unique_ptr<ExecutionServiceImpl> executions_;
  std::unique_ptr<ChangeFeed> feed_;
  std::unique_ptr<PeriodicTask> maintenance_;
  std::unique_ptr<PeriodicTask> cluster_maintenance_;
  std::chrono::steady_clock::time_point next_rescue_ = std::chrono::steady_clock::now();
};

}  // namespace

Result<std::unique_ptr<Services>> StartServices(ServiceStores stores, Executor& executor,
                                                RuntimeCatalog catalog,
                                                std::vector<RuntimeAvailability> availability,
                                                ServiceOptions options,
                                                ExecutionObserver* observer) {
  return StartServices(std::move(stores), &executor, std::move(catalog), std::move(availability),
                       std::move(options), observer);
}

Result<std::unique_ptr<Services>> StartServices(ServiceStores stores, Executor* executor,
                                                RuntimeCatalog catalog,
                                                std::vector<RuntimeAvailability> availability,
                                                ServiceOptions options,
                                                ExecutionObserver* observer) {
  if (executor == nullptr && !stores.cluster) {
    return Fail(ErrorCode::kInvalidArgument,
                "without a local executor the queue must be in the database (PostgreSQL)");
  }
  I8C_TRY(EnsureSodium());
  I8C_TRY(ValidateOptions(stores, catalog, availability, options));
  if (!options.now_ms) options.now_ms = SystemNowMs;
  auto auth = AuthServiceImpl::Create(stores.users, stores.tokens, options.auth, options.now_ms,
                                      stores.login_attempts);
  if (!auth) return Fail(std::move(auth.error()).WithContext("start accounts"));
  auto services = std::make_unique<ServicesImpl>(std::move(stores), executor, std::move(catalog),
                                                 std::move(availability), std::move(options),
                                                 observer, std::move(*auth));
  if (auto started = services->Start(); !started) {
    return Fail(std::move(started.error()).WithContext("start the execution queue"));
  }
  return std::unique_ptr<Services>(std::move(services));
}

}  // namespace integr8scode
