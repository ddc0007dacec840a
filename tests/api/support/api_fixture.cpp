#include "api_fixture.hpp"

#include <thread>

namespace integr8scode::testing {

std::unique_ptr<TempDir> ServerSuite::dir_;
std::unique_ptr<ServerProcess> ServerSuite::server_;
std::string ServerSuite::start_error_;

Headers Account::Cookie(bool with_csrf) const {
  Headers headers = {{"Cookie", "integr8scode_session=" + token + "; integr8scode_csrf=" + csrf}};
  if (with_csrf) headers.emplace_back("X-CSRF-Token", csrf);
  return headers;
}

std::string Str(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.as_string());
  return boost::json::serialize(value);
}

Account Login(HttpClient& client, const std::string& username, const std::string& password) {
  Account account;
  account.username = username;
  const HttpResult login = client.PostJson(
      "/api/v1/auth/login", boost::json::object{{"username", username}, {"password", password}});
  EXPECT_EQ(login.status, 200) << login.Describe();
  const boost::json::value body = login.Json();
  if (login.status != 200 || !body.is_object()) return account;
  account.token = Str(body.at("access_token"));
  account.csrf = Str(body.at("csrf_token"));
  account.id = body.at("user").at("id").to_number<std::int64_t>();
  return account;
}

Account CreateAccount(HttpClient& client, const std::string& username) {
  const HttpResult created = client.PostJson(
      "/api/v1/auth/register", boost::json::object{{"username", username},
                                                   {"email", username + "@example.com"},
                                                   {"password", "password-" + username}});
  EXPECT_EQ(created.status, 201) << created.Describe();
  return Login(client, username, "password-" + username);
}

bool IsTerminalStatus(std::string_view status) { return status != "queued" && status != "running"; }

boost::json::object WaitForEnd(HttpClient& client, const std::string& id, const Headers& headers,
                               std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const HttpResult result = client.Get("/api/v1/executions/" + id, headers);
    if (result.status != 200) {
      ADD_FAILURE() << "GET execution " << id << ": " << result.Describe();
      return {};
    }
    boost::json::object execution = result.Json().as_object();
    if (IsTerminalStatus(Str(execution.at("status")))) return execution;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "execution " << id << " did not end: " << result.body;
      return execution;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

HttpResult Submit(HttpClient& client, const std::string& script, const Headers& headers,
                  std::string_view query) {
  return client.PostJson(
      "/api/v1/execute" + std::string(query),
      boost::json::object{{"script", script}, {"lang", "python"}, {"lang_version", "3.11"}},
      headers);
}

void ServerSuite::StartServer(std::vector<std::pair<std::string, std::string>> settings) {
  if (!CanRunServer()) return;
  dir_ = std::make_unique<TempDir>("integr8scode-api");
  ServerOptions options;
  options.data_dir = dir_->Path() / "data";
  for (const auto& [key, value] : settings) options.tls = options.tls || key == "server.tls_cert";
  options.settings = std::move(settings);
  server_ = ServerProcess::Start(options, start_error_);
}

void ServerSuite::StopServer() {
  server_.reset();
  dir_.reset();
}

void ServerSuite::SetUp() {
  if (!CanRunServer()) GTEST_SKIP() << "the server's sandbox needs root";
  ASSERT_NE(server_, nullptr) << start_error_;
}

}  // namespace integr8scode::testing
