#include "load/load_settings.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

TEST(ParseProfiles, TheOriginalsFiveProfilesInOrder) {
  auto profiles = ParseProfiles("smoke,light,medium,heavy,stress", FollowMode::kPoll);
  ASSERT_TRUE(profiles) << profiles.error().message;
  ASSERT_EQ(profiles->size(), 5u);
  const std::size_t users[] = {1, 10, 50, 100, 200};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*profiles)[i].users, users[i]);
    EXPECT_EQ((*profiles)[i].mode, FollowMode::kPoll);
  }
  EXPECT_EQ((*profiles)[4].name, "stress");
}

TEST(ParseProfiles, UserCountsAndSpacesAndTheMode) {
  auto profiles = ParseProfiles(" stress , 25 ", FollowMode::kWait);
  ASSERT_TRUE(profiles) << profiles.error().message;
  ASSERT_EQ(profiles->size(), 2u);
  EXPECT_EQ((*profiles)[1].users, 25u);
  EXPECT_EQ((*profiles)[1].name, "25-users");
  EXPECT_EQ((*profiles)[0].mode, FollowMode::kWait);
}

TEST(ParseProfiles, RefusesUnknownNamesZeroUsersAndNothing) {
  EXPECT_FALSE(ParseProfiles("smoke,huge", FollowMode::kPoll));
  EXPECT_FALSE(ParseProfiles("0", FollowMode::kPoll));
  EXPECT_FALSE(ParseProfiles("", FollowMode::kPoll));
  EXPECT_FALSE(ParseProfiles(",", FollowMode::kPoll));
  EXPECT_FALSE(ParseProfiles("-3", FollowMode::kPoll));
}

TEST(ParseLoopbackUrl, AcceptsLoopbackAddresses) {
  auto v4 = ParseLoopbackUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->address, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_EQ(v4->host_header, "127.0.0.1:8080");

  auto name = ParseLoopbackUrl("http://localhost:9000/");
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(name->address, "127.0.0.1");
  EXPECT_EQ(name->host_header, "localhost:9000");

  auto v6 = ParseLoopbackUrl("http://[::1]:81");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->address, "::1");
  EXPECT_EQ(v6->host_header, "[::1]:81");
}

TEST(ParseLoopbackUrl, RefusesOtherHostsSchemesPathsAndPorts) {
  for (const char* url :
       {"http://10.0.0.1:8080", "http://example.com:80", "http://0.0.0.0:8080",
        "https://127.0.0.1:8443", "127.0.0.1:8080", "http://127.0.0.1:8080/api/v1",
        "http://127.0.0.1", "http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:80x",
        "http://[::1]8080", "http://[fe80::1]:8080"}) {
    auto endpoint = ParseLoopbackUrl(url);
    EXPECT_FALSE(endpoint) << url;
    if (!endpoint) {
      EXPECT_EQ(endpoint.error().code, ErrorCode::kInvalidArgument) << url;
    }
  }
}

}  // namespace
}  // namespace integr8scode
