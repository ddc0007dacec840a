#include "common/units.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace integr8scode {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "12.5MiB" into 12.5 and "mib". Rejects signs, exponents and empty numbers.
bool SplitNumber(std::string_view text, double& number, std::string& suffix) {
  text = Trim(text);
  std::size_t end = 0;
  bool seen_digit = false;
  bool seen_dot = false;
  while (end < text.size()) {
    const char c = text[end];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
    ++end;
  }
  if (!seen_digit) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, number);
  if (ec != std::errc() || ptr != text.data() + end || !std::isfinite(number)) return false;
  suffix = Lower(Trim(text.substr(end)));
  return true;
}

}  // namespace

Result<std::uint64_t> ParseByteSize(std::string_view text) {
  double number = 0;
  std::string suffix;
  const auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not a size; use a number of bytes or a suffix K, M, G "
                            "(e.g. 128M, 64MiB, 1G)",
                            text));
  };
  if (!SplitNumber(text, number, suffix)) return bad();
  double scale = 0;
  if (suffix.empty() || suffix == "b") {
    scale = 1;
  } else if (suffix == "k" || suffix == "kb" || suffix == "ki" || suffix == "kib") {
    scale = 1024.0;
  } else if (suffix == "m" || suffix == "mb" || suffix == "mi" || suffix == "mib") {
    scale = 1024.0 * 1024;
  } else if (suffix == "g" || suffix == "gb" || suffix == "gi" || suffix == "gib") {
    scale = 1024.0 * 1024 * 1024;
  } else if (suffix == "t" || suffix == "tb" || suffix == "ti" || suffix == "tib") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return bad();
  }
  const double bytes = std::round(number * scale);
  if (bytes >= 18446744073709551615.0) return bad();
  return static_cast<std::uint64_t>(bytes);
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  double number = 0;
  std::string suffix;
  const auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not a duration; use e.g. 5s, 500ms or 2m", text));
  };
  if (!SplitNumber(text, number, suffix)) return bad();
  double ms = 0;
  if (suffix.empty() || suffix == "s" || suffix == "sec") {
    ms = number * 1000;
  } else if (suffix == "ms") {
    ms = number;
  } else if (suffix == "m" || suffix == "min") {
    ms = number * 60'000;
  } else if (suffix == "h") {
    ms = number * 3'600'000;
  } else {
    return bad();
  }
  if (ms > 1e15) return bad();
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

Result<std::uint32_t> ParseCpu(std::string_view text) {
  double number = 0;
  std::string suffix;
  if (!SplitNumber(text, number, suffix) || (!suffix.empty() && suffix != "m")) {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("'{}' is not a CPU amount; use cores (1, 0.5) or millicores (100m)", text));
  }
  const double millicores = suffix == "m" ? number : number * 1000;
  if (millicores < 1 || millicores > 1'000'000) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("CPU amount '{}' is out of range (1m to 1000 cores)", text));
  }
  return static_cast<std::uint32_t>(std::llround(millicores));
}

std::string FormatByteSize(std::uint64_t bytes) {
  constexpr std::uint64_t kKiB = 1024;
  if (bytes >= kKiB * kKiB * kKiB && bytes % (kKiB * kKiB * kKiB) == 0) {
    return fmt::format("{} GiB", bytes / (kKiB * kKiB * kKiB));
  }
  if (bytes >= kKiB * kKiB && bytes % (kKiB * kKiB) == 0)
    return fmt::format("{} MiB", bytes / (kKiB * kKiB));
  if (bytes >= kKiB && bytes % kKiB == 0) return fmt::format("{} KiB", bytes / kKiB);
  if (bytes >= kKiB * kKiB)
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (kKiB * kKiB));
  return fmt::format("{} B", bytes);
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  if (ms % 1000 == 0) return fmt::format("{} s", ms / 1000);
  return fmt::format("{} ms", ms);
}

}  // namespace integr8scode
