#include "service/account_rules.hpp"

#include <gtest/gtest.h>

#include <string>

namespace integr8scode {
namespace {

void ExpectInvalid(const Status& status, std::string_view field) {
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(status.error().reason, "invalid_field");
  EXPECT_EQ(status.error().field, field);
  EXPECT_FALSE(status.error().message.empty());
}

TEST(AccountRulesTest, Usernames) {
  EXPECT_TRUE(ValidateUsername("ada"));
  EXPECT_TRUE(ValidateUsername("Ada.Lovelace-1815_x"));
  EXPECT_TRUE(ValidateUsername(std::string(32, 'a')));
  ExpectInvalid(ValidateUsername("ab"), "username");
  ExpectInvalid(ValidateUsername(std::string(33, 'a')), "username");
  ExpectInvalid(ValidateUsername("ada lovelace"), "username");
  ExpectInvalid(ValidateUsername("ada@home"), "username");
  ExpectInvalid(ValidateUsername("adé"), "username");
  ExpectInvalid(ValidateUsername(std::string("ad\0a", 4)), "username");
}

TEST(AccountRulesTest, Emails) {
  EXPECT_TRUE(ValidateEmail("ada@example.org"));
  EXPECT_TRUE(ValidateEmail("a.b+c@mail.example.co.uk"));
  ExpectInvalid(ValidateEmail(""), "email");
  ExpectInvalid(ValidateEmail("ada"), "email");
  ExpectInvalid(ValidateEmail("@example.org"), "email");
  ExpectInvalid(ValidateEmail("ada@localhost"), "email");
  ExpectInvalid(ValidateEmail("ada@.org"), "email");
  ExpectInvalid(ValidateEmail("ada@example."), "email");
  ExpectInvalid(ValidateEmail("a@b@example.org"), "email");
  ExpectInvalid(ValidateEmail("ada @example.org"), "email");
  ExpectInvalid(ValidateEmail("ada@example.org\n"), "email");
  ExpectInvalid(ValidateEmail(std::string(250, 'a') + "@b.co"), "email");
}

TEST(AccountRulesTest, PasswordsCountCharactersNotBytes) {
  EXPECT_TRUE(ValidatePassword("12345678"));
  EXPECT_TRUE(ValidatePassword(std::string(128, 'p')));
  ExpectInvalid(ValidatePassword("1234567"), "password");
  ExpectInvalid(ValidatePassword(std::string(129, 'p')), "password");
  // Seven characters of two bytes each: 14 bytes but too short.
  ExpectInvalid(ValidatePassword("ééééééé"), "password");
  EXPECT_TRUE(ValidatePassword("éééééééé"));
  // 100 four-byte characters: 400 bytes, within 128 characters.
  std::string emoji;
  for (int i = 0; i < 100; ++i) emoji += "\xF0\x9F\x94\x91";
  EXPECT_TRUE(ValidatePassword(emoji));
  ExpectInvalid(ValidatePassword("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"), "password");
}

}  // namespace
}  // namespace integr8scode
