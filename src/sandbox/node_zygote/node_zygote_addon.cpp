// The native half of the warm Node.js zygote (node_zygote.hpp): what JavaScript cannot do
// — a ready report and a blocking recvmsg with SCM_RIGHTS on the control socket, setrlimit,
// dup2 over 0–2. An N-API module built against node_api.h and linked to nothing: its
// symbols resolve from the node executable when Node dlopens it.
#include <fcntl.h>
#include <node_api.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "sandbox/node_zygote/node_zygote.hpp"
#include "sandbox/zygote_protocol.hpp"

namespace {

constexpr int kExitControl = 121;  // as integr8scode-python-zygote's

// The first go() is the main thread's (a worker can only start after the go); a worker
// thread preloads the boot again and must not touch the process's descriptors.
std::atomic<bool> served{false};

// The run's 0–2 as they came with the go.
struct StdioAtGo {
  bool known = false;
  dev_t dev = 0;
  ino_t ino = 0;
  int flags = -1;
};
StdioAtGo stdio_at_go[3];

// Node sets O_NONBLOCK on a pipe it writes to and, at exit, puts back the file status
// flags 0–2 had when it started (ResetStdio) — only where the descriptor is still the
// file it found then, here the placeholders. So the same for the run's, as they were at
// the go: the pipe's shared open file description is left as a cold start leaves it.
// An atexit handler: it runs before Node's own (registered earlier), on every exit but a
// death by signal (Node's SIGINT/SIGTERM handler resets only its own before it re-raises).
void RestoreStdio() {
  for (int fd = 0; fd < 3; ++fd) {
    const StdioAtGo& at_go = stdio_at_go[fd];
    struct stat now {};
    if (!at_go.known || ::fstat(fd, &now) != 0 || now.st_dev != at_go.dev ||
        now.st_ino != at_go.ino) {
      continue;
    }
    const int flags = ::fcntl(fd, F_GETFL);
    // Nothing to do about a failure at exit, as for Node's own reset.
    if (flags != -1 && flags != at_go.flags) ::fcntl(fd, F_SETFL, at_go.flags);
  }
}

std::int64_t CpuMicros() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000LL + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_usec;
}

// Returns only with the run's descriptors on 0–2 and its limits set; anything else ends
// the process before a line of the run is read: a hang-up with 0 (no run came), a
// refused go with kExitControl.
napi_value Go(napi_env /*env*/, napi_callback_info /*info*/) {
  if (served.exchange(true)) return nullptr;
  const int control = integr8scode::kNodeZygoteControlFd;
  const integr8scode::ZygoteReady ready{CpuMicros()};
  if (::send(control, &ready, sizeof ready, MSG_NOSIGNAL) != sizeof ready) ::_exit(kExitControl);
  int fds[3] = {-1, -1, -1};
  integr8scode::ZygoteGo go;
  if (!integr8scode::ReceiveZygoteGo(control, fds, go)) ::_exit(0);
  if (integr8scode::ApplyZygoteGoLimits(go) != 0) ::_exit(kExitControl);
  // Node reads nothing of 0–2 before the go but their kind (fstat, F_GETFL), which the
  // placeholders share; process.stdin/stdout/stderr are created on first use, after it.
  for (int target = 0; target < 3; ++target) {
    struct stat file {};
    StdioAtGo& at_go = stdio_at_go[target];
    at_go.flags = ::fcntl(fds[target], F_GETFL);
    at_go.known = at_go.flags != -1 && ::fstat(fds[target], &file) == 0;
    at_go.dev = file.st_dev;
    at_go.ino = file.st_ino;
    if (::dup2(fds[target], target) < 0) ::_exit(kExitControl);
  }
  if (std::atexit(RestoreStdio) != 0) ::_exit(kExitControl);
  for (const int fd : fds) {
    if (fd > 2) ::close(fd);  // a close that fails leaves nothing to undo
  }
  ::close(control);
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value go = nullptr;
  if (napi_create_function(env, "go", NAPI_AUTO_LENGTH, Go, nullptr, &go) != napi_ok ||
      napi_set_named_property(env, exports, "go", go) != napi_ok) {
    return nullptr;  // Node throws: the preload fails and the zygote never reports ready
  }
  return exports;
}
