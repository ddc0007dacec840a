#include "service/crypto.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace integr8scode {
namespace {

class CryptoTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(EnsureSodium()); }
};

TEST_F(CryptoTest, UuidsAreVersion4AndDistinct) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUuidV4();
    ASSERT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST_F(CryptoTest, Base64UrlRoundTripsWithoutPadding) {
  const std::string bytes("\xfb\xff\x00\x01?>", 6);
  const std::string text = Base64UrlEncode(bytes);
  EXPECT_EQ(text, "-_8AAT8-");
  auto back = Base64UrlDecode(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, bytes);
  EXPECT_EQ(Base64UrlEncode("a"), "YQ");
}

TEST_F(CryptoTest, Base64UrlRejectsPaddingAndForeignCharacters) {
  EXPECT_FALSE(Base64UrlDecode("YQ=="));
  EXPECT_FALSE(Base64UrlDecode("+/8A"));
  EXPECT_FALSE(Base64UrlDecode("YQ Y"));
  EXPECT_FALSE(Base64UrlDecode("Y"));  // not a whole byte
}

// RFC 4231, test case 2.
TEST_F(CryptoTest, HmacSha256MatchesTheRfcVector) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 4231, test case 6: a key longer than the block size is hashed first.
TEST_F(CryptoTest, HmacSha256AcceptsLongKeys) {
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_F(CryptoTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace integr8scode
