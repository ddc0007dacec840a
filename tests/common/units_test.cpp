#include "common/units.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

TEST(ParseByteSize, AcceptsBinarySuffixes) {
  EXPECT_EQ(ParseByteSize("128M").value(), 128ull << 20);
  EXPECT_EQ(ParseByteSize("128MiB").value(), 128ull << 20);
  EXPECT_EQ(ParseByteSize("64k").value(), 64ull << 10);
  EXPECT_EQ(ParseByteSize("1G").value(), 1ull << 30);
  EXPECT_EQ(ParseByteSize("1.5K").value(), 1536u);
  EXPECT_EQ(ParseByteSize("1048576").value(), 1048576u);
  EXPECT_EQ(ParseByteSize(" 2 Mi ").value(), 2ull << 20);
}

TEST(ParseByteSize, RejectsMalformedWithAHint) {
  for (const char* bad : {"", "M", "-1M", "12Q", "1e3", "1..2M", "abc", "0x10"}) {
    auto result = ParseByteSize(bad);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(result.error().message.find("128M"), std::string::npos) << result.error().message;
  }
  EXPECT_FALSE(ParseByteSize("99999999999T").has_value());
}

TEST(ParseDuration, AcceptsCommonForms) {
  EXPECT_EQ(ParseDuration("5s").value().count(), 5000);
  EXPECT_EQ(ParseDuration("5").value().count(), 5000);
  EXPECT_EQ(ParseDuration("500ms").value().count(), 500);
  EXPECT_EQ(ParseDuration("1.5s").value().count(), 1500);
  EXPECT_EQ(ParseDuration("2m").value().count(), 120000);
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* bad : {"", "s", "5 parsecs", "-5s", "5ss"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(ParseCpu, CoresAndMillicores) {
  EXPECT_EQ(ParseCpu("1").value(), 1000u);
  EXPECT_EQ(ParseCpu("0.5").value(), 500u);
  EXPECT_EQ(ParseCpu("100m").value(), 100u);
  EXPECT_FALSE(ParseCpu("0").has_value());
  EXPECT_FALSE(ParseCpu("1x").has_value());
  EXPECT_FALSE(ParseCpu("").has_value());
}

TEST(FormatByteSize, ReadableUnits) {
  EXPECT_EQ(FormatByteSize(128ull << 20), "128 MiB");
  EXPECT_EQ(FormatByteSize(1ull << 30), "1 GiB");
  EXPECT_EQ(FormatByteSize(1536), "1536 B");
  EXPECT_EQ(FormatByteSize(2048), "2 KiB");
}

}  // namespace
}  // namespace integr8scode
