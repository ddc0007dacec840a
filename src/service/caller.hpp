#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/user.hpp"

namespace integr8scode {

// Who is asking, as established by the API's auth middleware. Plain value.
struct Caller {
  std::optional<std::int64_t> user_id;  // empty: anonymous
  Role role = Role::kUser;
  std::string ip;  // client address, for anonymous owner keys

  bool Authenticated() const { return user_id.has_value(); }
  bool IsAdmin() const { return Authenticated() && role == Role::kAdmin; }
  // Scope for fairness and idempotency: "user:7" or "ip:203.0.113.9".
  std::string OwnerKey() const { return user_id ? "user:" + std::to_string(*user_id) : "ip:" + ip; }
};

}  // namespace integr8scode
