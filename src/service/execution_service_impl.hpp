#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/stores.hpp"
#include "queue/execution_queue.hpp"
#include "queue/queue_sides.hpp"
#include "service/event_publisher.hpp"
#include "service/execution_service.hpp"
#include "service/services.hpp"

namespace integr8scode {

// ExecutionService over the store, the queue and the event hub.
// Submit: validate → (idempotency lookup) → reserve a queue place → Insert → publish
// "queued" → enqueue; so every accepted execution is stored before Submit returns, and a
// full queue refuses before anything is stored. Thread-safe. Everything passed by
// reference must outlive it.
class ExecutionServiceImpl final : public ExecutionService {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix ms

  ExecutionServiceImpl(std::shared_ptr<ExecutionStore> store, SubmitQueue& queue, EventHub& hub,
                       EventPublisher& publisher, const RuntimeCatalog& catalog,
                       const std::vector<RuntimeAvailability>& availability,
                       const ServiceOptions& options, Clock now_ms);

  Result<SubmitOutcome> Submit(const Caller& caller, SubmitRequest request) override;
  Result<Execution> Get(const Caller& caller, std::string_view id) override;
  Result<Execution> SetShared(const Caller& caller, std::string_view id, bool shared) override;
  Result<ExecutionPage> List(const Caller& caller, ExecutionQuery query, bool all_users) override;
  Result<Execution> Cancel(const Caller& caller, std::string_view id) override;
  Result<SubmitOutcome> Retry(const Caller& caller, std::string_view id) override;
  Status Delete(const Caller& caller, std::string_view id) override;
  Result<std::unique_ptr<Subscription>> Subscribe(const Caller& caller, std::string_view id,
                                                  std::uint64_t after_seq,
                                                  EventCallback callback) override;
  QueueStats Stats() override;
  Result<std::map<ExecutionStatus, std::size_t>> CountByStatus(const Caller& caller) override;
  const RuntimeCatalog& Catalog() const override { return catalog_; }
  const std::vector<RuntimeAvailability>& Availability() const override { return availability_; }
  const Limits& DefaultLimits() const override { return default_limits_; }
  const Limits& MaximumLimits() const override { return maximum_limits_; }

 private:
  // The stored execution if the caller may manage it (own, anonymous, or admin); being
  // shared with the caller is not enough.
  Result<Execution> GetManaged(const Caller& caller, std::string_view id);
  Result<SubmitOutcome> SubmitNew(const Caller& caller, SubmitRequest request,
                                  std::optional<std::string> retry_of);
  Result<const Runtime*> CheckRuntime(std::string_view language, std::string_view version) const;
  Result<Limits> CheckLimits(const LimitOverrides& overrides) const;
  Result<std::optional<SubmitOutcome>> FindIdempotent(const std::string& owner_key,
                                                      const std::string& key,
                                                      const std::string& request_hash);

  std::shared_ptr<ExecutionStore> store_;
  SubmitQueue& queue_;
  EventHub& hub_;
  EventPublisher& publisher_;
  const RuntimeCatalog& catalog_;
  const std::vector<RuntimeAvailability>& availability_;
  const Limits default_limits_;
  const Limits maximum_limits_;
  const std::size_t max_script_bytes_;
  const std::size_t max_stdin_bytes_;
  const QuotaOptions quotas_;
  const RetentionPolicy retention_;
  const Clock now_ms_;
};

}  // namespace integr8scode
