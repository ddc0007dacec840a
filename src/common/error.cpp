#include "common/error.hpp"

#include <cerrno>
#include <cstring>

namespace integr8scode {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kLocked:
      return "locked";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

Error&& Error::WithContext(std::string_view context) && {
  message.insert(0, std::string(context) + ": ");
  return std::move(*this);
}

std::string Error::Describe() const {
  if (sys_errno == 0) return message;
  return message + ": " + std::strerror(sys_errno);
}

Error MakeError(ErrorCode code, std::string message) {
  return Error{code, 0, std::move(message), {}, {}};
}

Error MakeError(ErrorCode code, std::string reason, std::string message) {
  return Error{code, 0, std::move(message), std::move(reason), {}};
}

Error SystemError(const char* what) {
  const int saved = errno;
  return SystemError(saved, std::string(what));
}

Error SystemError(int saved_errno, std::string message) {
  return Error{ErrorCode::kInternal, saved_errno, std::move(message), {}, {}};
}

}  // namespace integr8scode
