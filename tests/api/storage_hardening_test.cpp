// What the server keeps, against outside attacks, on the real server: the data directory
// and the database are private whatever the umask, and storage quotas answer 403 with
// what to do.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

unsigned Mode(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class StorageHardening : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CanRunServer()) GTEST_SKIP() << "the server's sandbox needs root";
    dir_ = std::make_unique<TempDir>("integr8scode-storage");
    options_.data_dir = dir_->Path() / "data";
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

TEST_F(StorageHardening, TheDataDirectoryAndTheDatabaseArePrivateWhateverTheUmask) {
  // As a first start under a common umask left it before: everything readable by all.
  std::filesystem::create_directories(options_.data_dir);
  ASSERT_EQ(::chmod(options_.data_dir.c_str(), 0755), 0);
  const mode_t old_umask = ::umask(0);  // the server inherits it
  auto server = Start();
  ::umask(old_umask);
  ASSERT_NE(server, nullptr);
  HttpClient client(server->Port());
  ASSERT_EQ(Submit(client, "print('a write')").status, 202);

  EXPECT_EQ(Mode(options_.data_dir), 0700u);
  const std::filesystem::path db = options_.data_dir / "integr8scode.db";
  EXPECT_EQ(Mode(db), 0600u);
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::filesystem::path file = db.string() + suffix;
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_EQ(Mode(file), 0600u) << file;
  }

  // At every start: a directory opened up meanwhile is closed again.
  ASSERT_EQ(server->Terminate(), 0);
  ASSERT_EQ(::chmod(options_.data_dir.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);
  server = Start();
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Mode(options_.data_dir), 0700u);
  EXPECT_EQ(Mode(db), 0600u);
}

TEST_F(StorageHardening, AFullQuotaIsA403SayingWhatToDo) {
  options_.settings = {{"quotas.executions_per_address", "1"}, {"quotas.scripts_per_user", "1"}};
  auto server = Start();
  ASSERT_NE(server, nullptr);
  HttpClient client(server->Port());
  const HttpResult accepted = Submit(client, "print(1)");
  ASSERT_EQ(accepted.status, 202) << accepted.Describe();
  const std::string first = Str(accepted.Json().at("execution_id"));
  const HttpResult refused = Submit(client, "print(2)");
  EXPECT_EQ(refused.status, 403) << refused.Describe();
  EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
  EXPECT_EQ(Str(refused.Json().at("code")), "quota_exceeded");
  const std::string detail = Str(refused.Json().at("detail"));
  EXPECT_NE(detail.find("keep 1 executions"), std::string::npos) << detail;
  EXPECT_NE(detail.find("deleted 1 day after"), std::string::npos) << detail;
  // Deleting the finished run frees its place.
  WaitForEnd(client, first);
  const HttpResult deleted = client.Delete("/api/v1/executions/" + first);
  EXPECT_EQ(deleted.status, 204) << deleted.Describe();
  EXPECT_EQ(client.Get("/api/v1/executions/" + first).status, 404);
  EXPECT_EQ(Submit(client, "print(2)").status, 202);

  const Account ann = CreateAccount(client, "ann");
  const boost::json::object script{
      {"name", "one"}, {"lang", "python"}, {"lang_version", "3.11"}, {"script", "print(1)"}};
  ASSERT_EQ(client.PostJson("/api/v1/scripts", script, ann.Bearer()).status, 201);
  const HttpResult second = client.PostJson("/api/v1/scripts", script, ann.Bearer());
  EXPECT_EQ(second.status, 403) << second.Describe();
  EXPECT_EQ(Str(second.Json().at("code")), "quota_exceeded");
  EXPECT_NE(Str(second.Json().at("detail")).find("DELETE /api/v1/scripts/{id}"), std::string::npos);
  // The server stays healthy, and a signed-in user runs on their own quota.
  EXPECT_EQ(client.Get("/api/v1/health/ready").status, 200);
  EXPECT_EQ(Submit(client, "print(3)", ann.Bearer()).status, 202);
}

}  // namespace
}  // namespace integr8scode::testing
