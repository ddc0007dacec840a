#include "common/utf8.hpp"

#include <gtest/gtest.h>

#include "common/json_escape.hpp"

namespace integr8scode {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

TEST(SanitizeUtf8, KeepsValidText) {
  const std::string text = "hi \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \0 end";
  EXPECT_EQ(SanitizeUtf8(text), text);
  EXPECT_TRUE(IsValidUtf8(text));
}

TEST(SanitizeUtf8, ReplacesInvalidBytes) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            std::string("a") + std::string(kFffd) + "b");
  // Overlong encoding of '/', and a lone continuation byte.
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), std::string(kFffd) + std::string(kFffd));
  EXPECT_EQ(SanitizeUtf8("\x80"), std::string(kFffd));
  // A surrogate half encoded in UTF-8 is invalid.
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));
  // A truncated 3-byte sequence is one maximal subpart: one U+FFFD.
  EXPECT_EQ(SanitizeUtf8("\xE2\x82"
                         "x"),
            std::string(kFffd) + "x");
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xF5\xF8\xFE\xFF\xC3")));
}

TEST(CompleteUtf8Prefix, HoldsBackAnUnfinishedCharacter) {
  EXPECT_EQ(CompleteUtf8Prefix("abc"), 3u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xE2\x82"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xE2\x82\xAC"), 5u);
  EXPECT_EQ(CompleteUtf8Prefix("\xF0\x9F\x98"), 0u);
  // Bytes that can never complete are passed through (they become U+FFFD later).
  EXPECT_EQ(CompleteUtf8Prefix("ab\xFF"), 3u);
}

TEST(AppendJsonString, EscapesAndSanitizes) {
  std::string out;
  AppendJsonString(out, std::string("q\"\\\n\x01\xFF", 6));
  EXPECT_EQ(out, "\"q\\\"\\\\\\n\\u0001\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace integr8scode
