#include "api/json_request.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace integr8scode {
namespace {

TEST(JsonRequest, InvalidUtf8IsReportedBeforeSyntax) {
  auto parsed = ParseJsonObject("{\"script\": \"\xff\xfe\"}");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().reason, "invalid_utf8");
}

TEST(JsonRequest, MalformedJsonSaysWhere) {
  for (const char* body : {"{\"a\": ", "not json", "", "{\"a\": 1} trailing", "{'a': 1}"}) {
    auto parsed = ParseJsonObject(body);
    ASSERT_FALSE(parsed.has_value()) << body;
    EXPECT_EQ(parsed.error().reason, "malformed_json") << body;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_NE(ParseJsonObject("{\"a\": ").error().message.find("byte"), std::string::npos);
}

TEST(JsonRequest, BodyMustBeAnObject) {
  auto parsed = ParseJsonObject("[1, 2]");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_TRUE(parsed.error().reason.empty());  // a 422, not a 400
  EXPECT_NE(parsed.error().message.find("an array"), std::string::npos);
}

TEST(JsonRequest, DuplicateKeysAreRefusedNamingThePath) {
  auto top = ParseJsonObject(R"j({"script": "print(1)", "lang": "python", "script": "evil"})j");
  ASSERT_FALSE(top.has_value());
  EXPECT_EQ(top.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(top.error().reason.empty());  // a 422 naming the field
  EXPECT_EQ(top.error().field, "script");
  auto nested = ParseJsonObject(R"j({"limits": {"pids": 1, "pids": 2}})j");
  ASSERT_FALSE(nested.has_value());
  EXPECT_EQ(nested.error().field, "limits.pids");
  // An escaped spelling of the same name is the same name.
  auto escaped = ParseJsonObject(R"j({"lang": "a", "l\u0061ng": "b"})j");
  ASSERT_FALSE(escaped.has_value());
  EXPECT_EQ(escaped.error().field, "lang");
  // The same name in two different objects is fine.
  EXPECT_TRUE(ParseJsonObject(R"j({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]})j"));
}

TEST(JsonFields, AHugeUnknownKeyIsNotEchoedWhole) {
  const std::string key(100000, 'k');
  auto object = ParseJsonObject("{\"" + key + "\": 1}");
  ASSERT_TRUE(object.has_value());
  JsonFields fields(*object);
  ASSERT_TRUE(fields.OptionalString("script").has_value());
  const Status finished = fields.Finish();
  ASSERT_FALSE(finished.has_value());
  EXPECT_LT(finished.error().message.size(), 300u) << finished.error().message.substr(0, 300);
  EXPECT_NE(finished.error().message.find("…"), std::string::npos);
}

TEST(JsonFields, RequiredStringsAndTheirErrorsNameTheField) {
  auto object = ParseJsonObject(R"j({"lang": 3, "script": "print(1)"})j");
  ASSERT_TRUE(object.has_value());
  JsonFields fields(*object);
  auto script = fields.RequiredString("script");
  ASSERT_TRUE(script.has_value());
  EXPECT_EQ(*script, "print(1)");
  auto lang = fields.RequiredString("lang");
  ASSERT_FALSE(lang.has_value());
  EXPECT_EQ(lang.error().field, "lang");
  EXPECT_EQ(lang.error().message, "field 'lang' must be a string, not a number");
  auto version = fields.RequiredString("lang_version");
  ASSERT_FALSE(version.has_value());
  EXPECT_EQ(version.error().field, "lang_version");
  EXPECT_EQ(version.error().message, "field 'lang_version' is required");
}

TEST(JsonFields, NullIsAbsentForOptionalFields) {
  auto object = ParseJsonObject(R"({"stdin": null, "limits": null})");
  ASSERT_TRUE(object.has_value());
  JsonFields fields(*object);
  auto stdin_data = fields.OptionalString("stdin");
  ASSERT_TRUE(stdin_data.has_value());
  EXPECT_FALSE(stdin_data->has_value());
  auto limits = fields.OptionalObject("limits");
  ASSERT_TRUE(limits.has_value());
  EXPECT_EQ(*limits, nullptr);
  EXPECT_TRUE(fields.Finish().has_value());
}

TEST(JsonFields, UnknownFieldsAreRefusedWithTheirPath) {
  auto object = ParseJsonObject(R"({"limits": {"memory_bytes": 1, "memroy": 2}})");
  ASSERT_TRUE(object.has_value());
  JsonFields fields(*object);
  auto limits = fields.OptionalObject("limits");
  ASSERT_TRUE(limits.has_value());
  ASSERT_NE(*limits, nullptr);
  JsonFields nested(**limits, fields.Path("limits"));
  ASSERT_TRUE(nested.OptionalUnsigned("memory_bytes", 100).has_value());
  auto finish = nested.Finish();
  ASSERT_FALSE(finish.has_value());
  EXPECT_EQ(finish.error().field, "limits.memroy");
  EXPECT_NE(finish.error().message.find("unknown field 'limits.memroy'"), std::string::npos);
  EXPECT_NE(finish.error().message.find("memory_bytes"), std::string::npos);
}

TEST(JsonFields, UnsignedNumbersAreCheckedForSignFractionAndRange) {
  auto object = ParseJsonObject(
      R"({"a": 12.0, "b": -1, "c": 1.5, "d": 1000, "e": "12", "f": 18446744073709551615})");
  ASSERT_TRUE(object.has_value());
  JsonFields fields(*object);
  auto a = fields.OptionalUnsigned("a", 100);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(**a, 12u);
  for (const char* name : {"b", "c", "d", "e"}) {
    auto value = fields.OptionalUnsigned(name, 100);
    ASSERT_FALSE(value.has_value()) << name;
    EXPECT_EQ(value.error().field, name);
  }
  auto f = fields.OptionalUnsigned("f", std::numeric_limits<std::uint64_t>::max());
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(**f, std::numeric_limits<std::uint64_t>::max());
  auto missing = fields.OptionalUnsigned("g", 1);
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

}  // namespace
}  // namespace integr8scode
