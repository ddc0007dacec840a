#include "server_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "http_client.hpp"
#include "store/sql_database.hpp"

extern char** environ;

namespace integr8scode::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool CanRunServer() { return ::geteuid() == 0; }

namespace {

// INTEGR8SCODE_TEST_SERVE_ON_POSTGRES=1 (the suite's second ctest entry, "pg."): every
// server runs `serve` (role all) on INTEGR8SCODE_TEST_POSTGRES_URL instead of its SQLite
// file, in a schema of its own named after its data directory, so a restart on the same
// directory finds its data. The schemas are dropped when the test program ends.
class PostgresSchemas final : public ::testing::Environment {
 public:
  static PostgresSchemas* Instance() {
    static PostgresSchemas* const instance = [] {
      const char* on = std::getenv("INTEGR8SCODE_TEST_SERVE_ON_POSTGRES");
      if (on == nullptr || std::string_view(on) != "1")
        return static_cast<PostgresSchemas*>(nullptr);
      auto* schemas = new PostgresSchemas();
      ::testing::AddGlobalTestEnvironment(schemas);  // gtest owns it
      return schemas;
    }();
    return instance;
  }

  void SetUp() override {
    if (BaseUrl().empty()) GTEST_SKIP() << "INTEGR8SCODE_TEST_POSTGRES_URL unset";
  }

  void TearDown() override {
    std::lock_guard lock(mu_);
    if (schemas_.empty()) return;
    auto admin = OpenSqlDatabase(BaseUrl());
    if (!admin) return;
    for (const std::string& schema : schemas_) {
      (void)(*admin)->Transact(TxMode::kWrite, [&](SqlConnection& db) {
        return db.ExecuteScript("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      });
    }
  }

  // The database.url of a server with this data directory; empty (and `error` set) when
  // its schema cannot be created.
  std::string UrlFor(const fs::path& data_dir, std::string& error) {
    const std::string base = BaseUrl();
    if (base.empty()) {
      error = "INTEGR8SCODE_TEST_SERVE_ON_POSTGRES needs INTEGR8SCODE_TEST_POSTGRES_URL";
      return {};
    }
    const std::string schema =
        fmt::format("serve_{:016x}", std::hash<std::string>{}(data_dir.string()));
    auto admin = OpenSqlDatabase(base);
    if (!admin) {
      error = admin.error().Describe();
      return {};
    }
    Status created = (*admin)->Transact(TxMode::kWrite, [&](SqlConnection& db) {
      return db.ExecuteScript("CREATE SCHEMA IF NOT EXISTS " + schema);
    });
    if (!created) {
      error = created.error().Describe();
      return {};
    }
    {
      std::lock_guard lock(mu_);
      schemas_.insert(schema);
    }
    return fmt::format("{}{}options=-csearch_path%3D{}", base,
                       base.find('?') == std::string::npos ? "?" : "&", schema);
  }

 private:
  static std::string BaseUrl() {
    const char* url = std::getenv("INTEGR8SCODE_TEST_POSTGRES_URL");
    return url == nullptr ? std::string() : std::string(url);
  }

  std::mutex mu_;
  std::set<std::string> schemas_;
};

// Registered before main's RUN_ALL_TESTS, so that its SetUp and TearDown run.
[[maybe_unused]] PostgresSchemas* const kPostgresSchemas = PostgresSchemas::Instance();

}  // namespace

bool ServesOnPostgres() { return PostgresSchemas::Instance() != nullptr; }

fs::path ServerBinary() { return INTEGR8SCODE_BINARY; }

TempDir::TempDir(std::string_view prefix) {
  static std::mt19937_64 random{std::random_device{}()};
  path_ = fs::temp_directory_path() / (std::string(prefix) + "-" + std::to_string(::getpid()) +
                                       "-" + std::to_string(random() % 1000000));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const ServerOptions& options,
                                                    std::string& error) {
  auto server = std::unique_ptr<ServerProcess>(new ServerProcess());
  server->options_ = options;
  fs::create_directories(options.data_dir);
  server->log_file_ =
      options.data_dir.parent_path() / (options.data_dir.filename().string() + ".log");

  std::vector<std::string> args = {ServerBinary().string(),
                                   "serve",
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(options.port),
                                   "--data-dir",
                                   options.data_dir.string()};
  if (!options.config_file.empty()) {
    args.push_back("--config");
    args.push_back(options.config_file.string());
  }
  std::vector<std::pair<std::string, std::string>> settings = {
      {"rate_limits.enabled", "false"}, {"sandbox.slots", "2"},
      {"auth.argon2", "min"},           {"auth.jwt_secret", std::string(kJwtSecret)},
      {"server.shutdown_grace", "20s"},
  };
  settings.insert(settings.end(), options.settings.begin(), options.settings.end());
  const bool own_database = std::any_of(settings.begin(), settings.end(), [](const auto& setting) {
    return setting.first == "database.url";
  });
  if (ServesOnPostgres() && !own_database) {
    std::string url = PostgresSchemas::Instance()->UrlFor(options.data_dir, error);
    if (url.empty()) return nullptr;
    settings.emplace_back("database.url", std::move(url));
  }
  for (const auto& [key, value] : settings) {
    args.push_back("--set");
    args.push_back(key + "=" + value);
  }
  args.insert(args.begin(), options.command_prefix.begin(), options.command_prefix.end());
  const std::size_t log_start = server->Log().size();
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // The server refuses unknown INTEGR8SCODE_* variables: give it none of the harness's.
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (std::string_view(*entry).starts_with("INTEGR8SCODE_")) continue;
    env_strings.emplace_back(*entry);
  }
  std::vector<char*> envp;
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, server->log_file_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // A clean signal state: the test runner may block or ignore signals the server waits for.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int rc =
      posix_spawn(&server->pid_, argv[0], &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    error = "posix_spawn " + ServerBinary().string() + ": " + std::strerror(rc);
    return nullptr;
  }

  // The server logs {"msg":"serving",…,"port":N} once it listens. A restart on the same
  // data directory appends to the same log: only this run's lines count.
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  while (server->port_ == 0) {
    if (Clock::now() > deadline || !server->Running()) {
      error = "the server did not start; its log:\n" + server->Log();
      return nullptr;
    }
    std::istringstream lines(server->Log().substr(log_start));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("\"msg\":\"serving\"") == std::string::npos) continue;
      boost::system::error_code ec;
      const boost::json::value value = boost::json::parse(line, ec);
      if (!ec && value.is_object() && value.as_object().contains("port")) {
        server->port_ = static_cast<std::uint16_t>(value.at("port").to_number<int>());
      }
    }
    if (server->port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  HttpClient client(server->port_, options.tls);
  while (true) {
    const HttpResult ready = client.Get("/api/v1/health/ready");
    if (ready.status == 200) break;
    if (Clock::now() > deadline || !server->Running()) {
      error =
          "the server never became ready (" + ready.Describe() + "); its log:\n" + server->Log();
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return server;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && exit_status_ < 0) Terminate();
}

std::string ServerProcess::Log() const {
  std::ifstream file(log_file_);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

bool ServerProcess::Running() {
  if (exit_status_ >= 0) return false;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int ServerProcess::Wait() {
  if (exit_status_ >= 0) return exit_status_;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_status_;
}

int ServerProcess::Terminate() {
  if (exit_status_ >= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Running()) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      return Wait();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

void ServerProcess::Kill() {
  if (exit_status_ >= 0) return;
  ::kill(pid_, SIGKILL);
  Wait();
}

}  // namespace integr8scode::testing
