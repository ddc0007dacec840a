#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "store_fixture.hpp"

namespace integr8scode {
namespace {

class UserStoreTest : public StoreTest {
 protected:
  UserStore& Users() { return *stores_.users; }

  User Create(const User& user) {
    auto created = Users().Create(user);
    EXPECT_TRUE(created) << user.username << ": " << created.error().Describe();
    return created ? *created : User{};
  }
};

INTEGR8SCODE_INSTANTIATE_STORE_SUITE(UserStoreTest);

TEST_P(UserStoreTest, CreateAssignsIdsAndRoundTrips) {
  User ann = MakeUser("Ann", 1234);
  ann.role = Role::kAdmin;
  const User created = Create(ann);
  EXPECT_GT(created.id, 0);
  ann.id = created.id;
  EXPECT_EQ(created, ann);
  const User bob = Create(MakeUser("bob"));
  EXPECT_NE(bob.id, created.id);

  auto loaded = Users().Get(created.id);
  ASSERT_TRUE(loaded) << loaded.error().Describe();
  EXPECT_EQ(*loaded, ann);
  auto missing = Users().Get(created.id + bob.id + 100);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(UserStoreTest, FindByUsernameIgnoresCaseAndKeepsTheSpelling) {
  const User ann = Create(MakeUser("Ann.Smith"));
  for (const char* spelling : {"Ann.Smith", "ann.smith", "ANN.SMITH"}) {
    auto found = Users().FindByUsername(spelling);
    ASSERT_TRUE(found) << spelling << ": " << found.error().Describe();
    EXPECT_EQ(found->id, ann.id);
    EXPECT_EQ(found->username, "Ann.Smith");
  }
  auto missing = Users().FindByUsername("ann.smith2");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(UserStoreTest, UsernameAndEmailAreUniqueIgnoringCase) {
  Create(MakeUser("ann"));

  User same_name = MakeUser("ANN");
  same_name.email = "other@example.org";
  auto name_taken = Users().Create(same_name);
  ASSERT_FALSE(name_taken);
  EXPECT_EQ(name_taken.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(name_taken.error().field, "username");
  EXPECT_NE(name_taken.error().message.find("username"), std::string::npos);

  User same_email = MakeUser("carol");
  same_email.email = "Ann@Example.ORG";
  auto email_taken = Users().Create(same_email);
  ASSERT_FALSE(email_taken);
  EXPECT_EQ(email_taken.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(email_taken.error().field, "email");
  EXPECT_NE(email_taken.error().message.find("email"), std::string::npos);

  auto count = Users().Count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1u);
}

TEST_P(UserStoreTest, ConcurrentRegistrationsOfOneNameLeaveOneUser) {
  constexpr int kThreads = 6;
  std::latch start(kThreads);
  std::atomic<int> created{0};
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      User user = MakeUser(t % 2 == 0 ? "dave" : "DAVE");
      user.email = fmt::format("dave{}@example.org", t);
      start.arrive_and_wait();
      auto result = Users().Create(user);
      if (result) {
        ++created;
      } else if (result.error().code == ErrorCode::kAlreadyExists) {
        ++taken;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(taken.load(), kThreads - 1);
}

TEST_P(UserStoreTest, ListPagesByIdAndCountsAll) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(Create(MakeUser(fmt::format("user{}", i))).id);
  auto count = Users().Count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 7u);
  auto page = Users().List(3, 2);
  ASSERT_TRUE(page) << page.error().Describe();
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].id, ids[2]);
  EXPECT_EQ((*page)[2].id, ids[4]);
  EXPECT_EQ((*page)[0].username, "user2");
  auto tail = Users().List(10, 5);
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->size(), 2u);
}

TEST_P(UserStoreTest, UpdatesChangeOneUserAndMissingIsNotFound) {
  const User ann = Create(MakeUser("ann"));
  const User bob = Create(MakeUser("bob"));
  ASSERT_EQ(Unwrap(Users().UpdateRole(ann.id, Role::kAdmin)), "");
  ASSERT_EQ(Unwrap(Users().UpdatePasswordHash(ann.id, "$argon2id$new")), "");
  EXPECT_EQ(Users().Get(ann.id)->role, Role::kAdmin);
  EXPECT_EQ(Users().Get(ann.id)->password_hash, "$argon2id$new");
  EXPECT_EQ(*Users().Get(bob.id), bob);

  const std::int64_t missing = ann.id + bob.id + 100;
  EXPECT_EQ(Users().UpdateRole(missing, Role::kAdmin).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Users().UpdatePasswordHash(missing, "x").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Users().ResetLoginFailures(missing).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Users().RecordLoginFailure(missing, 5, 1).error().code, ErrorCode::kNotFound);
}

TEST_P(UserStoreTest, LoginFailuresLockAtTheLimitAndResetClears) {
  const User ann = Create(MakeUser("ann"));
  for (int failure = 1; failure <= 2; ++failure) {
    auto user = Users().RecordLoginFailure(ann.id, 3, 9000);
    ASSERT_TRUE(user) << user.error().Describe();
    EXPECT_EQ(user->failed_logins, failure);
    EXPECT_FALSE(user->locked_until_ms.has_value());
  }
  auto locked = Users().RecordLoginFailure(ann.id, 3, 9000);
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->failed_logins, 3);
  EXPECT_EQ(locked->locked_until_ms, 9000);
  EXPECT_EQ(Users().Get(ann.id)->locked_until_ms, 9000);

  ASSERT_EQ(Unwrap(Users().ResetLoginFailures(ann.id)), "");
  const User reset = *Users().Get(ann.id);
  EXPECT_EQ(reset.failed_logins, 0);
  EXPECT_FALSE(reset.locked_until_ms.has_value());
}

TEST_P(UserStoreTest, ConcurrentLoginFailuresAreAllCounted) {
  const User ann = Create(MakeUser("ann"));
  constexpr int kThreads = 8;
  constexpr int kEach = 5;
  std::latch start(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        if (!Users().RecordLoginFailure(ann.id, kThreads * kEach, 9000)) ++errors;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  const User after = *Users().Get(ann.id);
  EXPECT_EQ(after.failed_logins, kThreads * kEach);
  // Exactly the last failure reached the limit.
  EXPECT_EQ(after.locked_until_ms, 9000);
}

}  // namespace
}  // namespace integr8scode
