#pragma once

// Starts the real `integr8scode serve` binary on 127.0.0.1 with a free port and a temp
// data directory, for the integration tests; stops it with SIGTERM (or kill -9).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace integr8scode::testing {

// True when this process may run the server's sandbox (root). Suites skip otherwise.
bool CanRunServer();
// The servers run on PostgreSQL (INTEGR8SCODE_TEST_SERVE_ON_POSTGRES=1, the "pg." ctest
// entries): each gets a schema of its own in INTEGR8SCODE_TEST_POSTGRES_URL.
bool ServesOnPostgres();

// A fresh directory under the temp dir, removed on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix);
  ~TempDir();
  const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct ServerOptions {
  std::filesystem::path data_dir;  // required; reuse it to restart "the same" server
  // --set KEY=VALUE settings on top of the test defaults (rate limits off, 2 sandbox
  // slots, cheap Argon2, a fixed JWT secret).
  std::vector<std::pair<std::string, std::string>> settings;
  std::filesystem::path config_file;  // optional --config
  std::uint16_t port = 0;             // 0: any free port
  bool tls = false;                   // the server speaks HTTPS (server.tls_cert is set)
  // Run through this command first, e.g. {"/usr/bin/setpriv", "--reuid=65534", …, "--"}:
  // it must exec the server in place (the same pid).
  std::vector<std::string> command_prefix;
};

class ServerProcess {
 public:
  // Starts the server and waits until /api/v1/health/ready answers 200. On failure
  // returns null and fills `error` with what happened and the server's log.
  static std::unique_ptr<ServerProcess> Start(const ServerOptions& options, std::string& error);
  ~ServerProcess();  // SIGTERM, then SIGKILL if it does not stop within a minute

  std::uint16_t Port() const { return port_; }
  pid_t Pid() const { return pid_; }
  std::string Log() const;  // its standard error so far
  const std::filesystem::path& DataDir() const { return options_.data_dir; }

  // SIGTERM and wait; returns the exit status (or 128 + signal).
  int Terminate();
  // kill -9 and reap.
  void Kill();
  bool Running();

  static constexpr std::string_view kJwtSecret = "integration-test-secret-0123456789abcdef";

 private:
  ServerProcess() = default;
  int Wait();

  ServerOptions options_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path log_file_;
  int exit_status_ = -1;
};

// The built binary (from CMake).
std::filesystem::path ServerBinary();

}  // namespace integr8scode::testing
