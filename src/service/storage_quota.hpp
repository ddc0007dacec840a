#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/error.hpp"
#include "domain/stores.hpp"
#include "service/caller.hpp"

namespace integr8scode {

// How much one owner may keep in the store (docs/operations.md, Quotas): without caps a
// few hundred bytes of requests grow the database by megabytes of output each. 0: no cap.
struct QuotaOptions {
  std::size_t executions_per_user = 10000;
  std::uint64_t execution_bytes_per_user = 1ull << 30;
  // Anonymous runs, per client address.
  std::size_t executions_per_address = 1000;
  std::uint64_t execution_bytes_per_address = 256ull << 20;
  std::size_t scripts_per_user = 1000;
  std::uint64_t script_bytes_per_user = 64ull << 20;

  friend bool operator==(const QuotaOptions&, const QuotaOptions&) = default;
};

// What frees an owner's space, for the refusal's sentence: finished executions are
// deleted after `retention` (0: never), anonymous ones after `anonymous_retention`.
struct RetentionPolicy {
  std::chrono::milliseconds retention{0};
  std::chrono::milliseconds anonymous_retention{0};
};

// Checks are made before a write and are not atomic with it: concurrent requests of one
// owner may pass together (and a run's output is only known once it ends), so an owner
// can exceed a cap by what its requests in flight add. Refusals are kPermissionDenied,
// reason "quota_exceeded", with what is stored, the cap and how to free space; store
// errors as they come.

// Before storing an execution of `adding_bytes` (script + stdin) for `caller`.
Status CheckExecutionQuota(ExecutionStore& store, const Caller& caller, std::uint64_t adding_bytes,
                           const QuotaOptions& quotas, const RetentionPolicy& retention);

// Before saving a script of `new_bytes` for `owner_id`: a new one when `replaced_bytes`
// is empty, else in place of one of that size.
Status CheckScriptQuota(ScriptStore& store, std::int64_t owner_id, std::uint64_t new_bytes,
                        std::optional<std::uint64_t> replaced_bytes, const QuotaOptions& quotas);

}  // namespace integr8scode
