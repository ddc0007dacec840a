#pragma once

#include <atomic>

#include "common/unique_fd.hpp"

namespace integr8scode {

// A one-shot cancellation signal that a poll(2) loop can wait on (an eventfd).
// Cancel() may be called from any thread, any number of times. Not movable.
class CancelToken {
 public:
  CancelToken();
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void Cancel() noexcept;
  bool Cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  // Readable once cancelled; -1 if the eventfd could not be made (then poll the flag).
  int Fd() const noexcept { return fd_.Get(); }

 private:
  std::atomic<bool> cancelled_{false};
  UniqueFd fd_;
};

}  // namespace integr8scode
