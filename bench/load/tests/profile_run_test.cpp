// The generator against a real `integr8scode serve` on loopback, for a second or so per
// case: not a benchmark (no figure is judged), but proof that the tool follows every
// execution to its result and counts what goes wrong by kind.
#include "load/profile_run.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "load/http_connection.hpp"

extern char** environ;

namespace integr8scode {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// A free loopback port: bound to 0 and released. Another process could take it in
// between; the server then fails to start, which the suite reports.
std::uint16_t FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::bind(fd.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 0;
  socklen_t length = sizeof address;
  if (::getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return ntohs(address.sin_port);
}

// One GET on a fresh connection; the status, or 0 on a transport error.
int GetStatus(const LoopbackEndpoint& endpoint, const std::string& target) {
  boost::asio::io_context io;
  int status = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        HttpConnection connection(io.get_executor(), endpoint);
        auto reply =
            co_await connection.Send(HttpMethod::kGet, target, std::string(), milliseconds(2000));
        if (reply) status = reply->status;
      },
      boost::asio::detached);
  io.run();
  return status;
}

// `integr8scode serve` as a child process with its own data directory and port, rate
// limits lifted as scripts/bench-load lifts them. Stopped with SIGTERM and reaped.
class ServerProcess {
 public:
  ServerProcess() {
    char pattern[] = "/tmp/integr8scode-load-test-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return;
    dir_ = pattern;
    const std::uint16_t port = FreePort();
    endpoint_.address = "127.0.0.1";
    endpoint_.port = port;
    endpoint_.host_header = "127.0.0.1:" + std::to_string(port);
    std::vector<std::string> args = {INTEGR8SCODE_BINARY,
                                     "serve",
                                     "--listen",
                                     endpoint_.host_header,
                                     "--data-dir",
                                     (dir_ / "data").string(),
                                     "--set",
                                     "rate_limits.enabled=false",
                                     "--set",
                                     "quotas.executions_per_address=0"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    const std::string log = (dir_ / "server.log").string();
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int spawned = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) pid_ = 0;
  }

  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Waits until /health/ready answers 200, the process exits, or 60 s pass.
  bool WaitReady() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (pid_ > 0 && std::chrono::steady_clock::now() < give_up) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return false;
      }
      if (GetStatus(endpoint_, "/api/v1/health/ready") == 200) return true;
      boost::asio::io_context io;
      boost::asio::steady_timer pause(io, milliseconds(50));
      pause.wait();
    }
    return false;
  }

  std::string Log() const {
    std::ifstream file(dir_ / "server.log");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

  pid_t Pid() const { return pid_; }
  const LoopbackEndpoint& Endpoint() const { return endpoint_; }

 private:
  fs::path dir_;
  LoopbackEndpoint endpoint_;
  pid_t pid_ = 0;
};

class ProfileRunTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    server_ = new ServerProcess();
    ready_ = server_->WaitReady();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the sandbox needs root";
    ASSERT_TRUE(ready_) << "the server did not become ready; its log:\n" << server_->Log();
  }

  static LoadSettings Settings() {
    LoadSettings settings;
    settings.endpoint = server_->Endpoint();
    settings.duration = milliseconds(1500);
    settings.server_pid = server_->Pid();
    settings.sample_interval = milliseconds(100);
    return settings;
  }

  static ServerProcess* server_;
  static bool ready_;
};

ServerProcess* ProfileRunTest::server_ = nullptr;
bool ProfileRunTest::ready_ = false;

TEST_F(ProfileRunTest, PollingUsersFollowEveryExecutionToItsResult) {
  const ProfileStats stats = RunProfile(Settings(), ProfileSpec{"two", 2, FollowMode::kPoll});
  EXPECT_EQ(stats.ErrorTotal(), 0u) << server_->Log();
  EXPECT_GE(stats.submitted, 2u);
  // The executions in flight at the deadline were followed too: nothing left behind.
  EXPECT_EQ(stats.finished, stats.submitted);
  EXPECT_EQ(stats.completed, stats.finished);
  EXPECT_LE(stats.completed_in_window, stats.completed);
  EXPECT_EQ(stats.submit.Count(), stats.submitted);
  EXPECT_GE(stats.result_reads, stats.finished);
  EXPECT_EQ(stats.result_read.Count(), stats.result_reads);
  EXPECT_EQ(stats.end_to_end.Count(), stats.finished);
  EXPECT_EQ(stats.server_end_to_end.Count(), stats.finished);
  EXPECT_EQ(stats.server_queue_wait.Count(), stats.finished);
  // Keep-alive: one connection per user for the whole profile.
  EXPECT_EQ(stats.connections, 2u);
  EXPECT_GE(stats.server_memory.samples, 1u);
  EXPECT_GT(stats.server_memory.rss_max_bytes, 0u);
  EXPECT_GE(stats.server_memory.hwm_bytes, stats.server_memory.rss_max_bytes);
  EXPECT_GT(stats.server_cpu_s, 0);
  EXPECT_GT(stats.sandbox_cpu_s, 0);  // every python run uses some CPU
  EXPECT_GT(stats.busy_cpu_s, 0);
  EXPECT_DOUBLE_EQ(stats.window_s, 1.5);
}

TEST_F(ProfileRunTest, WaitingUsersGetTheResultInTheSubmitAnswer) {
  const ProfileStats stats = RunProfile(Settings(), ProfileSpec{"two", 2, FollowMode::kWait});
  EXPECT_EQ(stats.ErrorTotal(), 0u) << server_->Log();
  EXPECT_GE(stats.submitted, 2u);
  EXPECT_EQ(stats.finished, stats.submitted);
  EXPECT_EQ(stats.completed, stats.finished);
  EXPECT_EQ(stats.submit.Count(), 0u);  // submitting and waiting are one request here
  EXPECT_EQ(stats.end_to_end.Count(), stats.finished);
  EXPECT_EQ(stats.server_run.Count(), stats.finished);
  EXPECT_EQ(stats.connections, 2u);
}

TEST_F(ProfileRunTest, RefusedSubmissionsAreCountedByRouteAndStatus) {
  LoadSettings settings = Settings();
  settings.lang_version = "0.0";  // not in the catalog: 422 unknown_runtime
  settings.duration = milliseconds(500);
  settings.error_pause = milliseconds(50);
  const ProfileStats stats = RunProfile(settings, ProfileSpec{"refused", 1, FollowMode::kPoll});
  EXPECT_EQ(stats.submitted, 0u);
  EXPECT_EQ(stats.finished, 0u);
  ASSERT_EQ(stats.http_errors.size(), 1u);
  EXPECT_EQ(stats.http_errors.begin()->first, "POST /execute 422");
  EXPECT_GE(stats.http_errors.begin()->second, 1u);
  EXPECT_EQ(stats.ErrorTotal(), stats.http_errors.begin()->second);
}

TEST_F(ProfileRunTest, FailingProgramsAreCountedByStatus) {
  LoadSettings settings = Settings();
  settings.lang = "bash";
  settings.lang_version = "5.2";  // print('hi', 1, 2) is a bash syntax error: exit 2
  settings.duration = milliseconds(500);
  const ProfileStats stats = RunProfile(settings, ProfileSpec{"failing", 1, FollowMode::kPoll});
  EXPECT_GE(stats.finished, 1u);
  EXPECT_EQ(stats.completed, 0u);
  ASSERT_EQ(stats.execution_errors.count("failed"), 1u) << server_->Log();
  EXPECT_EQ(stats.execution_errors.at("failed"), stats.finished);
  EXPECT_TRUE(stats.http_errors.empty());
  EXPECT_TRUE(stats.transport_errors.empty());
}

TEST(ProfileRunWithoutServer, ConnectFailuresAreTransportErrors) {
  LoadSettings settings;
  settings.endpoint.address = "127.0.0.1";
  settings.endpoint.port = FreePort();
  settings.endpoint.host_header = "127.0.0.1:" + std::to_string(settings.endpoint.port);
  settings.duration = milliseconds(300);
  settings.error_pause = milliseconds(50);
  const ProfileStats stats = RunProfile(settings, ProfileSpec{"nobody", 1, FollowMode::kPoll});
  EXPECT_EQ(stats.submitted, 0u);
  ASSERT_EQ(stats.transport_errors.size(), 1u);
  EXPECT_EQ(stats.transport_errors.begin()->first.rfind("POST /execute connect:", 0), 0u)
      << stats.transport_errors.begin()->first;
  EXPECT_EQ(stats.connections, 0u);
  EXPECT_EQ(stats.server_memory.samples, 0u);
}

}  // namespace
}  // namespace integr8scode
