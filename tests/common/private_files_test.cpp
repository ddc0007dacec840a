// private_files on real directories and files (as root, like every suite: ownership is
// changed with chown).
#include "common/private_files.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

// Sets the umask for a test and gives the old one back.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

class PrivateFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/integr8scode-private-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static unsigned Mode(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  fs::path dir_;
};

TEST_F(PrivateFilesTest, ADirectoryIsCreatedPrivateWhateverTheUmask) {
  const ScopedUmask open(0);
  ASSERT_TRUE(EnsurePrivateDirectory(dir_ / "a" / "data"));
  EXPECT_EQ(Mode(dir_ / "a" / "data"), 0700u);
}

TEST_F(PrivateFilesTest, AnExistingOpenDirectoryIsTightenedAtEveryCall) {
  ASSERT_EQ(::mkdir((dir_ / "data").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir_ / "data").c_str(), 0755), 0);
  ASSERT_TRUE(EnsurePrivateDirectory(dir_ / "data"));
  EXPECT_EQ(Mode(dir_ / "data"), 0700u);
  ASSERT_EQ(::chmod((dir_ / "data").c_str(), 0711), 0);
  ASSERT_TRUE(EnsurePrivateDirectory(dir_ / "data"));
  EXPECT_EQ(Mode(dir_ / "data"), 0700u);
}

TEST_F(PrivateFilesTest, FilesAreCreatedAndTightenedTo0600) {
  const ScopedUmask open(0);
  ASSERT_TRUE(CreatePrivateFile(dir_ / "db"));
  EXPECT_EQ(Mode(dir_ / "db"), 0600u);
  std::ofstream(dir_ / "db-wal") << "x";
  ASSERT_EQ(::chmod((dir_ / "db-wal").c_str(), 0644), 0);
  ASSERT_TRUE(EnsurePrivateFile(dir_ / "db-wal"));
  EXPECT_EQ(Mode(dir_ / "db-wal"), 0600u);
  EXPECT_TRUE(EnsurePrivateFile(dir_ / "missing"));
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
}

TEST_F(PrivateFilesTest, WhatCannotBeMadePrivateIsRefusedWithAReason) {
  std::ofstream(dir_ / "file") << "x";
  auto not_a_dir = EnsurePrivateDirectory(dir_ / "file");
  ASSERT_FALSE(not_a_dir);
  EXPECT_EQ(not_a_dir.error().code, ErrorCode::kUnavailable);

  fs::create_symlink(dir_ / "file", dir_ / "link");
  auto symlink = EnsurePrivateFile(dir_ / "link");
  ASSERT_FALSE(symlink);
  EXPECT_NE(symlink.error().message.find("symbolic link"), std::string::npos)
      << symlink.error().message;

  ASSERT_EQ(::mkdir((dir_ / "theirs").c_str(), 0700), 0);
  ASSERT_EQ(::chown((dir_ / "theirs").c_str(), 65534, 65534), 0);
  auto foreign = EnsurePrivateDirectory(dir_ / "theirs");
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("belongs to uid 65534"), std::string::npos)
      << foreign.error().message;
}

}  // namespace
}  // namespace integr8scode
