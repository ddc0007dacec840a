#include "gated_executor.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "common/cancel.hpp"
#include "test_support.hpp"

namespace integr8scode::testing {

GatedExecutor::GatedExecutor(std::size_t capacity)
    : capacity_(capacity), gate_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) {}

RunResult GatedExecutor::Run(const RunRequest& request) {
  const std::string source(request.source);
  const std::string output = "out:" + source;
  {
    std::lock_guard lock(mu_);
    started_.push_back(source);
  }
  cv_.notify_all();
  if (request.sink != nullptr) {
    request.sink->OnStarted();
    request.sink->OnOutput(OutputStream::kStdout, output);
  }

  RunResult result;
  result.stdout_text = output;
  for (;;) {
    if (request.cancel != nullptr && request.cancel->Cancelled()) {
      result.status = ExecutionStatus::kCancelled;
      result.message = "cancelled";
      break;
    }
    std::uint64_t unit = 0;
    if (::read(gate_.Get(), &unit, sizeof unit) == sizeof unit) {
      result.status = ExecutionStatus::kCompleted;
      result.exit_code = 0;
      break;
    }
    pollfd fds[2] = {{gate_.Get(), POLLIN, 0},
                     {request.cancel != nullptr ? request.cancel->Fd() : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
  }
  {
    std::lock_guard lock(mu_);
    ++finished_;
  }
  cv_.notify_all();
  return result;
}

void GatedExecutor::ReleaseOne() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(gate_.Get(), &one, sizeof one);
}

void GatedExecutor::ReleaseAll() {
  const std::uint64_t many = std::uint64_t{1} << 40;
  [[maybe_unused]] auto n = ::write(gate_.Get(), &many, sizeof many);
}

bool GatedExecutor::WaitStarted(std::size_t count) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, kPatience, [&] { return started_.size() >= count; });
}

bool GatedExecutor::WaitFinished(std::size_t count) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, kPatience, [&] { return finished_ >= count; });
}

std::vector<std::string> GatedExecutor::Started() {
  std::lock_guard lock(mu_);
  return started_;
}

std::size_t GatedExecutor::Finished() {
  std::lock_guard lock(mu_);
  return finished_;
}

}  // namespace integr8scode::testing
