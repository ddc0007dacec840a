#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace integr8scode {

enum class Role { kUser, kAdmin };
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct User {
  std::int64_t id = 0;
  std::string username;
  std::string email;
  std::string password_hash;  // Argon2id string as produced by libsodium
  Role role = Role::kUser;
  int failed_logins = 0;
  std::optional<std::int64_t> locked_until_ms;
  std::int64_t created_at_ms = 0;

  friend bool operator==(const User&, const User&) = default;
};

// A user's saved script.
struct Script {
  std::string id;  // random (UUID v4 text)
  std::int64_t owner_id = 0;
  std::string name;
  std::string language;
  std::string version;
  std::string content;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;

  friend bool operator==(const Script&, const Script&) = default;
};

}  // namespace integr8scode
