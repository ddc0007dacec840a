#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace integr8scode {

// Returns `bytes` as valid UTF-8: each maximal invalid subsequence becomes U+FFFD
// (the "substitution of maximal subparts" practice of Unicode §3.9).
std::string SanitizeUtf8(std::string_view bytes);

bool IsValidUtf8(std::string_view bytes);

// Length of the longest prefix of `bytes` that does not end inside a multi-byte
// sequence which could still be completed by later bytes. Streams cut chunks there
// so that a character split across two reads is not turned into two U+FFFD.
std::size_t CompleteUtf8Prefix(std::string_view bytes);

}  // namespace integr8scode
