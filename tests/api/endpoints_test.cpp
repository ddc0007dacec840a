// Every route of docs/api.md against a real server: the shapes, statuses and headers the
// contract promises.
#include <gtest/gtest.h>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class Endpoints : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    StartServer({{"auth.admin_username", "admin"}, {"auth.admin_password", "admin-password"}});
  }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(Endpoints, HealthAnswers) {
  HttpClient client(Port());
  const HttpResult live = client.Get("/api/v1/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(Str(live.Json().at("status")), "ok");
  const HttpResult ready = client.Get("/api/v1/health/ready");
  ASSERT_EQ(ready.status, 200) << ready.Describe();
  EXPECT_EQ(Str(ready.Json().at("status")), "ready");
  EXPECT_EQ(Str(ready.Json().at("checks").at("store")), "ok");
  EXPECT_EQ(Str(ready.Json().at("checks").at("sandbox")), "ok");
}

TEST_F(Endpoints, EveryAnswerCarriesARequestId) {
  HttpClient client(Port());
  const HttpResult generated = client.Get("/api/v1/runtimes");
  EXPECT_EQ(generated.Header("x-request-id").size(), 32u);
  const HttpResult echoed = client.Get("/api/v1/runtimes", {{"X-Request-Id", "trace-42.a:b"}});
  EXPECT_EQ(echoed.Header("x-request-id"), "trace-42.a:b");
  const HttpResult replaced =
      client.Get("/api/v1/nowhere", {{"X-Request-Id", "bad id with spaces"}});
  EXPECT_EQ(replaced.Header("x-request-id").size(), 32u);
  EXPECT_EQ(Str(replaced.Json().at("request_id")), replaced.Header("x-request-id"));
}

TEST_F(Endpoints, RuntimesLimitsAndExamples) {
  HttpClient client(Port());
  const HttpResult runtimes = client.Get("/api/v1/runtimes");
  ASSERT_EQ(runtimes.status, 200);
  bool python311 = false;
  const boost::json::value runtimes_body = runtimes.Json();
  for (const auto& runtime : runtimes_body.at("runtimes").as_array()) {
    for (const char* key : {"lang", "version", "display_name", "implementation", "file_extension",
                            "editor_mode", "available", "reason", "has_compile", "source"}) {
      EXPECT_TRUE(runtime.as_object().contains(key)) << key;
    }
    if (Str(runtime.at("lang")) == "python" && Str(runtime.at("version")) == "3.11") {
      python311 = runtime.at("available").as_bool();
    }
  }
  EXPECT_TRUE(python311);

  const HttpResult limits = client.Get("/api/v1/limits");
  ASSERT_EQ(limits.status, 200);
  EXPECT_EQ(limits.Json().at("defaults").at("memory_bytes").to_number<std::int64_t>(), 128 << 20);
  EXPECT_EQ(limits.Json().at("maximum").at("timeout_ms").to_number<std::int64_t>(), 30000);
  EXPECT_TRUE(limits.Json().at("runtimes").is_array());

  const HttpResult k8s = client.Get("/api/v1/k8s-limits");
  ASSERT_EQ(k8s.status, 200);
  EXPECT_EQ(Str(k8s.Json().at("cpu_limit")), "1000m");
  EXPECT_EQ(Str(k8s.Json().at("memory_limit")), "128Mi");
  EXPECT_EQ(k8s.Json().at("execution_timeout").to_number<int>(), 5);
  const boost::json::value k8s_body = k8s.Json();
  const auto& python = k8s_body.at("supported_runtimes").at("python").as_array();
  EXPECT_NE(std::find(python.begin(), python.end(), boost::json::value("3.11")), python.end());
  // Every runtime, installed or not, beside the original's list of those installed.
  EXPECT_EQ(k8s_body.at("runtimes").as_array().size(),
            runtimes_body.at("runtimes").as_array().size());

  const HttpResult examples = client.Get("/api/v1/example-scripts");
  ASSERT_EQ(examples.status, 200);
  bool match_example = false;
  const boost::json::value examples_body = examples.Json();
  for (const auto& example : examples_body.at("scripts").as_array()) {
    EXPECT_TRUE(example.as_object().contains("display_name"));
    EXPECT_TRUE(example.as_object().contains("available"));
    if (Str(example.at("lang")) == "python" && Str(example.at("version")) == "3.11") {
      match_example = Str(example.at("script")).find("match") != std::string::npos;
      EXPECT_TRUE(example.at("available").as_bool());
    }
  }
  EXPECT_TRUE(match_example) << examples.body;
}

TEST_F(Endpoints, ExecuteThenReadByBothPaths) {
  HttpClient client(Port());
  const HttpResult submitted = Submit(client, "print('hi')");
  ASSERT_EQ(submitted.status, 202) << submitted.Describe();
  const std::string id = Str(submitted.Json().at("execution_id"));
  EXPECT_EQ(Str(submitted.Json().at("status")), "queued");
  EXPECT_EQ(submitted.Header("location"), "/api/v1/executions/" + id);

  const boost::json::object done = WaitForEnd(client, id);
  EXPECT_EQ(Str(done.at("status")), "completed");
  EXPECT_EQ(Str(done.at("stdout")), "hi\n");
  EXPECT_EQ(done.at("exit_code").to_number<int>(), 0);
  EXPECT_TRUE(done.at("signal").is_null());
  EXPECT_GT(done.at("resource_usage").at("wall_time_ms").to_number<std::int64_t>(), 0);
  EXPECT_TRUE(done.at("owner_id").is_null());
  EXPECT_EQ(done.at("attempts").to_number<int>(), 1);
  EXPECT_FALSE(done.at("finished_at").is_null());

  const HttpResult original = client.Get("/api/v1/result/" + id);
  ASSERT_EQ(original.status, 200);
  EXPECT_EQ(original.Json(), boost::json::value(done));
}

TEST_F(Endpoints, WaitAnswersWithTheFinishedResult) {
  HttpClient client(Port());
  const HttpResult result =
      Submit(client, "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)", {},
             "?wait=true");
  ASSERT_EQ(result.status, 200) << result.Describe();
  const boost::json::value body = result.Json();
  EXPECT_EQ(Str(body.at("status")), "failed");
  EXPECT_EQ(body.at("exit_code").to_number<int>(), 3);
  EXPECT_EQ(Str(body.at("stdout")), "out\n");
  EXPECT_EQ(Str(body.at("stderr")), "err\n");
}

TEST_F(Endpoints, WaitWithLimitsAppliesThem) {
  HttpClient client(Port());
  const HttpResult result = client.PostJson(
      "/api/v1/execute?wait=true",
      boost::json::object{{"script", "import time\ntime.sleep(10)"},
                          {"lang", "python"},
                          {"lang_version", "3.11"},
                          {"limits", {{"timeout_ms", 500}, {"memory_bytes", 64 << 20}}}});
  ASSERT_EQ(result.status, 200) << result.Describe();
  EXPECT_EQ(Str(result.Json().at("status")), "timed_out");
  EXPECT_EQ(result.Json().at("limits").at("timeout_ms").to_number<int>(), 500);
  EXPECT_EQ(result.Json().at("limits").at("memory_bytes").to_number<std::int64_t>(), 64 << 20);
  EXPECT_FALSE(result.Json().at("message").is_null());
}

TEST_F(Endpoints, CancelStopsARunAndRefusesTwice) {
  HttpClient client(Port());
  const HttpResult submitted =
      Submit(client, "import time\nprint('started', flush=True)\ntime.sleep(20)");
  ASSERT_EQ(submitted.status, 202);
  const std::string id = Str(submitted.Json().at("execution_id"));
  const HttpResult cancelled = client.Request("POST", "/api/v1/executions/" + id + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.Describe();
  EXPECT_EQ(Str(cancelled.Json().at("status")), "cancelled");
  const HttpResult again = client.Request("POST", "/api/v1/executions/" + id + "/cancel");
  EXPECT_EQ(again.status, 409) << again.Describe();
  EXPECT_EQ(Str(again.Json().at("code")), "conflict");
  EXPECT_EQ(Str(WaitForEnd(client, id).at("status")), "cancelled");
}

TEST_F(Endpoints, RetryRunsTheSameProgramAgain) {
  HttpClient client(Port());
  const HttpResult first =
      client.PostJson("/api/v1/execute?wait=true", boost::json::object{{"script", "print(input())"},
                                                                       {"lang", "python"},
                                                                       {"lang_version", "3.11"},
                                                                       {"stdin", "echoed"}});
  ASSERT_EQ(first.status, 200) << first.Describe();
  const std::string id = Str(first.Json().at("execution_id"));
  const HttpResult retried = client.Request("POST", "/api/v1/executions/" + id + "/retry");
  ASSERT_EQ(retried.status, 202) << retried.Describe();
  const std::string new_id = Str(retried.Json().at("execution_id"));
  EXPECT_NE(new_id, id);
  EXPECT_EQ(retried.Header("location"), "/api/v1/executions/" + new_id);
  const boost::json::object done = WaitForEnd(client, new_id);
  EXPECT_EQ(Str(done.at("stdout")), "echoed\n");
  EXPECT_EQ(Str(done.at("retry_of")), id);
}

TEST_F(Endpoints, AccountsLifecycle) {
  HttpClient client(Port());
  const HttpResult registered =
      client.PostJson("/api/v1/auth/register", boost::json::object{{"username", "grace"},
                                                                   {"email", "grace@example.com"},
                                                                   {"password", "hopper-1906"}});
  ASSERT_EQ(registered.status, 201) << registered.Describe();
  EXPECT_EQ(Str(registered.Json().at("username")), "grace");
  EXPECT_EQ(Str(registered.Json().at("role")), "user");
  EXPECT_FALSE(registered.Json().as_object().contains("password_hash"));

  const HttpResult taken =
      client.PostJson("/api/v1/auth/register", boost::json::object{{"username", "grace"},
                                                                   {"email", "other@example.com"},
                                                                   {"password", "hopper-1906"}});
  EXPECT_EQ(taken.status, 409) << taken.Describe();

  const HttpResult login =
      client.PostJson("/api/v1/auth/login",
                      boost::json::object{{"username", "grace"}, {"password", "hopper-1906"}});
  ASSERT_EQ(login.status, 200) << login.Describe();
  const boost::json::value body = login.Json();
  EXPECT_EQ(Str(body.at("token_type")), "bearer");
  EXPECT_GT(body.at("expires_in").to_number<std::int64_t>(), 0);
  const std::vector<std::string> cookies = login.AllHeaders("set-cookie");
  ASSERT_EQ(cookies.size(), 2u);
  EXPECT_NE(cookies[0].find("integr8scode_session=" + Str(body.at("access_token"))),
            std::string::npos);
  EXPECT_NE(cookies[0].find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookies[0].find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookies[1].find("integr8scode_csrf=" + Str(body.at("csrf_token"))), std::string::npos);
  EXPECT_EQ(cookies[1].find("HttpOnly"), std::string::npos);

  const Headers bearer = {{"Authorization", "Bearer " + Str(body.at("access_token"))}};
  const HttpResult me = client.Get("/api/v1/auth/me", bearer);
  ASSERT_EQ(me.status, 200) << me.Describe();
  EXPECT_EQ(Str(me.Json().at("email")), "grace@example.com");

  const HttpResult logout = client.Request("POST", "/api/v1/auth/logout", {}, bearer);
  EXPECT_EQ(logout.status, 204) << logout.Describe();
  EXPECT_NE(logout.AllHeaders("set-cookie").at(0).find("Max-Age=0"), std::string::npos);
  const HttpResult revoked = client.Get("/api/v1/auth/me", bearer);
  EXPECT_EQ(revoked.status, 401) << revoked.Describe();
}

TEST_F(Endpoints, OwnHistoryIsPagedNewestFirstAndFiltered) {
  HttpClient client(Port());
  const Account ada = CreateAccount(client, "ada");
  std::vector<std::string> ids;
  for (const char* script : {"print(1)", "print(2)", "import sys\nsys.exit(1)"}) {
    const HttpResult result = Submit(client, script, ada.Bearer(), "?wait=true");
    ASSERT_EQ(result.status, 200) << result.Describe();
    EXPECT_EQ(result.Json().at("owner_id").to_number<std::int64_t>(), ada.id);
    ids.push_back(Str(result.Json().at("execution_id")));
  }
  const HttpResult page = client.Get("/api/v1/executions?limit=2", ada.Bearer());
  ASSERT_EQ(page.status, 200) << page.Describe();
  const boost::json::value body = page.Json();
  EXPECT_EQ(body.at("total").to_number<int>(), 3);
  EXPECT_EQ(body.at("limit").to_number<int>(), 2);
  ASSERT_EQ(body.at("items").as_array().size(), 2u);
  const boost::json::object& newest = body.at("items").as_array()[0].as_object();
  EXPECT_EQ(Str(newest.at("execution_id")), ids[2]);
  EXPECT_FALSE(newest.contains("script"));
  EXPECT_FALSE(newest.contains("stdout"));
  EXPECT_TRUE(newest.contains("stdout_preview"));

  const HttpResult second = client.Get("/api/v1/executions?limit=2&offset=2", ada.Bearer());
  ASSERT_EQ(second.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(Str(second.Json().at("items").as_array()[0].at("execution_id")), ids[0]);
  EXPECT_EQ(Str(second.Json().at("items").as_array()[0].at("stdout_preview")), "1\n");

  const HttpResult failed = client.Get("/api/v1/executions?status=failed", ada.Bearer());
  ASSERT_EQ(failed.status, 200);
  ASSERT_EQ(failed.Json().at("total").to_number<int>(), 1);
  EXPECT_EQ(Str(failed.Json().at("items").as_array()[0].at("execution_id")), ids[2]);
  EXPECT_EQ(
      client.Get("/api/v1/executions?lang=node", ada.Bearer()).Json().at("total").to_number<int>(),
      0);

  EXPECT_EQ(client.Get("/api/v1/executions").status, 401);
  EXPECT_EQ(client.Get("/api/v1/executions?status=done", ada.Bearer()).status, 422);
  EXPECT_EQ(client.Get("/api/v1/executions?limit=0", ada.Bearer()).status, 422);
  EXPECT_EQ(client.Get("/api/v1/executions?limit=abc", ada.Bearer()).status, 422);
}

TEST_F(Endpoints, SavedScriptsLifecycle) {
  HttpClient client(Port());
  const Account linus = CreateAccount(client, "linus");
  const boost::json::object draft{{"name", "hello"},
                                  {"lang", "python"},
                                  {"lang_version", "3.11"},
                                  {"script", "print('hello')"}};
  const HttpResult created = client.PostJson("/api/v1/scripts", draft, linus.Bearer());
  ASSERT_EQ(created.status, 201) << created.Describe();
  const std::string id = Str(created.Json().at("id"));
  EXPECT_EQ(created.Header("location"), "/api/v1/scripts/" + id);
  EXPECT_EQ(Str(created.Json().at("script")), "print('hello')");

  boost::json::object renamed = draft;
  renamed["name"] = "hello again";
  const HttpResult updated = client.PutJson("/api/v1/scripts/" + id, renamed, linus.Bearer());
  ASSERT_EQ(updated.status, 200) << updated.Describe();
  EXPECT_EQ(Str(updated.Json().at("name")), "hello again");

  const HttpResult listed = client.Get("/api/v1/scripts", linus.Bearer());
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(Str(client.Get("/api/v1/scripts/" + id, linus.Bearer()).Json().at("name")),
            "hello again");

  boost::json::object partial = draft;
  partial.erase("script");
  const HttpResult incomplete = client.PutJson("/api/v1/scripts/" + id, partial, linus.Bearer());
  EXPECT_EQ(incomplete.status, 422);
  EXPECT_EQ(Str(incomplete.Json().at("field")), "script");

  EXPECT_EQ(client.Delete("/api/v1/scripts/" + id, linus.Bearer()).status, 204);
  EXPECT_EQ(client.Get("/api/v1/scripts/" + id, linus.Bearer()).status, 404);
  EXPECT_EQ(client.Get("/api/v1/scripts").status, 401);
}

TEST_F(Endpoints, AdminRoutesAreForAdminsOnly) {
  HttpClient client(Port());
  const Account user = CreateAccount(client, "mallory");
  EXPECT_EQ(client.Get("/api/v1/admin/stats").status, 401);
  const HttpResult forbidden = client.Get("/api/v1/admin/stats", user.Bearer());
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(Str(forbidden.Json().at("code")), "forbidden");

  const Account admin = Login(client, "admin", "admin-password");
  ASSERT_EQ(Str(client.Get("/api/v1/auth/me", admin.Bearer()).Json().at("role")), "admin");
  ASSERT_EQ(Submit(client, "print('by mallory')", user.Bearer(), "?wait=true").status, 200);

  const HttpResult stats = client.Get("/api/v1/admin/stats", admin.Bearer());
  ASSERT_EQ(stats.status, 200) << stats.Describe();
  EXPECT_GE(stats.Json().at("executions_by_status").at("completed").to_number<int>(), 1);
  EXPECT_GE(stats.Json().at("users").to_number<int>(), 2);
  EXPECT_EQ(stats.Json().at("workers").to_number<int>(), 2);
  EXPECT_TRUE(stats.Json().at("queue_depth").is_number());

  const HttpResult users = client.Get("/api/v1/admin/users?limit=100", admin.Bearer());
  ASSERT_EQ(users.status, 200) << users.Describe();
  EXPECT_GE(users.Json().at("total").to_number<int>(), 2);

  const HttpResult all = client.Get("/api/v1/admin/executions?limit=100", admin.Bearer());
  ASSERT_EQ(all.status, 200) << all.Describe();
  bool found = false;
  const boost::json::value all_body = all.Json();
  for (const auto& item : all_body.at("items").as_array()) {
    found = found || (item.at("owner_id").is_int64() && item.at("owner_id").as_int64() == user.id);
  }
  EXPECT_TRUE(found);
}

TEST_F(Endpoints, DocumentsAndMetrics) {
  HttpClient client(Port());
  const HttpResult openapi = client.Get("/api/v1/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  EXPECT_TRUE(Str(openapi.Json().at("openapi")).starts_with("3.1"));
  EXPECT_TRUE(openapi.Json().at("paths").as_object().contains("/api/v1/execute"));

  ASSERT_EQ(Submit(client, "print(1)", {}, "?wait=true").status, 200);
  const HttpResult metrics = client.Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(metrics.Header("content-type").starts_with("text/plain; version=0.0.4"));
  EXPECT_NE(
      metrics.body.find(
          R"(integr8scode_http_requests_total{code="200",method="GET",route="/api/v1/openapi.json"})"),
      std::string::npos)
      << metrics.body.substr(0, 3000);
  EXPECT_NE(
      metrics.body.find(
          R"(integr8scode_executions_total{lang="python",status="completed",version="3.11"})"),
      std::string::npos);
  EXPECT_NE(metrics.body.find("integr8scode_sandbox_setup_seconds_count"), std::string::npos);
}

TEST_F(Endpoints, UnknownRoutesAndWrongMethodsAreProblems) {
  HttpClient client(Port());
  const HttpResult missing = client.Get("/api/v1/nothing-here");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Header("content-type"), "application/problem+json");
  EXPECT_EQ(Str(missing.Json().at("code")), "not_found");

  const HttpResult wrong = client.Request("DELETE", "/api/v1/execute");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("allow"), "POST");
  EXPECT_EQ(Str(wrong.Json().at("code")), "method_not_allowed");

  const HttpResult head = client.Request("HEAD", "/api/v1/runtimes");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_GT(std::stoi(head.Header("content-length")), 100);
}

TEST_F(Endpoints, OneConnectionServesManyRequests) {
  HttpClient client(Port());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.Get("/api/v1/health/live").status, 200);
  EXPECT_EQ(client.Connections(), 1);
}

TEST_F(Endpoints, WebUiAndDocsAreServed) {
  HttpClient client(Port());
  const HttpResult page = client.Get("/api/v1/openapi.json");
  ASSERT_EQ(page.status, 200);
  const HttpResult index = client.Get("/");
  if (index.status == 404) GTEST_SKIP() << "web/dist is not built here";
  EXPECT_EQ(index.status, 200);
  EXPECT_TRUE(index.Header("content-type").starts_with("text/html"));
  EXPECT_EQ(index.Header("cache-control"), "no-cache");
  const HttpResult route = client.Get("/history");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, index.body);
  const HttpResult docs = client.Get("/docs");
  EXPECT_EQ(docs.status, 200);
  EXPECT_NE(docs.body.find("openapi.json"), std::string::npos);
  EXPECT_EQ(client.Get("/api/v1/definitely-not-a-route").status,
            404);  // no index.html fallback under /api
}

}  // namespace
}  // namespace integr8scode::testing
