#include "service/jwt_secret.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "service/crypto.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

class JwtSecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(EnsureSodium());
    char pattern[] = "/tmp/integr8scode-secret-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static unsigned Mode(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  static void Write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

  fs::path dir_;
};

TEST_F(JwtSecretTest, GeneratesAPrivateFileOnce) {
  auto first = LoadOrCreateJwtSecret(dir_);
  ASSERT_TRUE(first) << first.error().Describe();
  EXPECT_GE(first->size(), kMinJwtSecretBytes);
  EXPECT_EQ(Mode(dir_ / "jwt_secret"), 0600u);
  auto second = LoadOrCreateJwtSecret(dir_);
  ASSERT_TRUE(second);
  EXPECT_EQ(*first, *second);
  // Nothing but the secret is left behind (no temporary files).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(JwtSecretTest, EachDataDirGetsItsOwnSecret) {
  auto a = LoadOrCreateJwtSecret(dir_ / "a");
  auto b = LoadOrCreateJwtSecret(dir_ / "b");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(Mode(dir_ / "a"), 0700u);  // created private
}

TEST_F(JwtSecretTest, AnExistingOpenDataDirIsMadePrivate) {
  ASSERT_EQ(::mkdir((dir_ / "data").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir_ / "data").c_str(), 0755), 0);
  auto secret = LoadOrCreateJwtSecret(dir_ / "data");
  ASSERT_TRUE(secret) << secret.error().Describe();
  EXPECT_EQ(Mode(dir_ / "data"), 0700u);
  EXPECT_EQ(Mode(dir_ / "data" / "jwt_secret"), 0600u);
}

TEST_F(JwtSecretTest, ConcurrentStartsAgreeOnOneSecret) {
  std::vector<std::string> secrets(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    threads.emplace_back([&, i] {
      auto secret = LoadOrCreateJwtSecret(dir_ / "shared");
      if (secret) secrets[i] = *secret;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(secrets.begin(), secrets.end()).size(), 1u);
  EXPECT_FALSE(secrets[0].empty());
}

TEST_F(JwtSecretTest, ExistingSecretIsReusedAndTightened) {
  const std::string mine(40, 'k');
  Write(dir_ / "jwt_secret", mine + "\n");
  ASSERT_EQ(::chmod((dir_ / "jwt_secret").c_str(), 0644), 0);
  auto secret = LoadOrCreateJwtSecret(dir_);
  ASSERT_TRUE(secret);
  EXPECT_EQ(*secret, mine);
  EXPECT_EQ(Mode(dir_ / "jwt_secret"), 0600u);
}

TEST_F(JwtSecretTest, ShortSecretFileIsRefused) {
  Write(dir_ / "jwt_secret", "short");
  auto secret = LoadOrCreateJwtSecret(dir_);
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(JwtSecretTest, SymlinkIsNotFollowed) {
  Write(dir_ / "elsewhere", std::string(64, 'z'));
  fs::create_symlink(dir_ / "elsewhere", dir_ / "jwt_secret");
  EXPECT_FALSE(LoadOrCreateJwtSecret(dir_));
}

TEST_F(JwtSecretTest, NoDataDirIsAnError) {
  auto secret = LoadOrCreateJwtSecret("");
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace integr8scode
