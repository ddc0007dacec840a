#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

// The limits one run is held to. Every field is enforced by the sandbox.
struct Limits {
  std::uint64_t memory_bytes = 128ull << 20;    // cgroup memory, no swap
  std::uint32_t cpu_millicores = 1000;          // CPU quota: 1000 = one core
  std::chrono::milliseconds timeout{5000};      // wall clock
  std::uint32_t pids = 64;                      // processes + threads
  std::uint64_t output_bytes = 1ull << 20;      // per stream (stdout, stderr)
  std::uint64_t tmpfs_bytes = 64ull << 20;      // writable working directory + /tmp
  std::uint64_t file_size_bytes = 32ull << 20;  // largest file written (RLIMIT_FSIZE)
  std::uint32_t open_files = 256;               // RLIMIT_NOFILE

  friend bool operator==(const Limits&, const Limits&) = default;
};

// A request to change some limits; unset fields keep the base value.
struct LimitOverrides {
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint32_t> cpu_millicores;
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::uint32_t> pids;
  std::optional<std::uint64_t> output_bytes;
  std::optional<std::uint64_t> tmpfs_bytes;
  std::optional<std::uint64_t> file_size_bytes;
  std::optional<std::uint32_t> open_files;

  bool Empty() const;
};

// Smallest values a run can work with; below them a runtime cannot even start.
inline constexpr Limits kMinimumLimits{
    .memory_bytes = 8ull << 20,
    .cpu_millicores = 10,
    .timeout = std::chrono::milliseconds(100),
    .pids = 1,
    .output_bytes = 1,
    .tmpfs_bytes = 1ull << 20,
    .file_size_bytes = 1,
    .open_files = 16,
};

// The most a request may ask for unless the configuration says otherwise
// ([limits.maximum], docs/operations.md): the configuration and the services both start
// from this one value.
inline constexpr Limits kDefaultMaximumLimits{
    .memory_bytes = 512ull << 20,
    .cpu_millicores = 2000,
    .timeout = std::chrono::milliseconds(30'000),
    .pids = 256,
    .output_bytes = 8ull << 20,
    .tmpfs_bytes = 256ull << 20,
    .file_size_bytes = 128ull << 20,
    .open_files = 1024,
};

// `base` with `overrides` applied, each field checked against `maximum` and
// kMinimumLimits. Fails with kInvalidArgument naming the field, the value asked
// and the allowed range, e.g. "memory limit 4 GiB is above the maximum 512 MiB".
Result<Limits> ApplyOverrides(const Limits& base, const LimitOverrides& overrides,
                              const Limits& maximum);
// Overrides applied without a maximum check (for a runtime's own compile limits).
Limits MergeLimits(const Limits& base, const LimitOverrides& overrides);
// Fails when `limits` exceeds `maximum` in any field.
Status CheckWithin(const Limits& limits, const Limits& maximum);

}  // namespace integr8scode
