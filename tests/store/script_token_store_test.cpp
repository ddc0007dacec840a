#include <gtest/gtest.h>

#include "store_fixture.hpp"

namespace integr8scode {
namespace {

class ScriptStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto ann = stores_.users->Create(MakeUser("ann"));
    auto bob = stores_.users->Create(MakeUser("bob"));
    ASSERT_TRUE(ann && bob);
    ann_ = ann->id;
    bob_ = bob->id;
  }

  ScriptStore& Scripts() { return *stores_.scripts; }

  Script Make(const std::string& id, std::int64_t owner, std::int64_t updated_at_ms) {
    Script script;
    script.id = id;
    script.owner_id = owner;
    script.name = "hello " + id;
    script.language = "python";
    script.version = "3.11";
    script.content = std::string("print('hi')\n\0# after a NUL", 26);
    script.created_at_ms = 1000;
    script.updated_at_ms = updated_at_ms;
    return script;
  }

  std::int64_t ann_ = 0;
  std::int64_t bob_ = 0;
};

INTEGR8SCODE_INSTANTIATE_STORE_SUITE(ScriptStoreTest);

TEST_P(ScriptStoreTest, UsageCountsAnOwnersScriptsAndTheirBytes) {
  ASSERT_EQ(Unwrap(Scripts().Insert(Make("s1", ann_, 1))), "");
  Script big = Make("s2", ann_, 2);
  big.content = std::string(5000, 'x');
  ASSERT_EQ(Unwrap(Scripts().Insert(big)), "");
  ASSERT_EQ(Unwrap(Scripts().Insert(Make("s3", bob_, 3))), "");
  auto usage = Scripts().UsageOf(ann_);
  ASSERT_TRUE(usage) << usage.error().Describe();
  EXPECT_EQ(usage->count, 2u);
  EXPECT_EQ(usage->bytes, 26u + 5000u);
  auto none = Scripts().UsageOf(ann_ + bob_ + 1000);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->count, 0u);
  EXPECT_EQ(none->bytes, 0u);
}

TEST_P(ScriptStoreTest, CreateReadUpdateDelete) {
  const Script script = Make("s1", ann_, 1000);
  ASSERT_EQ(Unwrap(Scripts().Insert(script)), "");
  auto loaded = Scripts().Get(ann_, "s1");
  ASSERT_TRUE(loaded) << loaded.error().Describe();
  EXPECT_EQ(*loaded, script);

  Script changed = script;
  changed.name = "renamed";
  changed.language = "pypy";
  changed.version = "3.9";
  changed.content = "print('changed')";
  changed.created_at_ms = 999999;  // ignored: creation time belongs to the first save
  changed.updated_at_ms = 2000;
  ASSERT_EQ(Unwrap(Scripts().Update(changed)), "");
  Script expected = changed;
  expected.created_at_ms = script.created_at_ms;
  EXPECT_EQ(*Scripts().Get(ann_, "s1"), expected);

  ASSERT_EQ(Unwrap(Scripts().Delete(ann_, "s1")), "");
  EXPECT_EQ(Scripts().Get(ann_, "s1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Scripts().Delete(ann_, "s1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Scripts().Update(changed).error().code, ErrorCode::kNotFound);
}

TEST_P(ScriptStoreTest, ListIsPerOwnerNewestUpdateFirst) {
  ASSERT_EQ(Unwrap(Scripts().Insert(Make("old", ann_, 1000))), "");
  ASSERT_EQ(Unwrap(Scripts().Insert(Make("new", ann_, 3000))), "");
  ASSERT_EQ(Unwrap(Scripts().Insert(Make("mid", ann_, 2000))), "");
  ASSERT_EQ(Unwrap(Scripts().Insert(Make("bobs", bob_, 5000))), "");
  auto list = Scripts().List(ann_);
  ASSERT_TRUE(list) << list.error().Describe();
  std::vector<std::string> ids;
  for (const Script& s : *list) ids.push_back(s.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"new", "mid", "old"}));
  auto bobs = Scripts().List(bob_);
  ASSERT_TRUE(bobs);
  ASSERT_EQ(bobs->size(), 1u);
  EXPECT_EQ(bobs->front().id, "bobs");
}

// Another user's script id behaves exactly like an id that does not exist.
TEST_P(ScriptStoreTest, OwnersCannotReachEachOthersScripts) {
  const Script anns = Make("anns", ann_, 1000);
  ASSERT_EQ(Unwrap(Scripts().Insert(anns)), "");

  auto read = Scripts().Get(bob_, "anns");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
  // The answer must not reveal that the id exists: apart from echoing the id asked
  // for, it reads as for an id nobody ever used.
  auto never = Scripts().Get(bob_, "nons");
  ASSERT_FALSE(never);
  std::string message = read.error().message;
  ASSERT_NE(message.find("anns"), std::string::npos);
  message.replace(message.find("anns"), 4, "nons");
  EXPECT_EQ(message, never.error().message);
  EXPECT_EQ(read.error().reason, never.error().reason);

  Script hijack = anns;
  hijack.owner_id = bob_;
  hijack.content = "print('pwned')";
  EXPECT_EQ(Scripts().Update(hijack).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Scripts().Delete(bob_, "anns").error().code, ErrorCode::kNotFound);
  auto bobs = Scripts().List(bob_);
  ASSERT_TRUE(bobs);
  EXPECT_TRUE(bobs->empty());

  EXPECT_EQ(*Scripts().Get(ann_, "anns"), anns);
}

TEST_P(ScriptStoreTest, InsertChecksIdAndOwner) {
  ASSERT_EQ(Unwrap(Scripts().Insert(Make("s1", ann_, 1000))), "");
  auto duplicate = Scripts().Insert(Make("s1", bob_, 1000));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kAlreadyExists);
  auto orphan = Scripts().Insert(Make("s2", ann_ + bob_ + 100, 1000));
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, ErrorCode::kNotFound) << orphan.error().Describe();
}

class TokenStoreTest : public StoreTest {
 protected:
  TokenStore& Tokens() { return *stores_.tokens; }
};

INTEGR8SCODE_INSTANTIATE_STORE_SUITE(TokenStoreTest);

TEST_P(TokenStoreTest, RevokedUntilExpiredThenForgotten) {
  auto before = Tokens().IsRevoked("jti-1");
  ASSERT_TRUE(before) << before.error().Describe();
  EXPECT_FALSE(*before);

  ASSERT_EQ(Unwrap(Tokens().Revoke("jti-1", 5000)), "");
  ASSERT_EQ(Unwrap(Tokens().Revoke("jti-2", 9000)), "");
  // A second logout with the same token is fine and never shortens the revocation.
  ASSERT_EQ(Unwrap(Tokens().Revoke("jti-2", 100)), "");
  EXPECT_TRUE(*Tokens().IsRevoked("jti-1"));
  EXPECT_TRUE(*Tokens().IsRevoked("jti-2"));
  EXPECT_FALSE(*Tokens().IsRevoked("jti-3"));

  auto deleted = Tokens().DeleteExpired(5000);
  ASSERT_TRUE(deleted) << deleted.error().Describe();
  EXPECT_EQ(*deleted, 1u);
  EXPECT_FALSE(*Tokens().IsRevoked("jti-1"));
  EXPECT_TRUE(*Tokens().IsRevoked("jti-2"));
  EXPECT_EQ(*Tokens().DeleteExpired(8999), 0u);
  EXPECT_EQ(*Tokens().DeleteExpired(9000), 1u);
  EXPECT_FALSE(*Tokens().IsRevoked("jti-2"));
}

}  // namespace
}  // namespace integr8scode
