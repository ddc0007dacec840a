// ScriptService over a real SQLite script store.
#include <gtest/gtest.h>

#include <string>

#include "service/script_service_impl.hpp"
#include "test_support.hpp"

namespace integr8scode {
namespace {

using testing::Anonymous;
using testing::User;

class ScriptServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stores_ = testing::OpenSqliteStores(dir_.Path());
    // Scripts belong to users: create the two the tests use (ids 1 and 2).
    for (const char* name : {"ada", "grace"}) {
      integr8scode::User user;
      user.username = name;
      user.email = std::string(name) + "@example.org";
      user.password_hash = "x";
      auto created = stores_.users->Create(user);
      ASSERT_TRUE(created) << created.error().Describe();
      ids_.push_back(created->id);
    }
    Runtime python;
    python.language = "python";
    python.version = "3.11";
    Runtime pypy = python;
    pypy.version = "3.9";
    catalog_ = RuntimeCatalog({python, pypy});
    service_ = std::make_unique<ScriptServiceImpl>(stores_.scripts, catalog_, 1024, QuotaOptions{},
                                                   clock_.Fn());
  }

  ScriptDraft Draft(const std::string& name = "hello", const std::string& content = "print('hi')") {
    return ScriptDraft{name, "python", "3.11", content};
  }
  Caller Ada() { return User(ids_[0]); }
  Caller Grace() { return User(ids_[1]); }

  testing::TempDir dir_;
  testing::ManualClock clock_;
  Stores stores_;
  std::vector<std::int64_t> ids_;
  RuntimeCatalog catalog_;
  std::unique_ptr<ScriptServiceImpl> service_;
};

TEST_F(ScriptServiceTest, CreateGetUpdateDelete) {
  auto created = service_->Create(Ada(), Draft());
  ASSERT_TRUE(created) << created.error().Describe();
  EXPECT_EQ(created->owner_id, ids_[0]);
  EXPECT_EQ(created->id.size(), 36u);
  EXPECT_EQ(created->created_at_ms, clock_.Now());

  clock_.Advance(std::chrono::seconds(5));
  auto updated =
      service_->Update(Ada(), created->id, ScriptDraft{"renamed", "python", "3.9", "x=1"});
  ASSERT_TRUE(updated) << updated.error().Describe();
  EXPECT_EQ(updated->created_at_ms, created->created_at_ms);
  EXPECT_EQ(updated->updated_at_ms, clock_.Now());

  auto fetched = service_->Get(Ada(), created->id);
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->name, "renamed");
  EXPECT_EQ(fetched->version, "3.9");
  EXPECT_EQ(fetched->content, "x=1");

  ASSERT_TRUE(service_->Delete(Ada(), created->id));
  auto gone = service_->Get(Ada(), created->id);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

TEST_F(ScriptServiceTest, ListShowsOnlyOwnScriptsNewestUpdateFirst) {
  auto first = service_->Create(Ada(), Draft("first"));
  clock_.Advance(std::chrono::seconds(1));
  auto second = service_->Create(Ada(), Draft("second"));
  ASSERT_TRUE(service_->Create(Grace(), Draft("grace's")));
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(service_->Update(Ada(), first->id, Draft("first, edited")));
  auto mine = service_->List(Ada());
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].name, "first, edited");
  EXPECT_EQ((*mine)[1].name, "second");
}

TEST_F(ScriptServiceTest, AnotherUsersScriptIsNotFoundForEveryOperation) {
  auto script = service_->Create(Ada(), Draft("private", "secret = 42"));
  ASSERT_TRUE(script);
  auto get = service_->Get(Grace(), script->id);
  ASSERT_FALSE(get);
  EXPECT_EQ(get.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(get.error().message.find("secret"), std::string::npos);
  auto update = service_->Update(Grace(), script->id, Draft("hijacked"));
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().code, ErrorCode::kNotFound);
  auto remove = service_->Delete(Grace(), script->id);
  ASSERT_FALSE(remove);
  EXPECT_EQ(remove.error().code, ErrorCode::kNotFound);
  // Still intact for its owner.
  auto own = service_->Get(Ada(), script->id);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->name, "private");
  EXPECT_EQ(own->content, "secret = 42");
  auto theirs = service_->List(Grace());
  ASSERT_TRUE(theirs);
  EXPECT_TRUE(theirs->empty());
}

TEST_F(ScriptServiceTest, AnonymousCallersAreTurnedAway) {
  auto list = service_->List(Anonymous());
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code, ErrorCode::kUnauthenticated);
  auto create = service_->Create(Anonymous(), Draft());
  ASSERT_FALSE(create);
  EXPECT_EQ(create.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(ScriptServiceTest, DraftsAreValidated) {
  auto empty_name = service_->Create(Ada(), Draft(""));
  ASSERT_FALSE(empty_name);
  EXPECT_EQ(empty_name.error().field, "name");
  EXPECT_FALSE(service_->Create(Ada(), Draft("   ")));
  EXPECT_TRUE(service_->Create(Ada(), Draft(std::string(100, 'n'))));
  auto long_name = service_->Create(Ada(), Draft(std::string(101, 'n')));
  ASSERT_FALSE(long_name);
  EXPECT_EQ(long_name.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(service_->Create(Ada(), Draft(std::string(50, 'n') + "ünïcödé")));

  auto unknown = service_->Create(Ada(), ScriptDraft{"x", "cobol", "85", ""});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().reason, "unknown_runtime");
  EXPECT_EQ(unknown.error().field, "lang");
  EXPECT_NE(unknown.error().message.find("python 3.11"), std::string::npos);
  auto bad_version = service_->Create(Ada(), ScriptDraft{"x", "python", "2.7", ""});
  ASSERT_FALSE(bad_version);
  EXPECT_EQ(bad_version.error().field, "lang_version");

  auto too_large = service_->Create(Ada(), Draft("big", std::string(1025, 'x')));
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(too_large.error().field, "script");
  EXPECT_TRUE(service_->Create(Ada(), Draft("fits", std::string(1024, 'x'))));
}

TEST_F(ScriptServiceTest, AUserKeepsAtMostTheirScriptCountAndBytes) {
  QuotaOptions quotas;
  quotas.scripts_per_user = 2;
  quotas.script_bytes_per_user = 1000;
  service_ =
      std::make_unique<ScriptServiceImpl>(stores_.scripts, catalog_, 1024, quotas, clock_.Fn());
  auto first = service_->Create(Ada(), Draft("one", std::string(400, 'a')));
  ASSERT_TRUE(first) << first.error().Describe();
  ASSERT_TRUE(service_->Create(Ada(), Draft("two", std::string(400, 'b'))));

  auto third = service_->Create(Ada(), Draft("three", "x"));
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(third.error().reason, "quota_exceeded");
  EXPECT_NE(third.error().message.find("2 saved scripts"), std::string::npos)
      << third.error().message;
  EXPECT_NE(third.error().message.find("DELETE /api/v1/scripts/{id}"), std::string::npos);

  // In place: the old content's bytes are given back first.
  EXPECT_TRUE(service_->Update(Ada(), first->id, Draft("one", std::string(600, 'a'))));
  auto too_big = service_->Update(Ada(), first->id, Draft("one", std::string(601, 'a')));
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().reason, "quota_exceeded");
  EXPECT_NE(too_big.error().message.find("quota of 1000 B"), std::string::npos)
      << too_big.error().message;

  // Deleting frees space; another user has their own.
  ASSERT_TRUE(service_->Delete(Ada(), first->id));
  EXPECT_TRUE(service_->Create(Ada(), Draft("three", "x")));
  EXPECT_TRUE(service_->Create(Grace(), Draft("one", std::string(900, 'g'))));
}

}  // namespace
}  // namespace integr8scode
