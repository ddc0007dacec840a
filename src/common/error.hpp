#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace integr8scode {

// What kind of failure an Error is. The API maps each code to one HTTP status
// (api/problem.cpp); the CLI maps them to exit codes.
enum class ErrorCode {
  kInvalidArgument,    // the caller sent something wrong (400/422)
  kNotFound,           // no such thing, or not the caller's (404)
  kAlreadyExists,      // unique name taken (409)
  kConflict,           // state does not allow it, e.g. cancel a finished run (409)
  kUnauthenticated,    // no or bad credentials (401)
  kPermissionDenied,   // authenticated but not allowed (403)
  kLocked,             // account locked after failed logins (423)
  kTooLarge,           // body or field over its cap (413)
  kRateLimited,        // too many requests (429)
  kResourceExhausted,  // queue full, no capacity (503)
  kUnavailable,        // a dependency (store, sandbox) cannot be used now (503)
  kInternal,           // a bug or a platform failure (500)
};

std::string_view ErrorCodeName(ErrorCode code);

// An expected failure: a code, the errno saved where it happened (0 if none),
// and a message that grows context as the error travels up.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  int sys_errno = 0;
  std::string message;
  // Optional machine-readable refinement for API clients ("token_expired",
  // "unknown_runtime", "limit_exceeded"); the API falls back to the code's default.
  std::string reason;
  // The request field at fault, when there is one ("lang", "limits.memory_bytes").
  std::string field;

  // Prefixes the message with what the caller was doing: "mount /proc: ...".
  Error&& WithContext(std::string_view context) &&;
  std::string Describe() const;  // message plus strerror(sys_errno) when set
};

Error MakeError(ErrorCode code, std::string message);
Error MakeError(ErrorCode code, std::string reason, std::string message);
// Reads errno before anything can clobber it: `what` is a literal, so building the
// argument cannot allocate. With a formatted message, save errno first and use the
// two-argument form.
Error SystemError(const char* what);
Error SystemError(int saved_errno, std::string message);

// A value or the Error that stopped it. [[nodiscard]] on the type, so every function
// returning one is checked at its call sites: a dropped Result is a failure nobody hears
// about, and -Werror makes it a build error. Propagate it (common/try.hpp), handle it, or
// drop it on purpose with IgnoreResult. Otherwise exactly tl::expected<T, Error>.
template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;
  Result() = default;
  // Inherited constructors skip those taking the base itself ([over.match.funcs]).
  Result(const Base& other) : Base(other) {}        // NOLINT(google-explicit-constructor)
  Result(Base&& other) : Base(std::move(other)) {}  // NOLINT(google-explicit-constructor)
};
using Status = Result<void>;

// Drops a Result whose failure changes nothing for the caller. `why` is for the reader
// (and grep): it says why losing the error is correct here, e.g. "best-effort cleanup:
// the run has already failed".
template <class T>
constexpr void IgnoreResult(const Result<T>& /*result*/, std::string_view /*why*/) noexcept {}

inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }
inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(MakeError(code, std::move(message)));
}

}  // namespace integr8scode
