#include "api/resource_json.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace integr8scode {
namespace {

Execution Sample() {
  Execution execution;
  execution.id = "7d0e";
  execution.owner_id = 7;
  execution.language = "python";
  execution.version = "3.11";
  execution.script = "print('hi')";
  execution.created_at_ms = 1'795'800'001'123;
  return execution;
}

TEST(ResourceJson, QueuedExecutionHasNullResults) {
  const boost::json::object json = ExecutionToJson(Sample());
  EXPECT_EQ(json.at("execution_id"), "7d0e");
  EXPECT_EQ(json.at("status"), "queued");
  EXPECT_TRUE(json.at("exit_code").is_null());
  EXPECT_TRUE(json.at("signal").is_null());
  EXPECT_TRUE(json.at("resource_usage").is_null());
  EXPECT_TRUE(json.at("message").is_null());
  EXPECT_EQ(json.at("stdout"), "");
  EXPECT_TRUE(json.at("started_at").is_null());
  EXPECT_EQ(json.at("owner_id"), 7);
  EXPECT_EQ(json.at("created_at"), "2026-11-27T17:20:01.123Z");
  EXPECT_EQ(json.at("limits").at("memory_bytes"), 134217728);
}

TEST(ResourceJson, FinishedExecutionCarriesTheResult) {
  Execution execution = Sample();
  execution.status = ExecutionStatus::kFailed;
  execution.result.status = ExecutionStatus::kFailed;
  execution.result.signal = 9;
  execution.result.stdout_text = "out";
  execution.result.usage = {31, 24, 9617408};
  execution.attempts = 1;
  execution.retry_of = "abcd";
  execution.started_at_ms = execution.created_at_ms + 5;
  execution.finished_at_ms = execution.created_at_ms + 40;
  const boost::json::object json = ExecutionToJson(execution);
  EXPECT_EQ(json.at("status"), "failed");
  EXPECT_EQ(json.at("signal"), "SIGKILL");
  EXPECT_TRUE(json.at("exit_code").is_null());
  EXPECT_EQ(json.at("stdout"), "out");
  EXPECT_EQ(json.at("resource_usage").at("wall_time_ms"), 31);
  EXPECT_EQ(json.at("retry_of"), "abcd");
  EXPECT_EQ(json.at("finished_at"), "2026-11-27T17:20:01.163Z");
  EXPECT_EQ(json.begin()->key(), "execution_id");
}

TEST(ResourceJson, ListItemsCarryAPreviewInsteadOfTheTexts) {
  Execution execution = Sample();
  execution.status = ExecutionStatus::kCompleted;
  execution.result.status = ExecutionStatus::kCompleted;
  execution.stdin_data = "secret input";
  std::string long_output;
  for (int i = 0; i < 300; ++i) long_output += "é";  // two bytes each
  execution.result.stdout_text = long_output;
  const boost::json::object json = ExecutionToJson(execution, true);
  EXPECT_FALSE(json.contains("script"));
  EXPECT_FALSE(json.contains("stdin"));
  EXPECT_FALSE(json.contains("stdout"));
  EXPECT_FALSE(json.contains("stderr"));
  EXPECT_EQ(json.at("stdout_preview").as_string().size(), 400u);  // 200 characters, not 200 bytes
}

TEST(ResourceJson, Utf8PrefixNeverSplitsACharacter) {
  EXPECT_EQ(Utf8Prefix("aé€😀b", 4), "aé€😀");
  EXPECT_EQ(Utf8Prefix("abc", 10), "abc");
  EXPECT_EQ(Utf8Prefix("", 3), "");
}

TEST(ResourceJson, UsersAndScriptsHaveTheContractsFields) {
  User user;
  user.id = 3;
  user.username = "ada";
  user.email = "ada@example.com";
  user.password_hash = "$argon2id$secret";
  user.role = Role::kAdmin;
  const boost::json::object json = UserToJson(user);
  EXPECT_EQ(json.size(), 5u);
  EXPECT_EQ(json.at("role"), "admin");
  EXPECT_EQ(boost::json::serialize(json).find("argon2"), std::string::npos);

  Script script;
  script.id = "s1";
  script.name = "hello";
  script.language = "python";
  script.version = "3.11";
  script.content = "print(1)";
  const boost::json::object script_json = ScriptToJson(script);
  for (const char* key :
       {"id", "name", "lang", "lang_version", "script", "created_at", "updated_at"}) {
    EXPECT_TRUE(script_json.contains(key)) << key;
  }
}

}  // namespace
}  // namespace integr8scode
