#include "run/output_capture.hpp"

#include "common/utf8.hpp"

namespace integr8scode {

OutputCapture::OutputCapture(OutputStream stream, std::uint64_t cap, OutputSink* sink)
    : stream_(stream), cap_(cap), sink_(sink) {}

bool OutputCapture::Append(std::string_view bytes) {
  total_ += bytes.size();
  const std::uint64_t room = cap_ > kept_.size() ? cap_ - kept_.size() : 0;
  if (bytes.size() > room) {
    truncated_ = true;
    bytes = bytes.substr(0, room);
  }
  kept_.append(bytes);
  if (sink_ != nullptr) {
    const std::string_view pending = std::string_view(kept_).substr(forwarded_);
    const std::size_t complete = CompleteUtf8Prefix(pending);
    if (complete > 0) {
      sink_->OnOutput(stream_, SanitizeUtf8(pending.substr(0, complete)));
      forwarded_ += complete;
    }
  }
  return !truncated_;
}

void OutputCapture::Finish() {
  if (sink_ == nullptr || forwarded_ >= kept_.size()) return;
  const std::string_view pending = std::string_view(kept_).substr(forwarded_);
  // At the cap, a cut character is dropped (as in Text()); otherwise the stream ended
  // in the middle of one, which is invalid output: show it as U+FFFD.
  const std::string_view rest =
      truncated_ ? pending.substr(0, CompleteUtf8Prefix(pending)) : pending;
  if (!rest.empty()) sink_->OnOutput(stream_, SanitizeUtf8(rest));
  forwarded_ = kept_.size();
}

std::string OutputCapture::Text() const {
  std::string_view text = kept_;
  if (truncated_) text = text.substr(0, CompleteUtf8Prefix(text));
  return SanitizeUtf8(text);
}

}  // namespace integr8scode
