#pragma once

// Helpers shared by the API integration suites: a server per suite, accounts, polling
// an execution to its end.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "http_client.hpp"
#include "server_process.hpp"

namespace integr8scode::testing {

struct Account {
  std::int64_t id = 0;
  std::string username;
  std::string token;
  std::string csrf;
  Headers Bearer() const { return {{"Authorization", "Bearer " + token}}; }
  // What a browser sends: the session cookie (and, for unsafe methods, the CSRF token).
  Headers Cookie(bool with_csrf) const;
};

// Registers `username` (password "password-<username>") and logs in. Fails the test
// on any error.
Account CreateAccount(HttpClient& client, const std::string& username);
Account Login(HttpClient& client, const std::string& username, const std::string& password);

// GET /api/v1/executions/{id} until the status is terminal (at most `timeout`).
boost::json::object WaitForEnd(HttpClient& client, const std::string& id,
                               const Headers& headers = {},
                               std::chrono::seconds timeout = std::chrono::seconds(60));
bool IsTerminalStatus(std::string_view status);

// POST /execute of a Python 3.11 script; returns the response.
HttpResult Submit(HttpClient& client, const std::string& script, const Headers& headers = {},
                  std::string_view query = {});

std::string Str(const boost::json::value& value);  // a JSON string's text, else its serialization

// One server for all tests of a suite: start it in SetUpTestSuite, stop it in
// TearDownTestSuite. Skips (not fails) the suite without root.
class ServerSuite : public ::testing::Test {
 protected:
  static void StartServer(std::vector<std::pair<std::string, std::string>> settings = {});
  static void StopServer();
  static ServerProcess& Server() { return *server_; }
  static std::uint16_t Port() { return server_->Port(); }
  void SetUp() override;

  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<ServerProcess> server_;
  static std::string start_error_;
};

}  // namespace integr8scode::testing
