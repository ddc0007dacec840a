#include "common/cancel.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace integr8scode {

CancelToken::CancelToken() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void CancelToken::Cancel() noexcept {
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  if (fd_) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd_.Get(), &one, sizeof one);
  }
}

}  // namespace integr8scode
