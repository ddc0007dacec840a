#include "service/password_hasher.hpp"

#include <gtest/gtest.h>

#include "service/crypto.hpp"

namespace integr8scode {
namespace {

class PasswordHasherTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(EnsureSodium()); }
  PasswordHasher hasher_{PasswordHashCost::Min()};
};

TEST_F(PasswordHasherTest, HashIsArgon2idAndVerifies) {
  auto hash = hasher_.Hash("correct horse battery staple");
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(hasher_.Verify(*hash, "correct horse battery staple"));
  EXPECT_FALSE(hasher_.Verify(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(hasher_.Verify(*hash, ""));
}

TEST_F(PasswordHasherTest, EachHashHasItsOwnSalt) {
  auto first = hasher_.Hash("same password");
  auto second = hasher_.Hash("same password");
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
  EXPECT_TRUE(hasher_.Verify(*first, "same password"));
  EXPECT_TRUE(hasher_.Verify(*second, "same password"));
}

TEST_F(PasswordHasherTest, GarbageHashNeverVerifies) {
  EXPECT_FALSE(hasher_.Verify("", "x"));
  EXPECT_FALSE(hasher_.Verify("$argon2id$nonsense", "x"));
  EXPECT_FALSE(hasher_.Verify(std::string(1000, 'a'), "x"));
}

TEST_F(PasswordHasherTest, HashOfAnotherCostNeedsRehash) {
  auto weak = hasher_.Hash("password1");
  ASSERT_TRUE(weak);
  EXPECT_FALSE(hasher_.NeedsRehash(*weak));
  const PasswordHasher stronger({2, 1u << 20});
  EXPECT_TRUE(stronger.NeedsRehash(*weak));
  EXPECT_TRUE(stronger.Verify(*weak, "password1"));  // verification reads the cost from the hash
}

TEST_F(PasswordHasherTest, InteractiveCostIsTheDefault) {
  const PasswordHashCost cost;
  EXPECT_EQ(cost.ops_limit, PasswordHashCost::Interactive().ops_limit);
  EXPECT_EQ(cost.mem_limit, PasswordHashCost::Interactive().mem_limit);
}

}  // namespace
}  // namespace integr8scode
