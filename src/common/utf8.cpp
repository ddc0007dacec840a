#include "common/utf8.hpp"

#include <cstdint>

namespace integr8scode {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid sequence starting at bytes[i], or 0 if invalid. Sets
// `truncated` when the bytes end in what is so far a valid prefix of a sequence.
std::size_t ValidSequenceLength(std::string_view bytes, std::size_t i, bool& truncated,
                                std::size_t& maximal_subpart) {
  truncated = false;
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(bytes[k]); };
  const std::uint8_t b0 = byte(i);
  maximal_subpart = 1;
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  std::uint8_t lo = 0x80;
  std::uint8_t hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= bytes.size()) {
      truncated = true;
      maximal_subpart = k;
      return 0;
    }
    const std::uint8_t b = byte(i + k);
    const std::uint8_t min = k == 1 ? lo : 0x80;
    const std::uint8_t max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      maximal_subpart = k;
      return 0;
    }
  }
  return length;
}

}  // namespace

std::string SanitizeUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    bool truncated = false;
    std::size_t subpart = 1;
    const std::size_t n = ValidSequenceLength(bytes, i, truncated, subpart);
    if (n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      out.append(kReplacement);
      i += subpart;
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    bool truncated = false;
    std::size_t subpart = 1;
    const std::size_t n = ValidSequenceLength(bytes, i, truncated, subpart);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::size_t CompleteUtf8Prefix(std::string_view bytes) {
  // A sequence is at most 4 bytes, so only the last 3 can be an unfinished start.
  const std::size_t start = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (std::size_t i = start; i < bytes.size(); ++i) {
    const auto b = static_cast<std::uint8_t>(bytes[i]);
    if (b < 0xC2 || b > 0xF4) continue;  // not a lead byte
    bool truncated = false;
    std::size_t subpart = 1;
    ValidSequenceLength(bytes, i, truncated, subpart);
    if (truncated) return i;
  }
  return bytes.size();
}

}  // namespace integr8scode
