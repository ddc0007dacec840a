// Sharing an execution: the owner makes it readable by anyone with the id and takes that
// back; nobody else can share, revoke, cancel or see a private one (404, never 403, so an id
// is never confirmed), and an anonymous run has nothing to share.
#include <gtest/gtest.h>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class Share : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() { StopServer(); }
};

std::string SharePath(const std::string& id) { return "/api/v1/executions/" + id + "/share"; }

TEST_F(Share, OwnerSharesAndRevokesOthersOnlyRead) {
  HttpClient client(Port());
  const Account a = CreateAccount(client, "share-owner");
  const Account b = CreateAccount(client, "share-other");
  const HttpResult run = Submit(client, "print('shared by A')", a.Bearer(), "?wait=true");
  ASSERT_EQ(run.status, 200) << run.Describe();
  const std::string id = Str(run.Json().at("execution_id"));
  EXPECT_FALSE(run.Json().at("public").as_bool());

  // Private: B and an anonymous caller see nothing and cannot share it.
  for (const Headers& who : {b.Bearer(), Headers{}}) {
    EXPECT_EQ(client.Get("/api/v1/executions/" + id, who).status, 404);
  }
  EXPECT_EQ(client.Request("PUT", SharePath(id), {}, b.Bearer()).status, 404);
  EXPECT_EQ(client.Request("PUT", SharePath(id), {}, {}).status, 401);

  const HttpResult shared = client.Request("PUT", SharePath(id), {}, a.Bearer());
  ASSERT_EQ(shared.status, 200) << shared.Describe();
  EXPECT_TRUE(shared.Json().at("public").as_bool());

  // Shared: anyone with the id reads the script, output and status, and follows its events.
  for (const Headers& who : {b.Bearer(), Headers{}}) {
    const HttpResult read = client.Get("/api/v1/executions/" + id, who);
    ASSERT_EQ(read.status, 200) << read.Describe();
    EXPECT_EQ(Str(read.Json().at("stdout")), "shared by A\n");
    EXPECT_EQ(Str(read.Json().at("script")), "print('shared by A')");
    EXPECT_EQ(Str(read.Json().at("status")), "completed");
    EXPECT_TRUE(read.Json().at("public").as_bool());
    const HttpResult events = client.Get("/api/v1/executions/" + id + "/events", who);
    EXPECT_EQ(events.status, 200);
    EXPECT_NE(events.body.find("event: result"), std::string::npos);
    // Reading is all: B cannot revoke it or share it again, and it is not in B's history.
    EXPECT_EQ(client.Request("DELETE", SharePath(id), {}, who).status, who.empty() ? 401 : 404);
  }
  EXPECT_EQ(client.Get("/api/v1/executions", b.Bearer()).Json().at("total").to_number<int>(), 0);
  EXPECT_TRUE(client.Get("/api/v1/executions/" + id, Headers{}).Json().at("public").as_bool())
      << "the failed revocations changed nothing";

  const HttpResult revoked = client.Request("DELETE", SharePath(id), {}, a.Bearer());
  ASSERT_EQ(revoked.status, 200) << revoked.Describe();
  EXPECT_FALSE(revoked.Json().at("public").as_bool());
  for (const Headers& who : {b.Bearer(), Headers{}}) {
    EXPECT_EQ(client.Get("/api/v1/executions/" + id, who).status, 404);
    EXPECT_EQ(client.Get("/api/v1/result/" + id, who).status, 404);
  }
  EXPECT_EQ(client.Get("/api/v1/executions/" + id, a.Bearer()).status, 200);
}

TEST_F(Share, ASharedRunningExecutionCannotBeCancelledByItsReaders) {
  HttpClient client(Port());
  const Account a = CreateAccount(client, "share-runner");
  const Account b = CreateAccount(client, "share-reader");
  const HttpResult pending = Submit(client, "import time\ntime.sleep(30)", a.Bearer());
  ASSERT_EQ(pending.status, 202);
  const std::string id = Str(pending.Json().at("execution_id"));
  ASSERT_EQ(client.Request("PUT", SharePath(id), {}, a.Bearer()).status, 200);
  for (const Headers& who : {b.Bearer(), Headers{}}) {
    EXPECT_EQ(client.Get("/api/v1/executions/" + id, who).status, 200);
    EXPECT_EQ(client.Request("POST", "/api/v1/executions/" + id + "/cancel", {}, who).status, 404);
    EXPECT_EQ(client.Request("DELETE", "/api/v1/executions/" + id, {}, who).status, 404);
  }
  const HttpResult status = client.Get("/api/v1/executions/" + id, a.Bearer());
  EXPECT_NE(Str(status.Json().at("status")), "cancelled") << status.body;
  EXPECT_EQ(client.Request("POST", "/api/v1/executions/" + id + "/cancel", {}, a.Bearer()).status,
            200);
}

TEST_F(Share, AnonymousRunsAndUnknownIdsHaveNothingToShare) {
  HttpClient client(Port());
  const Account c = CreateAccount(client, "share-c");
  const HttpResult run = Submit(client, "print('anonymous')", {}, "?wait=true");
  ASSERT_EQ(run.status, 200);
  const std::string id = Str(run.Json().at("execution_id"));
  const HttpResult refused = client.Request("PUT", SharePath(id), {}, c.Bearer());
  EXPECT_EQ(refused.status, 409) << refused.Describe();
  EXPECT_EQ(client.Request("PUT", SharePath("00000000-0000-4000-8000-000000000000"), {}, c.Bearer())
                .status,
            404);
}

TEST_F(Share, ABrowserSessionNeedsTheCsrfToken) {
  HttpClient client(Port());
  const Account a = CreateAccount(client, "share-cookie");
  const HttpResult run = Submit(client, "print(1)", a.Bearer(), "?wait=true");
  ASSERT_EQ(run.status, 200);
  const std::string id = Str(run.Json().at("execution_id"));
  EXPECT_EQ(client.Request("PUT", SharePath(id), {}, a.Cookie(false)).status, 403);
  EXPECT_FALSE(client.Get("/api/v1/executions/" + id, a.Bearer()).Json().at("public").as_bool());
  EXPECT_EQ(client.Request("PUT", SharePath(id), {}, a.Cookie(true)).status, 200);
}

}  // namespace
}  // namespace integr8scode::testing
