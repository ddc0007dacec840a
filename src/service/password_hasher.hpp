#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

// Argon2id cost (libsodium crypto_pwhash). The values are libsodium's own presets;
// password_hasher.cpp checks them against the library's constants at compile time.
struct PasswordHashCost {
  std::uint64_t ops_limit = 2;
  std::size_t mem_limit = 64ull << 20;

  static constexpr PasswordHashCost Interactive() { return {2, 64ull << 20}; }
  static constexpr PasswordHashCost Moderate() { return {3, 256ull << 20}; }
  // Weakest allowed; for tests only, where hashing speed matters more than strength.
  static constexpr PasswordHashCost Min() { return {1, 8192}; }

  friend bool operator==(const PasswordHashCost&, const PasswordHashCost&) = default;
};

// Argon2id password hashing (libsodium crypto_pwhash_str): each hash carries its own
// random salt and cost, so two hashes of one password differ and both verify.
// Thread-safe. Hash and Verify are slow on purpose (the cost); EnsureSodium first.
class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordHashCost cost) : cost_(cost) {}

  // kInternal when the memory for the cost cannot be had.
  Result<std::string> Hash(std::string_view password) const;
  bool Verify(std::string_view hash, std::string_view password) const;
  // True when `hash` was made with another cost than this hasher's (rehash at login).
  bool NeedsRehash(std::string_view hash) const;

 private:
  PasswordHashCost cost_;
};

}  // namespace integr8scode
