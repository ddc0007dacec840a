// Idempotency-Key: the same key and body from the same caller is the same execution.
#include <gtest/gtest.h>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class Idempotency : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(Idempotency, SameKeySameBodyIsTheSameExecution) {
  HttpClient client(Port());
  const Headers key = {{"Idempotency-Key", "order-1-3f9c2b7e4d1a"}};
  const HttpResult first = Submit(client, "print('once')", key);
  ASSERT_EQ(first.status, 202) << first.Describe();
  const std::string id = Str(first.Json().at("execution_id"));
  const HttpResult second = Submit(client, "print('once')", key);
  ASSERT_EQ(second.status, 200) << second.Describe();
  EXPECT_EQ(Str(second.Json().at("execution_id")), id);
  EXPECT_EQ(second.Header("idempotent-replayed"), "true");
  EXPECT_EQ(second.Header("location"), "/api/v1/executions/" + id);
  // ?wait=true on a replay answers with the result of that one execution.
  const HttpResult waited = Submit(client, "print('once')", key, "?wait=true");
  ASSERT_EQ(waited.status, 200) << waited.Describe();
  EXPECT_EQ(Str(waited.Json().at("execution_id")), id);
  EXPECT_EQ(Str(waited.Json().at("stdout")), "once\n");
  EXPECT_EQ(waited.Json().at("attempts").to_number<int>(), 1);
}

TEST_F(Idempotency, SameKeyOtherBodyIsAConflict) {
  HttpClient client(Port());
  const Headers key = {{"Idempotency-Key", "order-2-8a6e1d0c5b9f"}};
  ASSERT_EQ(Submit(client, "print('a')", key).status, 202);
  const HttpResult other = Submit(client, "print('b')", key);
  EXPECT_EQ(other.status, 409) << other.Describe();
  EXPECT_EQ(Str(other.Json().at("code")), "conflict");
}

TEST_F(Idempotency, KeysAreScopedToTheCaller) {
  HttpClient client(Port());
  const Account u1 = CreateAccount(client, "idem-one");
  const Account u2 = CreateAccount(client, "idem-two");
  Headers h1 = u1.Bearer();
  h1.emplace_back("Idempotency-Key", "shared-key");
  Headers h2 = u2.Bearer();
  h2.emplace_back("Idempotency-Key", "shared-key");
  const HttpResult a = Submit(client, "print(1)", h1);
  const HttpResult b = Submit(client, "print(1)", h2);
  ASSERT_EQ(a.status, 202) << a.Describe();
  ASSERT_EQ(b.status, 202) << b.Describe();
  EXPECT_NE(Str(a.Json().at("execution_id")), Str(b.Json().at("execution_id")));
}

}  // namespace
}  // namespace integr8scode::testing
