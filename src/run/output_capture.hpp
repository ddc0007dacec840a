#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/executor.hpp"

namespace integr8scode {

// Collects one output stream of a run up to its cap and forwards it live. Keeps the
// first `cap` bytes; anything beyond marks the stream truncated (the supervisor then
// stops the program). Chunks passed to the sink are valid UTF-8 and never split a
// character across two calls. Not thread-safe (one supervisor owns it).
class OutputCapture {
 public:
  OutputCapture(OutputStream stream, std::uint64_t cap, OutputSink* sink);

  // Returns false when this data went past the cap.
  bool Append(std::string_view bytes);
  // Flushes a held-back partial character to the sink (as U+FFFD if incomplete).
  void Finish();

  bool Truncated() const { return truncated_; }
  std::uint64_t TotalBytes() const { return total_; }
  // The kept bytes as valid UTF-8. A character cut by the cap is dropped, not mangled.
  std::string Text() const;

 private:
  OutputStream stream_;
  std::uint64_t cap_;
  OutputSink* sink_;
  std::string kept_;
  std::size_t forwarded_ = 0;  // bytes of kept_ already given to the sink
  std::uint64_t total_ = 0;
  bool truncated_ = false;
};

}  // namespace integr8scode
