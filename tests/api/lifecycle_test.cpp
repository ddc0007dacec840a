// The server's life: a graceful SIGTERM, and a kill -9 in the middle of a burst of
// submissions followed by a restart on the same data directory.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CanRunServer()) GTEST_SKIP() << "the server's sandbox needs root";
    dir_ = std::make_unique<TempDir>("integr8scode-lifecycle");
    options_.data_dir = dir_->Path() / "data";
    options_.settings = {{"auth.admin_username", "admin"},
                         {"auth.admin_password", "admin-password"}};
  }

  std::unique_ptr<ServerProcess> Start() {
    std::string error;
    auto server = ServerProcess::Start(options_, error);
    EXPECT_NE(server, nullptr) << error;
    return server;
  }

  std::unique_ptr<TempDir> dir_;
  ServerOptions options_;
};

std::string BurstScript(int n) {
  return "import time\ntime.sleep(0.1)\nprint(" + std::to_string(n) + ")";
}

TEST_F(Lifecycle, KillNineDuringABurstLosesNothingAndRunsNothingTwice) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  const std::uint16_t first_port = server->Port();

  constexpr int kSubmissions = 200;
  constexpr int kThreads = 8;
  constexpr int kKillAfter = 60;
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int, std::string> accepted;  // submission number → execution id, for every 202
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HttpClient client(first_port);
      while (true) {
        const int n = next.fetch_add(1);
        if (n >= kSubmissions) return;
        const HttpResult result =
            Submit(client, BurstScript(n),
                   {{"Idempotency-Key", "burst-key-" + std::to_string(n) + "-7c1e9a4b"}});
        if (result.status == 0) return;  // the server is gone
        EXPECT_EQ(result.status, 202) << result.Describe();
        if (result.status != 202) continue;
        std::lock_guard lock(mutex);
        accepted[n] = Str(result.Json().at("execution_id"));
        changed.notify_all();
      }
    });
  }
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return accepted.size() >= kKillAfter; });
  }
  server->Kill();
  for (std::thread& thread : threads) thread.join();
  ASSERT_GE(accepted.size(), static_cast<std::size_t>(kKillAfter));

  server = Start();
  ASSERT_NE(server, nullptr);
  HttpClient client(server->Port());
  const Account admin = Login(client, "admin", "admin-password");

  // Every accepted execution ends, once, with its own program's output.
  std::set<std::string> ids;
  int completed = 0;
  for (const auto& [n, id] : accepted) {
    ids.insert(id);
    const boost::json::object done = WaitForEnd(client, id, {}, std::chrono::seconds(120));
    const std::string status = Str(done.at("status"));
    ASSERT_TRUE(status == "completed" || status == "error")
        << id << ": " << boost::json::serialize(done);
    if (status == "completed") {
      ++completed;
      EXPECT_EQ(Str(done.at("stdout")), std::to_string(n) + "\n") << id;
    } else {
      EXPECT_FALSE(done.at("message").is_null()) << id;
    }
    EXPECT_LE(done.at("attempts").to_number<int>(), 2) << id;
  }
  EXPECT_EQ(ids.size(), accepted.size()) << "two submissions got the same execution";
  EXPECT_GT(completed, 0);

  // The same keys again are the same executions: nothing is run a second time.
  for (const auto& [n, id] : accepted) {
    const HttpResult again =
        Submit(client, BurstScript(n),
               {{"Idempotency-Key", "burst-key-" + std::to_string(n) + "-7c1e9a4b"}});
    ASSERT_EQ(again.status, 200) << again.Describe();
    EXPECT_EQ(Str(again.Json().at("execution_id")), id);
    EXPECT_TRUE(IsTerminalStatus(Str(again.Json().at("status"))));
  }
  // And the store holds each accepted execution exactly once; beyond them only those
  // whose 202 was lost with the connection.
  std::map<std::string, int> seen;
  int total = 0;
  for (int offset = 0;; offset += 100) {
    const HttpResult page = client.Get(
        "/api/v1/admin/executions?limit=100&offset=" + std::to_string(offset), admin.Bearer());
    ASSERT_EQ(page.status, 200) << page.Describe();
    const boost::json::value body = page.Json();
    total = body.at("total").to_number<int>();
    for (const auto& item : body.at("items").as_array()) ++seen[Str(item.at("execution_id"))];
    if (body.at("items").as_array().size() < 100) break;
  }
  for (const std::string& id : ids) EXPECT_EQ(seen[id], 1) << id;
  // Those whose 202 was lost were accepted by the store all the same: they end too.
  for (const auto& [id, count] : seen) {
    if (!ids.contains(id)) {
      EXPECT_TRUE(IsTerminalStatus(Str(WaitForEnd(client, id).at("status")))) << id;
    }
  }
  EXPECT_LE(total, static_cast<int>(accepted.size()) + kThreads);
  EXPECT_EQ(static_cast<int>(seen.size()), total);
}

TEST_F(Lifecycle, SigtermLetsRunningWorkFinishAndExitsZero) {
  options_.settings.emplace_back("sandbox.slots", "1");
  auto server = Start();
  ASSERT_NE(server, nullptr);
  HttpClient client(server->Port());

  // A request waiting for its result is in flight when the signal comes.
  const std::string script =
      "import time\nprint('started', flush=True)\ntime.sleep(1.5)\nprint('finished')";
  HttpResult waited;
  std::thread waiter([&] {
    HttpClient own(server->Port());
    waited = Submit(own, script, {{"Idempotency-Key", "graceful-shutdown-key"}}, "?wait=true");
  });
  // Find the execution (the same key replays it at once) and wait until it runs.
  std::string id;
  for (int i = 0; i < 2000 && id.empty(); ++i) {
    const HttpResult replay =
        Submit(client, script, {{"Idempotency-Key", "graceful-shutdown-key"}});
    if (replay.status == 200) id = Str(replay.Json().at("execution_id"));
    if (id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(id.empty());
  // Two more behind it in the queue (one sandbox slot): they must survive the restart.
  const std::string queued_a = Str(Submit(client, "print('a')").Json().at("execution_id"));
  const std::string queued_b = Str(Submit(client, "print('b')").Json().at("execution_id"));
  for (int i = 0; i < 2000; ++i) {
    if (Str(client.Get("/api/v1/executions/" + id).Json().at("status")) == "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(Str(client.Get("/api/v1/executions/" + id).Json().at("status")), "running");

  EXPECT_EQ(server->Terminate(), 0) << server->Log();
  waiter.join();
  ASSERT_EQ(waited.status, 200) << waited.Describe();
  EXPECT_EQ(Str(waited.Json().at("status")), "completed");
  EXPECT_EQ(Str(waited.Json().at("stdout")), "started\nfinished\n");
  const std::string log = server->Log();
  EXPECT_NE(log.find("\"msg\":\"shutting down\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;

  server = Start();
  ASSERT_NE(server, nullptr);
  HttpClient after(server->Port());
  const boost::json::object first = WaitForEnd(after, id);
  EXPECT_EQ(Str(first.at("status")), "completed");
  EXPECT_EQ(first.at("attempts").to_number<int>(), 1);
  EXPECT_EQ(Str(WaitForEnd(after, queued_a).at("stdout")), "a\n");
  EXPECT_EQ(Str(WaitForEnd(after, queued_b).at("stdout")), "b\n");
}

TEST_F(Lifecycle, UnknownSettingsStopTheStartWithAClearMessage) {
  const std::string command = ServerBinary().string() + " serve --data-dir " +
                              (dir_->Path() / "d").string() + " --listen 127.0.0.1:0 > " +
                              (dir_->Path() / "out").string() + " 2>&1";
  // A clean environment: only the misspelt variable is there to complain about.
  const int env_status =
      std::system(("env -i PATH=/usr/bin:/bin INTEGR8SCODE_SERVER_LISTN=1 " + command).c_str());
  ASSERT_TRUE(WIFEXITED(env_status));
  EXPECT_EQ(WEXITSTATUS(env_status), 2);
  std::ifstream out(dir_->Path() / "out");
  const std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("INTEGR8SCODE_SERVER_LISTN"), std::string::npos) << text;
  EXPECT_NE(text.find("INTEGR8SCODE_SERVER_LISTEN"), std::string::npos) << text;

  const int flag_status =
      std::system(("env -i PATH=/usr/bin:/bin " + command + " --set queue.capasity=5").c_str());
  ASSERT_TRUE(WIFEXITED(flag_status));
  EXPECT_EQ(WEXITSTATUS(flag_status), 2);
  std::ifstream flag_out(dir_->Path() / "out");
  const std::string flag_text((std::istreambuf_iterator<char>(flag_out)),
                              std::istreambuf_iterator<char>());
  EXPECT_NE(flag_text.find("queue.capasity"), std::string::npos) << flag_text;
  EXPECT_NE(flag_text.find("queue.capacity"), std::string::npos) << flag_text;
}

}  // namespace
}  // namespace integr8scode::testing
