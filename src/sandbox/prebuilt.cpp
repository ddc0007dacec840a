#include "sandbox/prebuilt.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include "sandbox/launch_message.hpp"
#include "sandbox/protocol.hpp"

namespace integr8scode {

Result<PrebuiltSandbox> PrebuiltSandbox::Build(SandboxLauncher& launcher, LaunchSpec shape,
                                               int cgroup_dir) {
  shape.prebuilt = true;
  shape.source_name.clear();
  shape.steps.clear();
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return Fail(SystemError("socketpair"));
  UniqueFd control(pair[0]);
  UniqueFd child_end(pair[1]);
  LaunchFds fds;
  fds.control = child_end.Get();
  fds.cgroup_dir = cgroup_dir;
  auto launched = launcher.Launch(shape, fds);
  if (!launched) return Fail(std::move(launched.error()).WithContext("build a sandbox ahead"));
  return PrebuiltSandbox(std::move(control), std::move(*launched), std::move(shape));
}

bool PrebuiltSandbox::Alive() const {
  pollfd exited{init_.PidFd(), POLLIN, 0};
  return init_.Running() && ::poll(&exited, 1, 0) == 0;
}

Result<SandboxHandle> PrebuiltSandbox::HandOver(const LaunchSpec& run, const LaunchFds& run_fds,
                                                std::chrono::milliseconds timeout) {
  const auto fail = [this](Error error) {
    init_.Kill();
    return Fail(std::move(error));
  };
  if (!LaunchSpec::Fits(shape_, run))
    return fail(MakeError(ErrorCode::kInternal, "the run does not fit"));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return fail(MakeError(ErrorCode::kInternal, "the sandbox built ahead is not ready"));
    pollfd pfds[2] = {{control_.Get(), POLLIN, 0}, {init_.PidFd(), POLLIN, 0}};
    if (::poll(pfds, 2, static_cast<int>(left.count()) + 1) < 0 && errno != EINTR) {
      return fail(SystemError("poll"));
    }
    if (pfds[0].revents & POLLIN) {
      InitMessage message;
      const ssize_t n = ::recv(control_.Get(), &message, sizeof message, MSG_DONTWAIT);
      if (n == static_cast<ssize_t>(sizeof message) && message.event == InitEvent::kPrebuilt) break;
      if (n == static_cast<ssize_t>(sizeof message) && message.event == InitEvent::kSetupFailed) {
        message.text[sizeof message.text - 1] = '\0';
        return fail(
            SystemError(message.value, fmt::format("sandbox built ahead: {}", message.text)));
      }
    }
    if ((pfds[0].revents & (POLLHUP | POLLERR)) || (pfds[1].revents & POLLIN)) {
      return fail(MakeError(ErrorCode::kInternal, "the sandbox built ahead died"));
    }
  }
  LaunchFds fds = run_fds;
  fds.control = -1;  // the sandbox has its control socket already
  if (auto s = SendLaunch(control_.Get(), run, fds); !s) return fail(s.error());
  SandboxHandle handle{std::move(control_), std::move(init_)};
  return handle;
}

}  // namespace integr8scode
