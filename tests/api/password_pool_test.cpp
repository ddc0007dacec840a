// Password hashing (Argon2id, the real cost) runs on a bounded pool of its own: a flood
// of logins waits there or is refused 503, and every other route keeps answering.
// Asserted on order — which answers had come back when — never on durations.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

constexpr int kHashThreads = 1;
constexpr int kHashQueue = 4;

class PasswordPool : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    StartServer({{"auth.argon2", "interactive"},
                 {"auth.hash_threads", std::to_string(kHashThreads)},
                 {"auth.hash_queue", std::to_string(kHashQueue)},
                 {"server.handler_threads", "2"}});
  }
  static void TearDownTestSuite() { StopServer(); }

  // Wrong logins of unknown users: each still costs a full hash (the server verifies
  // against a dummy hash so that unknown and known names take the same time).
  static std::vector<std::unique_ptr<RawConnection>> FloodLogins(int count) {
    std::vector<std::unique_ptr<RawConnection>> logins;
    for (int i = 0; i < count; ++i) {
      const std::string body =
          R"({"username":"nobody-)" + std::to_string(i) + R"(","password":"not-the-password"})";
      auto raw = std::make_unique<RawConnection>(Port());
      EXPECT_TRUE(
          raw->Send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                    "Content-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body));
      logins.push_back(std::move(raw));
    }
    return logins;
  }

  static int Status(const std::string& answer) {
    return answer.size() > 12 && answer.starts_with("HTTP/1.1 ") ? std::stoi(answer.substr(9, 3))
                                                                 : 0;
  }
};

TEST_F(PasswordPool, OtherRoutesAnswerWhileLoginsHash) {
  constexpr int kLogins = kHashThreads + kHashQueue;  // all admitted, none refused
  auto logins = FloodLogins(kLogins);
  HttpClient client(Port());
  const HttpResult runtimes = client.Get("/api/v1/runtimes");
  ASSERT_EQ(runtimes.status, 200) << runtimes.Describe();
  // What had come back by the time /runtimes answered. On shared handler threads the
  // runtimes request would wait behind the hashes ahead of it; on the password pool at
  // most the hash running when it arrived can have finished meanwhile.
  int answered_before = 0;
  for (auto& login : logins) {
    if (!login->ReadSome(std::chrono::milliseconds(0)).empty()) ++answered_before;
  }
  EXPECT_LE(answered_before, kHashThreads + 1)
      << answered_before << " of " << kLogins << " logins were answered before /runtimes";
  for (auto& login : logins) {
    const std::string answer = login->ReadUntil("\r\n\r\n", std::chrono::seconds(120));
    EXPECT_EQ(Status(answer), 401) << answer.substr(0, 200);
  }
}

TEST_F(PasswordPool, BeyondTheQueueLoginsAreRefused503WithRetryAfter) {
  constexpr int kLogins = 2 * (kHashThreads + kHashQueue);
  auto logins = FloodLogins(kLogins);
  int refused = 0;
  int checked = 0;
  for (auto& login : logins) {
    const std::string answer = login->ReadUntil("}", std::chrono::seconds(120));
    const int status = Status(answer);
    if (status == 503) {
      ++refused;
      EXPECT_NE(answer.find("Retry-After: "), std::string::npos) << answer;
      EXPECT_NE(answer.find(R"("code":"busy")"), std::string::npos) << answer;
    } else {
      EXPECT_EQ(status, 401) << answer.substr(0, 200);
      ++checked;
    }
  }
  // Admitted: what the pool holds (those hashing and those queued); the rest refused.
  EXPECT_GE(refused, 1);
  EXPECT_LE(refused, kLogins - (kHashThreads + kHashQueue));
  EXPECT_GE(checked, kHashThreads + kHashQueue);
  // Refusals do not wedge anything: the pool drained, a login works again.
  HttpClient client(Port());
  const Account account = CreateAccount(client, "after-flood");
  EXPECT_FALSE(account.token.empty());
}

}  // namespace
}  // namespace integr8scode::testing
