#include "service/services.hpp"

#include <fmt/format.h>

#include <utility>

#include "common/log.hpp"
#include "queue/periodic_task.hpp"
#include "queue/retention.hpp"
#include "service/auth_service_impl.hpp"
#include "service/crypto.hpp"
#include "service/event_publisher.hpp"
#include "service/execution_service_impl.hpp"
#include "service/script_service_impl.hpp"

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

class ServicesImpl final : public Services {
 public:
  ServicesImpl(ServiceStores stores, Executor& executor, RuntimeCatalog catalog,
               std::vector<RuntimeAvailability> availability, ServiceOptions options,
               ExecutionObserver* observer, std::unique_ptr<AuthServiceImpl> auth)
      : stores_(std::move(stores)),
        executor_(executor),
        catalog_(std::move(catalog)),
        availability_(std::move(availability)),
        options_(std::move(options)),
        hub_(options_.events, options_.now_ms),
        publisher_(hub_, observer),
        queue_(*stores_.executions, executor_, catalog_, publisher_, options_.queue,
               options_.now_ms),
        auth_(std::move(auth)),
        scripts_(stores_.scripts, catalog_, options_.max_script_bytes, options_.quotas,
                 options_.now_ms),
        executions_(stores_.executions, queue_, hub_, publisher_, catalog_, availability_, options_,
                    options_.now_ms) {}

  ~ServicesImpl() override { Shutdown(std::chrono::milliseconds(0)); }

  Status Start() {
    auto recovered = queue_.Recover();
    if (!recovered) return Fail(std::move(recovered.error()));
    for (const std::string& id : recovered->failed) {
      Log(LogLevel::kWarn, "execution interrupted too often; marked as error",
          {{"execution_id", id}});
    }
    queue_.Start();
    maintenance_ = std::make_unique<PeriodicTask>(options_.queue.retention_sweep_interval,
                                                  [this] { Maintain(); });
    return {};
  }

  ExecutionService& Executions() override { return executions_; }
  AuthService& Auth() override { return *auth_; }
  ScriptService& Scripts() override { return scripts_; }
  EventHub& Events() override { return hub_; }

  std::vector<ReadinessCheck> CheckReady() override {
    std::vector<ReadinessCheck> checks;
    checks.push_back({"store", stores_.check ? stores_.check() : Status{}});
    checks.push_back({"sandbox", executor_.CheckReady()});
    Status queue;
    if (!queue_.Accepting()) {
      queue =
          Fail(MakeError(ErrorCode::kUnavailable, "unavailable", "the server is shutting down"));
    }
    checks.push_back({"queue", std::move(queue)});
    return checks;
  }

  void Shutdown(std::chrono::milliseconds grace) override {
    queue_.Shutdown(grace);
    if (maintenance_) maintenance_->Stop();
  }

 private:
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
    hub_.Sweep();
  }

  ServiceStores stores_;
  Executor& executor_;
  const RuntimeCatalog catalog_;
  const std::vector<RuntimeAvailability> availability_;
  const ServiceOptions options_;
  MemoryEventHub hub_;
  EventPublisher publisher_;
  ExecutionQueue queue_;
  std::unique_ptr<AuthServiceImpl> auth_;
  ScriptServiceImpl scripts_;
  ExecutionServiceImpl executions_;
  std::unique_ptr<PeriodicTask> maintenance_;
};

}  // namespace

Result<std::unique_ptr<Services>> StartServices(ServiceStores stores, Executor& executor,
                                                RuntimeCatalog catalog,
                                                std::vector<RuntimeAvailability> availability,
                                                ServiceOptions options,
                                                ExecutionObserver* observer) {
  if (auto ready = EnsureSodium(); !ready) return Fail(ready.error());
  if (auto valid = ValidateOptions(stores, catalog, availability, options); !valid) {
    return Fail(valid.error());
  }
  if (!options.now_ms) options.now_ms = SystemNowMs;
  auto auth = AuthServiceImpl::Create(stores.users, stores.tokens, options.auth, options.now_ms);
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
