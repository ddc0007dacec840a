#pragma once

#include <filesystem>

#include "common/error.hpp"

namespace integr8scode {

// What only this server's user may read: the data directory (0700), the database and the
// secrets in it (0600). Each function checks on every call, whatever the umask, and
// tightens what allows the group or others anything (with a warning naming the path).
// Each fails with kUnavailable and a sentence saying what to do when the path cannot be
// made private: not a directory / regular file, owned by another user, or chmod refused.

// Creates `dir` (mode 0700; missing parents as the umask makes them) when missing.
// A symlink to a directory is followed: the operator named it.
Status EnsurePrivateDirectory(const std::filesystem::path& dir);

// Tightens an existing regular file (a symlink is refused). Missing: nothing to do.
Status EnsurePrivateFile(const std::filesystem::path& path);

// Creates the file (empty, mode 0600) when missing, then as EnsurePrivateFile.
Status CreatePrivateFile(const std::filesystem::path& path);

}  // namespace integr8scode
