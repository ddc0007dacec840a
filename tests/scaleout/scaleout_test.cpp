// Scale-out on a real PostgreSQL with real processes on loopback (docs/scale-out.md):
// `serve --role api` replicas (the first one as an unprivileged user) and `--role worker`
// processes sharing one schema. Each test has its own schema and processes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/sql_database.hpp"
#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

struct StoredRun {
  std::string status;
  int attempts = 0;
  std::string worker_id;
  std::string stdout_text;
  std::int64_t started_at = 0;
  std::string owner_key;
};

struct Event {
  std::uint64_t id = 0;
  std::string name;
  std::string data;
};

// The SSE events of a raw chunked answer (each event is written inside one chunk).
std::vector<Event> ParseEvents(const std::string& raw) {
  std::vector<Event> events;
  const std::size_t body = raw.find("\r\n\r\n");
  if (body == std::string::npos) return events;
  static const std::regex kEvent("id: (\\d+)\nevent: ([a-z]+)\ndata: ([^\n]*)\n\n");
  const std::string text = raw.substr(body + 4);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kEvent);
       it != std::sregex_iterator(); ++it) {
    events.push_back({std::stoull((*it)[1]), (*it)[2], (*it)[3]});
  }
  return events;
}

std::string EventsRequest(const std::string& id, std::uint64_t last_event_id = 0) {
  std::string request = "GET /api/v1/executions/" + id +
                        "/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n";
  if (last_event_id > 0) request += fmt::format("Last-Event-ID: {}\r\n", last_event_id);
  return request + "\r\n";
}

// The value of one series in a Prometheus text answer, 0 when absent.
double MetricValue(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + series.size() + 2));
}

HttpResult SubmitBash(HttpClient& client, const std::string& script, const Headers& headers = {}) {
  return client.PostJson(
      "/api/v1/execute",
      boost::json::object{{"lang", "bash"}, {"lang_version", "5.2"}, {"script", script}}, headers);
}

// A PostgreSQL cluster of the test's own (scripts/postgres-test in a private directory), for
// the test that restarts it: the shared one serves other suites.
class PrivatePostgres {
 public:
  PrivatePostgres() : dir_("scaleout-pg"), pg_dir_(dir_.Path() / "pg") {
    url_ = Run("start");
    while (!url_.empty() && url_.back() == '\n') url_.pop_back();
  }
  ~PrivatePostgres() { Run("stop"); }
  const std::string& Url() const { return url_; }
  bool Restart() {
    const std::string command = fmt::format(
        "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D {0}/data restart -m fast "
        "-w -l {0}/server.log >/dev/null 2>&1",
        pg_dir_.string());
    return std::system(command.c_str()) == 0;
  }

 private:
  std::string Run(std::string_view what) {
    const std::string command =
        fmt::format("INTEGR8SCODE_PG_DIR={} INTEGR8SCODE_PG_PORT=56400 {}/scripts/postgres-test {}",
                    pg_dir_.string(), INTEGR8SCODE_SOURCE_DIR, what);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return {};
    std::string output;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    ::pclose(pipe);
    return output;
  }

  TempDir dir_;
  fs::path pg_dir_;
  std::string url_;
};

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("INTEGR8SCODE_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') GTEST_SKIP() << "INTEGR8SCODE_TEST_POSTGRES_URL unset";
    if (!CanRunServer()) GTEST_SKIP() << "workers need root (the sandbox)";
    admin_url_ = private_url_.empty() ? url : private_url_;
    std::mt19937_64 random{std::random_device{}()};
    schema_ = fmt::format("scaleout_{}_{}", ::getpid(), random() % 1000000);
    auto admin = OpenSqlDatabase(admin_url_);
    ASSERT_TRUE(admin) << admin.error().Describe();
    ASSERT_TRUE((*admin)->Transact(TxMode::kWrite, [&](SqlConnection& db) {
      return db.ExecuteScript("CREATE SCHEMA " + schema_);
    }));
    url_ = fmt::format("{}{}options=-csearch_path%3D{}", admin_url_,
                       admin_url_.find('?') == std::string::npos ? "?" : "&", schema_);
    dir_ = std::make_unique<TempDir>("scaleout");
    // The api role runs as nobody: its data directory must be its own.
    fs::permissions(dir_->Path(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }

  void TearDown() override {
    processes_.clear();
    if (schema_.empty()) return;
    if (auto admin = OpenSqlDatabase(admin_url_)) {
      IgnoreResult(
          (*admin)->Transact(TxMode::kWrite,
                             [&](SqlConnection& db) {
                               return db.ExecuteScript("DROP SCHEMA " + schema_ + " CASCADE");
                             }),
          "cleanup: the schema is this test's own and the cluster a throwaway");
    }
  }

  // Starts `serve --role role`; an api replica as the unprivileged user when `as_nobody`.
  ServerProcess* Start(const std::string& role, bool as_nobody = false,
                       std::vector<std::pair<std::string, std::string>> extra = {}) {
    ServerOptions options;
    options.data_dir = dir_->Path() / fmt::format("{}-{}", role, processes_.size());
    options.settings = {{"server.role", role},
                        {"database.url", url_},
                        {"queue.lease", "2s"},
                        {"queue.rescue_interval", "500ms"},
                        {"queue.poll_interval", "200ms"},
                        {"server.shutdown_grace", "2s"}};
    options.settings.insert(options.settings.end(), extra.begin(), extra.end());
    if (as_nobody) {
      fs::create_directories(options.data_dir);
      EXPECT_EQ(::chown(options.data_dir.c_str(), kNobody, kNobody), 0);
      options.command_prefix = {"/usr/bin/setpriv", "--reuid=65534",   "--regid=65534",
                                "--clear-groups",   "--inh-caps=-all", "--"};
    }
    std::string error;
    auto process = ServerProcess::Start(options, error);
    EXPECT_TRUE(process) << error;
    if (!process) return nullptr;
    processes_.push_back(std::move(process));
    return processes_.back().get();
  }

  std::shared_ptr<SqlDatabase> Db() {
    if (!db_) {
      auto opened = OpenSqlDatabase(url_);
      EXPECT_TRUE(opened) << opened.error().Describe();
      if (opened) db_ = *opened;
    }
    return db_;
  }

  std::map<std::string, StoredRun> Runs() {
    std::map<std::string, StoredRun> runs;
    auto rows = TransactFor<std::vector<SqlRow>>(*Db(), TxMode::kRead, [](SqlConnection& db) {
      return db.Query(
          "SELECT id, status, attempts, worker_id, stdout_text, coalesce(started_at, 0),"
          " owner_key FROM executions");
    });
    EXPECT_TRUE(rows) << rows.error().Describe();
    if (!rows) return runs;
    for (const SqlRow& row : *rows) {
      RowReader in(row);
      const std::string id = in.Text();
      StoredRun& run = runs[id];
      run.status = in.Text();
      run.attempts = static_cast<int>(in.Int());
      run.worker_id = in.Text();
      run.stdout_text = in.Text();
      run.started_at = in.Int();
      run.owner_key = in.Text();
    }
    return runs;
  }

  // Waits (bounded; the bound is only a hang guard) until no execution is queued or running.
  std::map<std::string, StoredRun> WaitAllFinished(std::chrono::seconds guard) {
    const auto deadline = std::chrono::steady_clock::now() + guard;
    for (;;) {
      auto runs = Runs();
      const bool done = std::all_of(runs.begin(), runs.end(), [](const auto& entry) {
        return entry.second.status != "queued" && entry.second.status != "running";
      });
      if (done || std::chrono::steady_clock::now() > deadline) return runs;
      std::this_thread::sleep_for(100ms);
    }
  }

  std::string private_url_;  // set before SetUp: use this cluster instead of the shared one
  std::string admin_url_;
  std::string schema_;
  std::string url_;
  std::unique_ptr<TempDir> dir_;
  std::shared_ptr<SqlDatabase> db_;
  std::vector<std::unique_ptr<ServerProcess>> processes_;
};

// Test 8 of the issue, the PostgreSQL half: `all` still does everything in one process.
TEST_F(ScaleOut, AllRoleOnPostgresRunsAndStreams) {
  ServerProcess* all = Start("all");
  ASSERT_NE(all, nullptr);
  HttpClient client(all->Port());
  const HttpResult submitted = SubmitBash(client, "echo one; echo two");
  ASSERT_EQ(submitted.status, 202) << submitted.Describe();
  const std::string id = Str(submitted.Json().at("execution_id"));
  const boost::json::object done = WaitForEnd(client, id);
  EXPECT_EQ(Str(done.at("status")), "completed");
  EXPECT_EQ(Str(done.at("stdout")), "one\ntwo\n");
  RawConnection stream(all->Port());
  ASSERT_TRUE(stream.Send(EventsRequest(id)));
  stream.ReadUntil("event: result", 30s);
  const std::vector<Event> events = ParseEvents(stream.Received());
  ASSERT_GE(events.size(), 4u) << stream.Received();
  EXPECT_EQ(events.front().data, R"({"status":"queued"})");
  EXPECT_EQ(events.back().name, "result");
}

// An api or worker role on SQLite refuses to start and says why (exit 2).
TEST_F(ScaleOut, ApiAndWorkerRefuseSqlite) {
  for (const std::string role : {"api", "worker"}) {
    const std::string command =
        fmt::format("{} serve --role {} --data-dir {} 2>&1", ServerBinary().string(), role,
                    (dir_->Path() / "sqlite").string());
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    const int status = ::pclose(pipe);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << output;
    EXPECT_NE(output.find("needs a PostgreSQL database.url"), std::string::npos) << output;
  }
}

// A worker answers only health and metrics; an api replica runs without root and has no
// sandbox check in its readiness.
TEST_F(ScaleOut, EachRoleServesWhatItShould) {
  ServerProcess* api = Start("api", /*as_nobody=*/true);
  ServerProcess* worker = Start("worker");
  ASSERT_TRUE(api && worker);
  HttpClient to_worker(worker->Port());
  EXPECT_EQ(to_worker.Get("/api/v1/health/live").status, 200);
  EXPECT_EQ(to_worker.Get("/api/v1/health/ready").status, 200);
  const HttpResult metrics = to_worker.Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(integr8scode_process_info{role="worker")"), std::string::npos);
  EXPECT_EQ(to_worker.Get("/api/v1/runtimes").status, 404);
  EXPECT_EQ(SubmitBash(to_worker, "echo hi").status, 404);

  HttpClient to_api(api->Port());
  const HttpResult ready = to_api.Get("/api/v1/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.Describe();
  EXPECT_FALSE(ready.Json().at("checks").as_object().contains("sandbox")) << ready.body;
  EXPECT_NE(to_api.Get("/metrics").body.find(R"(integr8scode_process_info{role="api")"),
            std::string::npos);
  // The api process is not root.
  const std::string status_file = fmt::format("/proc/{}/status", api->Pid());
  std::ifstream status(status_file);
  std::string line;
  std::string uid_line;
  while (std::getline(status, line)) {
    if (line.starts_with("Uid:")) uid_line = line;
  }
  EXPECT_NE(uid_line.find("65534"), std::string::npos) << uid_line;
}

// Test 1: two api replicas and two workers; 500 executions from 20 users, submitted
// across both replicas, each completes exactly once with its own output.
TEST_F(ScaleOut, FiveHundredExecutionsCompleteExactlyOnce) {
  ServerProcess* api_a = Start("api", /*as_nobody=*/true);
  ServerProcess* api_b = Start("api");
  ServerProcess* worker_a = Start("worker");
  ServerProcess* worker_b = Start("worker");
  ASSERT_TRUE(api_a && api_b && worker_a && worker_b);
  HttpClient a(api_a->Port());
  HttpClient b(api_b->Port());
  std::vector<Account> users;
  for (int i = 0; i < 20; ++i)
    users.push_back(CreateAccount(i % 2 ? b : a, fmt::format("user{:02}", i)));
  std::map<std::string, std::string> expected;  // id → stdout
  for (int i = 0; i < 500; ++i) {
    HttpClient& client = i % 2 ? b : a;
    const HttpResult submitted =
        SubmitBash(client, fmt::format("echo run-{}", i), users[i % 20].Bearer());
    ASSERT_EQ(submitted.status, 202) << submitted.Describe();
    expected[Str(submitted.Json().at("execution_id"))] = fmt::format("run-{}\n", i);
  }
  const auto runs = WaitAllFinished(300s);
  ASSERT_EQ(runs.size(), expected.size());
  std::set<std::string> workers;
  for (const auto& [id, run] : runs) {
    ASSERT_TRUE(expected.contains(id)) << id;
    EXPECT_EQ(run.status, "completed") << id;
    EXPECT_EQ(run.attempts, 1) << id << " ran more than once";
    EXPECT_EQ(run.stdout_text, expected[id]) << id;
    workers.insert(run.worker_id);
  }
  std::cout << fmt::format("[ scale-out ] 500 executions over {} workers\n", workers.size());
}

// Test 2: kill -9 a worker while it runs executions: they complete on the other worker
// (attempt 2); nothing stays running; nothing that had completed runs again.
TEST_F(ScaleOut, KilledWorkersRunsAreRescued) {
  ServerProcess* api = Start("api");
  ServerProcess* doomed = Start("worker");
  ASSERT_TRUE(api && doomed);
  HttpClient client(api->Port());
  // Quick ones first (they complete on the doomed worker), then slow ones it is running
  // when it dies.
  std::vector<std::string> quick;
  for (int i = 0; i < 4; ++i) {
    const HttpResult submitted = SubmitBash(client, fmt::format("echo quick-{}", i));
    ASSERT_EQ(submitted.status, 202);
    quick.push_back(Str(submitted.Json().at("execution_id")));
  }
  for (const std::string& id : quick) WaitForEnd(client, id);
  std::vector<std::string> slow;
  for (int i = 0; i < 2; ++i) {
    const HttpResult submitted = SubmitBash(client, fmt::format("sleep 2; echo slow-{}", i));
    ASSERT_EQ(submitted.status, 202);
    slow.push_back(Str(submitted.Json().at("execution_id")));
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto runs = Runs();
    if (runs[slow[0]].status == "running" && runs[slow[1]].status == "running") break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the slow runs never started";
    std::this_thread::sleep_for(20ms);
  }
  const auto before = Runs();
  doomed->Kill();
  ServerProcess* survivor = Start("worker");
  ASSERT_NE(survivor, nullptr);
  const auto runs = WaitAllFinished(120s);
  for (const auto& [id, run] : runs) EXPECT_NE(run.status, "running") << id;
  for (const std::string& id : slow) {
    EXPECT_EQ(runs.at(id).status, "completed") << id;
    EXPECT_EQ(runs.at(id).attempts, 2) << id;
    EXPECT_NE(runs.at(id).worker_id, before.at(id).worker_id) << id;
  }
  for (const std::string& id : quick) {
    EXPECT_EQ(runs.at(id).attempts, 1) << id;
    EXPECT_EQ(runs.at(id).started_at, before.at(id).started_at) << id << " ran again";
  }
  // Any process may have rescued them: the api replica or the new worker.
  const std::string series = R"(integr8scode_leases_rescued_total{outcome="requeued"})";
  const double rescued = MetricValue(HttpClient(api->Port()).Get("/metrics").body, series) +
                         MetricValue(HttpClient(survivor->Port()).Get("/metrics").body, series);
  EXPECT_EQ(rescued, 2.0);
}

// Test 3: kill -9 the api replica serving an event stream; the client resumes on the other
// with Last-Event-ID and gets the rest with no gap and no duplicate.
TEST_F(ScaleOut, EventStreamResumesOnAnotherReplica) {
  ServerProcess* api_a = Start("api");
  ServerProcess* api_b = Start("api");
  ServerProcess* worker = Start("worker");
  ASSERT_TRUE(api_a && api_b && worker);
  HttpClient client(api_a->Port());
  const HttpResult submitted =
      SubmitBash(client, "for i in 1 2 3 4 5 6 7 8; do echo line-$i; sleep 0.25; done");
  ASSERT_EQ(submitted.status, 202);
  const std::string id = Str(submitted.Json().at("execution_id"));

  RawConnection first(api_a->Port());
  ASSERT_TRUE(first.Send(EventsRequest(id)));
  first.ReadUntil("line-3", 60s);
  const std::vector<Event> head = ParseEvents(first.Received());
  ASSERT_FALSE(head.empty()) << first.Received();
  api_a->Kill();

  RawConnection second(api_b->Port());
  ASSERT_TRUE(second.Send(EventsRequest(id, head.back().id)));
  second.ReadUntil("event: result", 60s);
  const std::vector<Event> rest = ParseEvents(second.Received());
  ASSERT_FALSE(rest.empty()) << second.Received();
  std::vector<Event> all = head;
  all.insert(all.end(), rest.begin(), rest.end());
  std::string streamed;
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, i + 1) << "event ids must run 1, 2, 3… without gap or duplicate";
    if (all[i].name == "stdout") streamed += Str(boost::json::parse(all[i].data).at("data"));
  }
  EXPECT_EQ(streamed, "line-1\nline-2\nline-3\nline-4\nline-5\nline-6\nline-7\nline-8\n");
  EXPECT_EQ(all.back().name, "result");
}

// Test 5: cancel through replica B a run submitted through A and running on a worker:
// the run stops (its slot runs the next execution long before the first would have ended).
TEST_F(ScaleOut, CancelThroughAnotherReplicaStopsTheRun) {
  ServerProcess* api_a = Start("api");
  ServerProcess* api_b = Start("api");
  ServerProcess* worker = Start("worker", false, {{"sandbox.slots", "1"}, {"queue.workers", "1"}});
  ASSERT_TRUE(api_a && api_b && worker);
  HttpClient a(api_a->Port());
  HttpClient b(api_b->Port());
  const HttpResult submitted = SubmitBash(a, "echo started; sleep 60");
  ASSERT_EQ(submitted.status, 202);
  const std::string id = Str(submitted.Json().at("execution_id"));
  RawConnection stream(api_a->Port());
  ASSERT_TRUE(stream.Send(EventsRequest(id)));
  ASSERT_NE(stream.ReadUntil("started", 60s).find("started"), std::string::npos);

  const HttpResult cancelled = b.Request("POST", "/api/v1/executions/" + id + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.Describe();
  EXPECT_EQ(Str(cancelled.Json().at("status")), "cancelled");
  // The stream on A ends with the cancellation.
  stream.ReadUntil("event: result", 30s);
  EXPECT_NE(stream.Received().find(R"({"status":"cancelled"})"), std::string::npos);
  // The only slot is free again: the next run completes while `sleep 60` would still run.
  const HttpResult next = SubmitBash(b, "echo next");
  ASSERT_EQ(next.status, 202);
  const boost::json::object done =
      WaitForEnd(b, Str(next.Json().at("execution_id")), {}, std::chrono::seconds(30));
  EXPECT_EQ(Str(done.at("status")), "completed");
  EXPECT_EQ(Runs().at(id).status, "cancelled");
}

// Test 6 (the idempotency half): the same Idempotency-Key through two replicas yields the
// same execution.
TEST_F(ScaleOut, IdempotentReplayAcrossReplicas) {
  ServerProcess* api_a = Start("api");
  ServerProcess* api_b = Start("api");
  ASSERT_TRUE(api_a && api_b);
  HttpClient a(api_a->Port());
  HttpClient b(api_b->Port());
  const Account user = CreateAccount(a, "idem");
  Headers headers = user.Bearer();
  headers.emplace_back("Idempotency-Key", "key-1");
  const HttpResult first = SubmitBash(a, "echo once", headers);
  ASSERT_EQ(first.status, 202) << first.Describe();
  const HttpResult replay = SubmitBash(b, "echo once", headers);
  ASSERT_LT(replay.status, 300) << replay.Describe();
  EXPECT_EQ(Str(first.Json().at("execution_id")), Str(replay.Json().at("execution_id")));
  EXPECT_EQ(Runs().size(), 1u);
}

// Test 6 (the rate-limit half): two replicas limit a user in total, not each.
TEST_F(ScaleOut, RateLimitHoldsInTotalAcrossReplicas) {
  const std::vector<std::pair<std::string, std::string>> limits = {
      {"rate_limits.enabled", "true"}, {"rate_limits.execute_per_minute", "5"}};
  ServerProcess* api_a = Start("api", false, limits);
  ServerProcess* api_b = Start("api", false, limits);
  ASSERT_TRUE(api_a && api_b);
  HttpClient a(api_a->Port());
  HttpClient b(api_b->Port());
  const Account user = CreateAccount(a, "limited");
  int accepted = 0;
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    const HttpResult submitted = SubmitBash(i % 2 ? b : a, "echo hi", user.Bearer());
    if (submitted.status == 202) ++accepted;
    if (submitted.status == 429) {
      ++refused;
      EXPECT_FALSE(submitted.Header("retry-after").empty());
    }
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(refused, 5);
}

// Test 7: fairness. User A enqueues 200, then user B one: B's starts before A's tenth.
// Failed logins count in the database: replicas taking turns do not each get the allowance.
TEST_F(ScaleOut, LoginLockoutHoldsInTotalAcrossReplicas) {
  const std::vector<std::pair<std::string, std::string>> lockout = {
      {"auth.lockout_failures", "4"}, {"auth.lockout_duration", "10m"}};
  ServerProcess* api_a = Start("api", false, lockout);
  ServerProcess* api_b = Start("api", false, lockout);
  ASSERT_TRUE(api_a && api_b);
  HttpClient a(api_a->Port());
  HttpClient b(api_b->Port());
  CreateAccount(a, "victim");
  CreateAccount(b, "bystander");
  auto login = [](HttpClient& client, const std::string& name, const std::string& password) {
    return client.PostJson("/api/v1/auth/login",
                           boost::json::object{{"username", name}, {"password", password}});
  };
  for (int i = 1; i <= 4; ++i) {
    const HttpResult failed = login(i % 2 ? a : b, "victim", "guess-guess");
    // Two replicas counting apart would each have seen only two.
    EXPECT_EQ(failed.status, i < 4 ? 401 : 423) << "attempt " << i << ": " << failed.Describe();
  }
  for (HttpClient* client : {&a, &b}) {
    const HttpResult locked = login(*client, "victim", "password-victim");
    EXPECT_EQ(locked.status, 423) << locked.Describe();
    EXPECT_EQ(Str(locked.Json().at("code")), "account_locked");
  }
  // The lock is the pair's (name, address): another name from the same address still logs in.
  EXPECT_EQ(login(b, "bystander", "password-bystander").status, 200);
}

TEST_F(ScaleOut, AnotherOwnersSingleExecutionIsNotHeldBack) {
  ServerProcess* api = Start("api");
  ASSERT_NE(api, nullptr);
  HttpClient client(api->Port());
  const Account heavy = CreateAccount(client, "heavy");
  const Account light = CreateAccount(client, "light");
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(SubmitBash(client, "echo a", heavy.Bearer()).status, 202);
  }
  const HttpResult single = SubmitBash(client, "echo b", light.Bearer());
  ASSERT_EQ(single.status, 202);
  const std::string light_id = Str(single.Json().at("execution_id"));
  // No worker yet: all of it waits; now one with a single slot starts.
  ServerProcess* worker = Start("worker", false, {{"sandbox.slots", "1"}, {"queue.workers", "1"}});
  ASSERT_NE(worker, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  std::map<std::string, StoredRun> runs;
  for (;;) {
    runs = Runs();
    const auto started = std::count_if(runs.begin(), runs.end(),
                                       [](const auto& e) { return e.second.started_at > 0; });
    if (runs.at(light_id).started_at > 0 && started >= 10) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(50ms);
  }
  std::vector<std::pair<std::int64_t, std::string>> order;
  for (const auto& [id, run] : runs) {
    if (run.started_at > 0) order.emplace_back(run.started_at, id);
  }
  std::sort(order.begin(), order.end());
  const auto position = std::find_if(order.begin(), order.end(),
                                     [&](const auto& e) { return e.second == light_id; }) -
                        order.begin();
  EXPECT_LT(position, 9) << "B's execution started after A's tenth";
}

// Test 4: PostgreSQL restarted under load: every process recovers by itself, readiness
// says unready meanwhile, no execution is lost.
class ScaleOutRestart : public ScaleOut {
 protected:
  void SetUp() override {
    if (std::getenv("INTEGR8SCODE_TEST_POSTGRES_URL") == nullptr || !CanRunServer()) {
      GTEST_SKIP() << "needs INTEGR8SCODE_TEST_POSTGRES_URL (PostgreSQL installed) and root";
    }
    postgres_ = std::make_unique<PrivatePostgres>();
    ASSERT_TRUE(postgres_->Url().starts_with("postgres")) << postgres_->Url();
    private_url_ = postgres_->Url();
    ScaleOut::SetUp();
  }
  void TearDown() override {
    processes_.clear();
    db_.reset();
    postgres_.reset();  // the whole cluster goes, schema and all
  }
  std::unique_ptr<PrivatePostgres> postgres_;
};

TEST_F(ScaleOutRestart, ProcessesRecoverFromADatabaseRestart) {
  ServerProcess* api = Start("api");
  ServerProcess* worker = Start("worker");
  ASSERT_TRUE(api && worker);
  HttpClient client(api->Port());
  std::set<std::string> accepted;
  for (int i = 0; i < 10; ++i) {
    const HttpResult submitted = SubmitBash(client, fmt::format("sleep 0.3; echo before-{}", i));
    ASSERT_EQ(submitted.status, 202) << submitted.Describe();
    accepted.insert(Str(submitted.Json().at("execution_id")));
  }
  // Readiness, watched while the database restarts.
  std::atomic<bool> watching{true};
  std::atomic<int> api_unready{0};
  std::atomic<int> worker_unready{0};
  std::thread watcher([&] {
    HttpClient to_api(api->Port());
    HttpClient to_worker(worker->Port());
    while (watching.load()) {
      if (to_api.Get("/api/v1/health/ready").status == 503) ++api_unready;
      if (to_worker.Get("/api/v1/health/ready").status == 503) ++worker_unready;
      std::this_thread::sleep_for(10ms);
    }
  });
  db_.reset();
  ASSERT_TRUE(postgres_->Restart());
  // Both become ready again by themselves.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  HttpClient to_worker(worker->Port());
  while (client.Get("/api/v1/health/ready").status != 200 ||
         to_worker.Get("/api/v1/health/ready").status != 200) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "never ready again";
    std::this_thread::sleep_for(50ms);
  }
  watching.store(false);
  watcher.join();
  EXPECT_GT(api_unready.load(), 0) << "the api replica never said it was unready";
  EXPECT_GT(worker_unready.load(), 0) << "the worker never said it was unready";
  for (int i = 0; i < 5; ++i) {
    const HttpResult submitted = SubmitBash(client, fmt::format("echo after-{}", i));
    ASSERT_EQ(submitted.status, 202) << submitted.Describe();
    accepted.insert(Str(submitted.Json().at("execution_id")));
  }
  const auto runs = WaitAllFinished(120s);
  for (const std::string& id : accepted) {
    ASSERT_TRUE(runs.contains(id)) << id << " was lost";
    EXPECT_EQ(runs.at(id).status, "completed") << id;
  }
}

}  // namespace
}  // namespace integr8scode::testing
