// Child: a pidfd-owned child process is killed and reaped when its owner lets go.
#include "common/child.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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

// A process held by the pidfd its start gave (clone3's CLONE_PIDFD, here pidfd_open on a
// spawned one), as the sandbox launchers hand it over.
Child FromPidfd(std::vector<std::string> argv, Child::Parent parent, pid_t& pid) {
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  EXPECT_EQ(::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ), 0);
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)));
  EXPECT_TRUE(pidfd);
  return Child::FromPidfd(pid, std::move(pidfd), parent);
}

TEST(Child, FromAPidfdOfOursItIsReapedLikeAnAdoptedOne) {
  pid_t pid = -1;
  {
    Child child = FromPidfd({"/bin/sleep", "600"}, Child::Parent::kThisProcess, pid);
    ASSERT_TRUE(child.Running());
    EXPECT_EQ(child.Pid(), pid);
  }
  EXPECT_FALSE(StillOurs(pid));
}

TEST(Child, AnotherParentsChildIsKilledButLeftForItsParentToReap) {
  pid_t pid = -1;
  {
    Child child = FromPidfd({"/bin/sleep", "600"}, Child::Parent::kAnother, pid);
    auto refused = child.Wait();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInternal);
    auto exited = child.WaitExit(0ms);
    ASSERT_TRUE(exited);
    EXPECT_FALSE(*exited);
  }
  // Here we stand in for that parent: the process was killed, and the zombie is still there.
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(Child, KillEndsItAndWaitExitSeesThat) {
  Child child = Spawn({"/bin/sleep", "600"});
  child.Kill();
  auto exited = child.WaitExit(10s);
  ASSERT_TRUE(exited) << exited.error().Describe();
  EXPECT_TRUE(*exited);
  auto status = child.Wait();
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGKILL);
  child.Kill();  // once reaped: nothing to signal, nothing to fail
  EXPECT_FALSE(child.Running());
}

}  // namespace
}  // namespace integr8scode
