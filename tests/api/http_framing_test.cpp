#include "api/http_framing.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(HttpFraming, SoundRequestsPass) {
  EXPECT_FALSE(FramingProblem(11, {{"host", "x"}}));
  EXPECT_FALSE(FramingProblem(11, {{"host", "127.0.0.1:8080"}, {"content-length", "5"}}));
  EXPECT_FALSE(FramingProblem(11, {{"host", "[::1]:8080"}, {"transfer-encoding", "chunked"}}));
  EXPECT_FALSE(FramingProblem(11, {{"host", "x"}, {"transfer-encoding", " Chunked "}}));
  EXPECT_FALSE(FramingProblem(10, {}));  // HTTP/1.0 needs no Host
  EXPECT_FALSE(FramingProblem(10, {{"content-length", "3"}}));
}

TEST(HttpFraming, TransferEncodingWhoseFinalCodingIsNotChunkedIsRefused) {
  for (const char* coding :
       {"chunked, identity", "identity", "xchunked", "gzip", "chunked;q=1", "gzip, chunked", ""}) {
    EXPECT_TRUE(FramingProblem(11, {{"host", "x"}, {"transfer-encoding", coding}})) << coding;
  }
}

TEST(HttpFraming, TransferEncodingWithContentLengthIsRefusedInEitherOrder) {
  EXPECT_TRUE(FramingProblem(
      11, {{"host", "x"}, {"transfer-encoding", "chunked"}, {"content-length", "4"}}));
  EXPECT_TRUE(FramingProblem(
      11, {{"host", "x"}, {"content-length", "4"}, {"transfer-encoding", "chunked"}}));
}

TEST(HttpFraming, RepeatedTransferEncodingAndHttp10TransferEncodingAreRefused) {
  EXPECT_TRUE(FramingProblem(
      11, {{"host", "x"}, {"transfer-encoding", "chunked"}, {"transfer-encoding", "chunked"}}));
  EXPECT_TRUE(FramingProblem(10, {{"transfer-encoding", "chunked"}}));
}

TEST(HttpFraming, HostMustBeOneAuthority) {
  EXPECT_TRUE(FramingProblem(11, {}));
  EXPECT_TRUE(FramingProblem(11, {{"host", "a"}, {"host", "b"}}));
  EXPECT_TRUE(FramingProblem(11, {{"host", "a"}, {"host", "a"}}));
  EXPECT_TRUE(FramingProblem(10, {{"host", "a"}, {"host", "b"}}));
  for (const char* host : {"", "a, b", "a b", "a/b", "user@a", "a?x"}) {
    EXPECT_TRUE(FramingProblem(11, {{"host", host}})) << host;
  }
}

}  // namespace
}  // namespace integr8scode
