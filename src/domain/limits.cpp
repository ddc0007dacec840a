#include "domain/limits.hpp"

#include <fmt/format.h>

#include "common/try.hpp"
#include "common/units.hpp"

namespace integr8scode {
namespace {

template <class T, class Format>
Status CheckField(std::string_view name, T value, T minimum, T maximum, Format format) {
  if (value > maximum) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} {} is above the maximum {}", name, format(value), format(maximum)));
  }
  if (value < minimum) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} {} is below the minimum {}", name, format(value), format(minimum)));
  }
  return {};
}

const auto kBytes = [](std::uint64_t v) { return FormatByteSize(v); };
const auto kCount = [](std::uint64_t v) { return fmt::format("{}", v); };
const auto kMillicores = [](std::uint64_t v) { return fmt::format("{}m", v); };
const auto kTime = [](std::chrono::milliseconds v) { return FormatDuration(v); };

}  // namespace

bool LimitOverrides::Empty() const {
  return !memory_bytes && !cpu_millicores && !timeout && !pids && !output_bytes && !tmpfs_bytes &&
         !file_size_bytes && !open_files;
}

Limits MergeLimits(const Limits& base, const LimitOverrides& o) {
  Limits out = base;
  if (o.memory_bytes) out.memory_bytes = *o.memory_bytes;
  if (o.cpu_millicores) out.cpu_millicores = *o.cpu_millicores;
  if (o.timeout) out.timeout = *o.timeout;
  if (o.pids) out.pids = *o.pids;
  if (o.output_bytes) out.output_bytes = *o.output_bytes;
  if (o.tmpfs_bytes) out.tmpfs_bytes = *o.tmpfs_bytes;
  if (o.file_size_bytes) out.file_size_bytes = *o.file_size_bytes;
  if (o.open_files) out.open_files = *o.open_files;
  return out;
}

Status CheckWithin(const Limits& l, const Limits& max) {
  const Limits& min = kMinimumLimits;
  I8C_TRY(CheckField("memory limit", l.memory_bytes, min.memory_bytes, max.memory_bytes, kBytes));
  I8C_TRY(CheckField<std::uint64_t>("CPU limit", l.cpu_millicores, min.cpu_millicores,
                                    max.cpu_millicores, kMillicores));
  I8C_TRY(CheckField("timeout", l.timeout, min.timeout, max.timeout, kTime));
  I8C_TRY(CheckField<std::uint64_t>("process limit", l.pids, min.pids, max.pids, kCount));
  I8C_TRY(CheckField("output limit", l.output_bytes, min.output_bytes, max.output_bytes, kBytes));
  I8C_TRY(CheckField("disk limit", l.tmpfs_bytes, min.tmpfs_bytes, max.tmpfs_bytes, kBytes));
  I8C_TRY(CheckField("file size limit", l.file_size_bytes, min.file_size_bytes, max.file_size_bytes,
                     kBytes));
  I8C_TRY(CheckField<std::uint64_t>("open files limit", l.open_files, min.open_files,
                                    max.open_files, kCount));
  return {};
}

Result<Limits> ApplyOverrides(const Limits& base, const LimitOverrides& overrides,
                              const Limits& maximum) {
  Limits merged = MergeLimits(base, overrides);
  I8C_TRY(CheckWithin(merged, maximum));
  return merged;
}

}  // namespace integr8scode
