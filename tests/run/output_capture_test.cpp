#include "run/output_capture.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

class RecordingSink final : public OutputSink {
 public:
  void OnOutput(OutputStream stream, std::string_view chunk) override {
    EXPECT_EQ(stream, OutputStream::kStderr);
    chunks.emplace_back(chunk);
  }
  std::vector<std::string> chunks;
};

TEST(OutputCapture, KeepsEverythingUnderTheCap) {
  OutputCapture capture(OutputStream::kStdout, 100, nullptr);
  EXPECT_TRUE(capture.Append("hello "));
  EXPECT_TRUE(capture.Append("world\n"));
  EXPECT_FALSE(capture.Truncated());
  EXPECT_EQ(capture.Text(), "hello world\n");
}

TEST(OutputCapture, StopsAtTheCap) {
  OutputCapture capture(OutputStream::kStdout, 5, nullptr);
  EXPECT_TRUE(capture.Append("abc"));
  EXPECT_FALSE(capture.Append("defgh"));
  EXPECT_TRUE(capture.Truncated());
  EXPECT_EQ(capture.Text(), "abcde");
  EXPECT_EQ(capture.TotalBytes(), 8u);
}

TEST(OutputCapture, ACharacterCutByTheCapIsDropped) {
  OutputCapture capture(OutputStream::kStdout, 4, nullptr);
  capture.Append("ab\xE2\x82\xAC");  // "ab€": the € needs bytes 3..5
  EXPECT_EQ(capture.Text(), "ab");
}

TEST(OutputCapture, InvalidBytesBecomeReplacementCharacters) {
  OutputCapture capture(OutputStream::kStdout, 100, nullptr);
  capture.Append(
      "a\xFF"
      "b");
  EXPECT_EQ(capture.Text(),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(OutputCapture, SinkNeverGetsHalfACharacter) {
  RecordingSink sink;
  OutputCapture capture(OutputStream::kStderr, 100, &sink);
  capture.Append("x\xE2\x82");  // € split across reads
  capture.Append(
      "\xAC"
      "y");
  capture.Finish();
  ASSERT_EQ(sink.chunks.size(), 2u);
  EXPECT_EQ(sink.chunks[0], "x");
  EXPECT_EQ(sink.chunks[1],
            "\xE2\x82\xAC"
            "y");
}

TEST(OutputCapture, SinkGetsOnlyWhatIsKept) {
  RecordingSink sink;
  OutputCapture capture(OutputStream::kStderr, 3, &sink);
  capture.Append("abcdef");
  capture.Finish();
  std::string all;
  for (const auto& chunk : sink.chunks) all += chunk;
  EXPECT_EQ(all, "abc");
}

TEST(OutputCapture, AnUnfinishedCharacterAtTheEndIsFlaggedNotLost) {
  RecordingSink sink;
  OutputCapture capture(OutputStream::kStderr, 100, &sink);
  capture.Append("ok\xE2\x82");
  capture.Finish();
  std::string all;
  for (const auto& chunk : sink.chunks) all += chunk;
  EXPECT_EQ(all, "ok\xEF\xBF\xBD");
  EXPECT_EQ(capture.Text(), "ok\xEF\xBF\xBD");
}

}  // namespace
}  // namespace integr8scode
