#include "service/script_service_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/try.hpp"
#include "common/units.hpp"
#include "common/utf8.hpp"
#include "service/account_rules.hpp"
#include "service/crypto.hpp"

namespace integr8scode {
namespace {

constexpr std::size_t kMaxNameCharacters = 100;

Error FieldError(ErrorCode code, std::string reason, std::string field, std::string message) {
  Error error = MakeError(code, std::move(reason), std::move(message));
  error.field = std::move(field);
  return error;
}

Status RequireUser(const Caller& caller) {
  if (caller.Authenticated()) return {};
  return Fail(
      MakeError(ErrorCode::kUnauthenticated, "unauthenticated", "log in to use saved scripts"));
}

bool OnlyWhitespace(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

ScriptServiceImpl::ScriptServiceImpl(std::shared_ptr<ScriptStore> store,
                                     const RuntimeCatalog& catalog, std::size_t max_script_bytes,
                                     QuotaOptions quotas, Clock now_ms)
    : store_(std::move(store)),
      catalog_(catalog),
      max_script_bytes_(max_script_bytes),
      quotas_(quotas),
      now_ms_(std::move(now_ms)) {}

Status ScriptServiceImpl::Validate(const ScriptDraft& draft) const {
  if (!IsValidUtf8(draft.name) || OnlyWhitespace(draft.name) ||
      CountCodePoints(draft.name) > kMaxNameCharacters) {
    return Fail(FieldError(
        ErrorCode::kInvalidArgument, "invalid_field", "name",
        fmt::format("name must be 1 to {} characters, not only spaces", kMaxNameCharacters)));
  }
  if (auto runtime = catalog_.Find(draft.language, draft.version); !runtime) {
    const bool language_known =
        std::any_of(catalog_.All().begin(), catalog_.All().end(),
                    [&](const Runtime& r) { return r.language == draft.language; });
    return Fail(FieldError(ErrorCode::kNotFound, "unknown_runtime",
                           language_known ? "lang_version" : "lang", runtime.error().message));
  }
  if (draft.content.size() > max_script_bytes_) {
    return Fail(FieldError(
        ErrorCode::kTooLarge, "payload_too_large", "script",
        fmt::format("script is {}; the limit is {}", FormatByteSize(draft.content.size()),
                    FormatByteSize(max_script_bytes_))));
  }
  return {};
}

Result<std::vector<Script>> ScriptServiceImpl::List(const Caller& caller) {
  I8C_TRY(RequireUser(caller));
  return store_->List(*caller.user_id);
}

Result<Script> ScriptServiceImpl::Create(const Caller& caller, ScriptDraft draft) {
  I8C_TRY(RequireUser(caller));
  I8C_TRY(Validate(draft));
  I8C_TRY(CheckScriptQuota(*store_, *caller.user_id, draft.content.size(), std::nullopt, quotas_));
  Script script;
  script.id = NewUuidV4();
  script.owner_id = *caller.user_id;
  script.name = std::move(draft.name);
  script.language = std::move(draft.language);
  script.version = std::move(draft.version);
  script.content = std::move(draft.content);
  script.created_at_ms = now_ms_();
  script.updated_at_ms = script.created_at_ms;
  I8C_TRY(store_->Insert(script));
  return script;
}

Result<Script> ScriptServiceImpl::Get(const Caller& caller, std::string_view id) {
  I8C_TRY(RequireUser(caller));
  return store_->Get(*caller.user_id, id);
}

Result<Script> ScriptServiceImpl::Update(const Caller& caller, std::string_view id,
                                         ScriptDraft draft) {
  I8C_TRY(RequireUser(caller));
  Script script = I8C_TRY_VALUE(store_->Get(*caller.user_id, id));
  I8C_TRY(Validate(draft));
  I8C_TRY(CheckScriptQuota(*store_, *caller.user_id, draft.content.size(), script.content.size(),
                           quotas_));
  script.name = std::move(draft.name);
  script.language = std::move(draft.language);
  script.version = std::move(draft.version);
  script.content = std::move(draft.content);
  script.updated_at_ms = now_ms_();
  I8C_TRY(store_->Update(script));
  return script;
}

Status ScriptServiceImpl::Delete(const Caller& caller, std::string_view id) {
  I8C_TRY(RequireUser(caller));
  return store_->Delete(*caller.user_id, id);
}

}  // namespace integr8scode
