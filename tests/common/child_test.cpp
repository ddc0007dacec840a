// Child: a pidfd-owned child process is killed and reaped when its owner lets go.
#include "common/child.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace integr8scode {
namespace {

using namespace std::chrono_literals;

Child Spawn(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ), 0);
  auto child = Child::Adopt(pid);
  EXPECT_TRUE(child) << child.error().Describe();
  return child ? std::move(*child) : Child();
}

// True when `pid` is still a child of ours, exited or not (a zombie counts).
bool StillOurs(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

TEST(Child, WaitReturnsTheExitStatus) {
  Child child = Spawn({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(child.Running());
  auto status = child.Wait();
  ASSERT_TRUE(status) << status.error().Describe();
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);
  EXPECT_FALSE(child.Running());
}

TEST(Child, ASignalShowsAsSignalled) {
  Child child = Spawn({"/bin/sleep", "600"});
  ASSERT_TRUE(child.Signal(SIGTERM));
  auto status = child.Wait();
  ASSERT_TRUE(status) << status.error().Describe();
  ASSERT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGTERM);
}

TEST(Child, DestructionKillsAndReaps) {
  pid_t pid = -1;
  {
    Child child = Spawn({"/bin/sleep", "600"});
    pid = child.Pid();
    ASSERT_TRUE(StillOurs(pid));
    auto exited = child.WaitExit(0ms);
    ASSERT_TRUE(exited);
    EXPECT_FALSE(*exited);
  }
  EXPECT_FALSE(StillOurs(pid));  // neither running nor a zombie: reaped
  EXPECT_EQ(errno, ECHILD);
}

TEST(Child, MovingHandsOverWithoutKilling) {
  Child first = Spawn({"/bin/sh", "-c", "exit 7"});
  Child second = std::move(first);
  EXPECT_FALSE(first.Running());  // NOLINT(bugprone-use-after-move): the point of the test
  auto status = second.Wait();
  ASSERT_TRUE(status) << status.error().Describe();
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 7);  // exited by itself, not killed by the move
}

TEST(Child, AssigningOverARunningChildKillsAndReapsIt) {
  Child child = Spawn({"/bin/sleep", "600"});
  const pid_t replaced = child.Pid();
  child = Spawn({"/bin/sh", "-c", "exit 0"});
  EXPECT_FALSE(StillOurs(replaced));
  auto status = child.Wait();
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
}

}  // namespace
}  // namespace integr8scode
