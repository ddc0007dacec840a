#include "service/password_hasher.hpp"

#include <sodium.h>

namespace integr8scode {

static_assert(PasswordHashCost::Interactive().ops_limit == crypto_pwhash_OPSLIMIT_INTERACTIVE);
static_assert(PasswordHashCost::Interactive().mem_limit == crypto_pwhash_MEMLIMIT_INTERACTIVE);
static_assert(PasswordHashCost::Moderate().ops_limit == crypto_pwhash_OPSLIMIT_MODERATE);
static_assert(PasswordHashCost::Moderate().mem_limit == crypto_pwhash_MEMLIMIT_MODERATE);
static_assert(PasswordHashCost::Min().ops_limit == crypto_pwhash_OPSLIMIT_MIN);
static_assert(PasswordHashCost::Min().mem_limit == crypto_pwhash_MEMLIMIT_MIN);

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost_.ops_limit, cost_.mem_limit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(ErrorCode::kInternal, "password hashing ran out of memory");
  }
  return std::string(out);
}

bool PasswordHasher::Verify(std::string_view hash, std::string_view password) const {
  // crypto_pwhash_str_verify reads a NUL-terminated string of at most STRBYTES.
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(std::string_view hash) const {
  if (hash.size() >= crypto_pwhash_STRBYTES) return true;
  const std::string terminated(hash);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), cost_.ops_limit, cost_.mem_limit) != 0;
}

}  // namespace integr8scode
