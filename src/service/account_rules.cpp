#include "service/account_rules.hpp"

#include "common/utf8.hpp"

namespace integr8scode {
namespace {

Error Invalid(std::string field, std::string message) {
  Error error = MakeError(ErrorCode::kInvalidArgument, "invalid_field", std::move(message));
  error.field = std::move(field);
  return error;
}

bool UsernameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

bool SameUsername(std::string_view a, std::string_view b) {
  const auto fold = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

std::size_t CountCodePoints(std::string_view utf8) {
  std::size_t count = 0;
  for (const char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

Status ValidateUsername(std::string_view username) {
  if (username.size() < 3 || username.size() > 32) {
    return Fail(Invalid("username", "username must be 3 to 32 characters long"));
  }
  for (const char c : username) {
    if (!UsernameChar(c)) {
      return Fail(
          Invalid("username", "username may contain only letters, digits, '_', '.' and '-'"));
    }
  }
  return {};
}

Status ValidateEmail(std::string_view email) {
  const char* kMessage = "email must look like name@example.org";
  if (email.empty() || email.size() > 254) {
    return Fail(Invalid("email", "email must be an address of at most 254 characters"));
  }
  for (const char c : email) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return Fail(Invalid("email", kMessage));
  }
  if (!IsValidUtf8(email)) return Fail(Invalid("email", kMessage));
  const std::size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos ||
      email.find('@', at + 1) != std::string_view::npos) {
    return Fail(Invalid("email", kMessage));
  }
  const std::string_view domain = email.substr(at + 1);
  const std::size_t dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') {
    return Fail(Invalid("email", kMessage));
  }
  return {};
}

Status ValidatePassword(std::string_view password) {
  if (!IsValidUtf8(password)) return Fail(Invalid("password", "password must be valid UTF-8 text"));
  const std::size_t length = CountCodePoints(password);
  if (length < 8 || length > 128) {
    return Fail(Invalid("password", "password must be 8 to 128 characters long"));
  }
  return {};
}

}  // namespace integr8scode
