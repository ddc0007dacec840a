#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "domain/runtime.hpp"
#include "domain/stores.hpp"
#include "service/script_service.hpp"
#include "service/storage_quota.hpp"

namespace integr8scode {

// ScriptService over the ScriptStore. Every store call is scoped by the caller's user id,
// so another user's script is indistinguishable from a missing one. Thread-safe; the
// catalog must outlive it.
class ScriptServiceImpl final : public ScriptService {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix ms

  ScriptServiceImpl(std::shared_ptr<ScriptStore> store, const RuntimeCatalog& catalog,
                    std::size_t max_script_bytes, QuotaOptions quotas, Clock now_ms);

  Result<std::vector<Script>> List(const Caller& caller) override;
  Result<Script> Create(const Caller& caller, ScriptDraft draft) override;
  Result<Script> Get(const Caller& caller, std::string_view id) override;
  Result<Script> Update(const Caller& caller, std::string_view id, ScriptDraft draft) override;
  Status Delete(const Caller& caller, std::string_view id) override;

 private:
  Status Validate(const ScriptDraft& draft) const;

  std::shared_ptr<ScriptStore> store_;
  const RuntimeCatalog& catalog_;
  const std::size_t max_script_bytes_;
  const QuotaOptions quotas_;
  const Clock now_ms_;
};

}  // namespace integr8scode
