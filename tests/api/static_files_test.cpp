#include "api/static_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <fstream>

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

std::string Gunzip(const std::string& data) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return "<inflateInit failed>";
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = inflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return result == Z_STREAM_END ? out : "<inflate failed>";
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("static-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    root_ = base_ / "dist";
    fs::create_directories(root_ / "assets");
    fs::create_directories(root_ / "docs");
    Write("index.html", "<!doctype html><title>app</title>");
    Write("docs/index.html", "<!doctype html><title>API reference</title>");
    script_.assign(5000, 'x');
    for (std::size_t i = 0; i < script_.size(); i += 10) script_[i] = ';';
    Write("assets/index-Ab12.js", script_);
    Write("style.css", "body{color:red}");
    Write("style.css.gz", "precompressed-bytes");
    Write("font.woff2", std::string(4000, 'f'));
    std::ofstream(base_ / "secret.txt") << "outside the root";
  }
  void TearDown() override { fs::remove_all(base_); }

  void Write(const std::string& relative, const std::string& content) {
    std::ofstream(root_ / relative, std::ios::binary) << content;
  }

  HttpResponse Get(const std::string& path,
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest request;
    request.method = "GET";
    request.path = path;
    request.target = path;
    request.headers = std::move(headers);
    return files_->Serve(request);
  }

  fs::path base_;
  fs::path root_;
  std::string script_;
  std::unique_ptr<StaticFiles> files_;

 public:
  void Open() { files_ = std::make_unique<StaticFiles>(root_); }
};

TEST_F(StaticFilesTest, ServesFilesWithTheirTypeAndCachePolicy) {
  Open();
  HttpResponse index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>app</title>");
  EXPECT_EQ(index.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header("Cache-Control"), "no-cache");
  EXPECT_FALSE(index.Header("Content-Security-Policy").empty());

  HttpResponse asset = Get("/assets/index-Ab12.js");
  EXPECT_EQ(asset.status, 200);
  EXPECT_EQ(asset.body, script_);
  EXPECT_EQ(asset.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(asset.Header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(asset.Header("Content-Encoding"), "");

  EXPECT_EQ(Get("/font.woff2").Header("Content-Type"), "font/woff2");
}

TEST_F(StaticFilesTest, CompressesForGzipClientsAndPrefersPrecompressedFiles) {
  Open();
  HttpResponse asset = Get("/assets/index-Ab12.js", {{"accept-encoding", "gzip, deflate, br"}});
  EXPECT_EQ(asset.status, 200);
  EXPECT_EQ(asset.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(asset.Header("Vary"), "Accept-Encoding");
  EXPECT_LT(asset.body.size(), script_.size());
  EXPECT_EQ(Gunzip(asset.body), script_);

  HttpResponse css = Get("/style.css", {{"accept-encoding", "gzip"}});
  EXPECT_EQ(css.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(css.body, "precompressed-bytes");

  EXPECT_EQ(Get("/style.css", {{"accept-encoding", "gzip;q=0"}}).body, "body{color:red}");
  // Fonts are compressed already.
  EXPECT_EQ(Get("/font.woff2", {{"accept-encoding", "gzip"}}).Header("Content-Encoding"), "");
}

TEST_F(StaticFilesTest, EtagRevalidationAnswers304) {
  Open();
  const HttpResponse first = Get("/assets/index-Ab12.js");
  const std::string etag(first.Header("ETag"));
  ASSERT_FALSE(etag.empty());
  const HttpResponse again = Get("/assets/index-Ab12.js", {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  // The gzip variant has its own tag.
  const HttpResponse zipped = Get("/assets/index-Ab12.js", {{"accept-encoding", "gzip"}});
  EXPECT_NE(zipped.Header("ETag"), etag);
  EXPECT_EQ(Get("/assets/index-Ab12.js", {{"if-none-match", "\"other\""}}).status, 200);
}

TEST_F(StaticFilesTest, ClientRoutesGetTheAppButMissingFilesAre404) {
  Open();
  for (const char* route : {"/history", "/executions/7d0e-1", "/scripts/"}) {
    const HttpResponse response = Get(route);
    EXPECT_EQ(response.status, 200) << route;
    EXPECT_EQ(response.body, "<!doctype html><title>app</title>") << route;
  }
  EXPECT_EQ(Get("/assets/missing-1234.js").status, 404);
  EXPECT_EQ(Get("/missing.png").status, 404);
}

TEST_F(StaticFilesTest, DocsServesTheReferencePage) {
  Open();
  EXPECT_EQ(Get("/docs").body, "<!doctype html><title>API reference</title>");
  EXPECT_EQ(Get("/docs/").body, "<!doctype html><title>API reference</title>");
}

TEST_F(StaticFilesTest, NothingOutsideTheRootCanBeRead) {
  fs::create_symlink(base_ / "secret.txt", root_ / "link.txt");
  fs::create_symlink(base_, root_ / "assets" / "up");
  Open();
  for (const char* path : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
                           "/link.txt", "/assets/up/secret.txt", "/%2E%2E%2Fsecret.txt",
                           "/.%2e/secret.txt", "/..\\secret.txt", "/assets/%00", "/.git/config"}) {
    const HttpResponse response = Get(path);
    EXPECT_NE(response.status, 200) << path;
    EXPECT_EQ(response.body.find("outside the root"), std::string::npos) << path;
  }
}

TEST_F(StaticFilesTest, MissingWebRootExplainsHowToBuildIt) {
  root_ = base_ / "not-built";
  Open();
  const HttpResponse response = Get("/");
  EXPECT_EQ(response.status, 404);
  EXPECT_NE(response.body.find("npm"), std::string::npos);
}

TEST(MimeTypes, CommonWebTypes) {
  EXPECT_EQ(StaticFiles::MimeType("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticFiles::MimeType("a.svg"), "image/svg+xml");
  EXPECT_EQ(StaticFiles::MimeType("a.json"), "application/json; charset=utf-8");
  EXPECT_EQ(StaticFiles::MimeType("a.woff"), "font/woff");
  EXPECT_EQ(StaticFiles::MimeType("LICENSE"), "application/octet-stream");
}

}  // namespace
}  // namespace integr8scode
