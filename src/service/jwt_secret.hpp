#pragma once

#include <filesystem>
#include <string>

#include "common/error.hpp"

namespace integr8scode {

// Shortest accepted HS256 key (RFC 7518 §3.2: at least the hash size).
inline constexpr std::size_t kMinJwtSecretBytes = 32;

// The signing key kept in `<data_dir>/jwt_secret`: read when the file exists, else 32
// random bytes are written there (hex text, mode 0600) and returned. Creation is atomic
// and race-free: the key is written to a private temporary file and link(2)ed into
// place, so concurrent starts agree on one key and a crash never leaves half a key.
// A file readable by others is tightened to 0600 (with a warning). Creates `data_dir`
// (mode 0700) if missing, and makes it private if it is not (common/private_files.hpp). Fails with
// kUnavailable when the directory or file cannot be used, kInvalidArgument when the file holds
// fewer than kMinJwtSecretBytes bytes.
Result<std::string> LoadOrCreateJwtSecret(const std::filesystem::path& data_dir);

}  // namespace integr8scode
