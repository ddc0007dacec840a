#include "sandbox/init_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "domain/execution.hpp"
#include "sandbox/cgroup_files.hpp"
#include "sandbox/gvisor_bundle.hpp"
#include "sandbox/host_information.hpp"
#include "sandbox/identity.hpp"
#include "sandbox/launch_message.hpp"
#include "sandbox/mounts.hpp"
#include "sandbox/protocol.hpp"
#include "sandbox/rlimits.hpp"
#include "sandbox/zygote_protocol.hpp"

namespace integr8scode {
namespace {

constexpr int kExecErrorFd = 3;  // the step's exec-failure pipe, close-on-exec

// close(2) is not checked in this file: Linux releases the descriptor even when close
// reports an error, and none of these is a file whose lost write close could report.

std::int64_t NowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void Send(int control, const InitMessage& message) {
  // MSG_NOSIGNAL: a vanished supervisor must not kill us with SIGPIPE mid-report.
  while (::send(control, &message, sizeof message, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void FailSetup(int control, const Error& error) {
  InitMessage message;
  message.event = InitEvent::kSetupFailed;
  message.value = error.sys_errno;
  const std::string text = error.message;
  std::strncpy(message.text, text.c_str(), sizeof message.text - 1);
  Send(control, message);
  ::_exit(1);
}

// Writes the OOM killer's score adjustment of the calling process. No allocation: the
// step calls it between clone and exec.
int SetOomScoreAdj(const char* value, std::size_t length) {
  const int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const bool written = ::write(fd, value, length) == static_cast<ssize_t>(length);
  const int saved = errno;
  ::close(fd);
  return written ? 0 : saved;
}

void ResetSignals() {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  // Unchecked, like sigaction above: both fail only for an invalid argument (EINVAL,
  // EFAULT), which constants and a stack set are not.
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Closes every descriptor except those in `keep` (close_range over the gaps).
void CloseAllExcept(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned int next = 0;
  for (const int fd : keep) {
    if (fd < 0) continue;
    if (static_cast<unsigned int>(fd) > next)
      ::close_range(next, static_cast<unsigned int>(fd) - 1, 0);
    next = static_cast<unsigned int>(fd) + 1;
  }
  ::close_range(next, ~0U, 0);
}

struct PreparedStep {
  const StepSpec* spec = nullptr;
  std::vector<char*> argv;
  std::vector<char*> envp;
  // sandbox.isolation = "gvisor": argv and envp are runsc's, and this is the bundle.
  std::string gvisor_config;
  std::vector<std::string> gvisor_argv;
};

// The step's process, between clone and exec. It shares the init's memory (CLONE_VM):
// no allocation, no exceptions, nothing written but its own stack and descriptors; a
// failure is written (errno) to the exec-error pipe and the process exits 127.
[[noreturn]] void ExecStep(const PreparedStep& step, const LaunchSpec& spec, int stdin_fd,
                           int stdout_fd, int stderr_fd, int error_fd,
                           const SeccompProgram& seccomp) {
  int error = 0;
  const auto fail = [&](int saved) {
    const int code = saved;
    [[maybe_unused]] const ssize_t n = ::write(error_fd, &code, sizeof code);
    ::_exit(127);
  };
  ResetSignals();
  // A new session: the program cannot signal the init's process group. Cannot fail in a
  // fresh child (EPERM is for a group leader), but a failure must not go unnoticed.
  if (::setsid() < 0) fail(errno);
  int in = stdin_fd >= 0 ? stdin_fd : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) fail(errno);
  // Move the four descriptors above the target numbers first, so that no dup2 below
  // overwrites a source it still needs.
  const int high_in = ::fcntl(in, F_DUPFD_CLOEXEC, 10);
  const int high_out = ::fcntl(stdout_fd, F_DUPFD_CLOEXEC, 10);
  const int high_err = ::fcntl(stderr_fd, F_DUPFD_CLOEXEC, 10);
  const int high_error = ::fcntl(error_fd, F_DUPFD_CLOEXEC, 10);
  if (high_in < 0 || high_out < 0 || high_err < 0 || high_error < 0) fail(errno);
  if (::dup2(high_in, 0) < 0 || ::dup2(high_out, 1) < 0 || ::dup2(high_err, 2) < 0 ||
      ::dup3(high_error, kExecErrorFd, O_CLOEXEC) < 0) {
    fail(errno);
  }
  ::close_range(kExecErrorFd + 1, ~0U, 0);
  if (::chdir("/home/sandbox") != 0) fail(errno);
  // The OOM killer's first choice in the slot, so that it never picks the init. A vfork
  // child's write stays its own (proc(5), oom_score_adj; no MMF_MULTIPROCESS); raising
  // needs no privilege, and with CAP_SYS_RESOURCE it is also a floor the program
  // cannot lower.
  if ((error = SetOomScoreAdj("1000", 4)) != 0) fail(error);
  if (!step.gvisor_config.empty()) {
    // runsc stays root on the host (it builds the Sentry's namespaces, seccomp filter
    // and gofer); the identity, rlimits and capabilities are the bundle's, applied by
    // the Sentry to the program.
    if ((error = PrepareGvisorBundle(step.gvisor_config)) != 0) fail(error);
    ::execve(step.argv[0], step.argv.data(), step.envp.data());
    fail(errno);
  }
  if ((error = ApplyStepRlimits(*step.spec)) != 0) fail(error);
  if ((error = DropPrivileges(spec.uid, spec.gid)) != 0) fail(error);
  const sock_fprog program = seccomp.Prog();
  if (InstallSeccompProgram(program) != 0) fail(errno);
  ::execve(step.argv[0], step.argv.data(), step.envp.data());
  const int saved = errno;
  [[maybe_unused]] const ssize_t n = ::write(kExecErrorFd, &saved, sizeof saved);
  ::_exit(127);
}

struct StepLaunch {
  const PreparedStep* step;
  const LaunchSpec* spec;
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  int error_fd;
  const SeccompProgram* seccomp;
};

int StepEntry(void* argument) {
  const StepLaunch& launch = *static_cast<const StepLaunch*>(argument);
  ExecStep(*launch.step, *launch.spec, launch.stdin_fd, launch.stdout_fd, launch.stderr_fd,
           launch.error_fd, *launch.seccomp);
}

// The stack the step runs on until its execve (CLONE_VM: it cannot use ours).
void* StepStackTop() {
  alignas(64) static char stack[256 * 1024];
  return stack + sizeof stack;
}

// A warm zygote started with the sandbox built ahead (docs/warm-starts.md): a process
// that is already the step's program, initialised, waiting for its descriptors.
struct Zygote {
  pid_t pid = -1;
  int control = -1;
  const std::vector<std::string>* argv = nullptr;  // what it was started as
  const std::vector<std::string>* env = nullptr;
  const std::vector<std::string>* preload = nullptr;
};

constexpr int kZygoteReadyTimeoutMs = 2000;
// kStepStarted's value (StartKind).
constexpr auto kStartedCold = static_cast<std::int32_t>(StartKind::kCold);
constexpr auto kStartedWarm = static_cast<std::int32_t>(StartKind::kWarm);
constexpr auto kStartedWarmFallback = static_cast<std::int32_t>(StartKind::kWarmFallback);

struct ZygoteLaunch {
  const LaunchSpec* spec;
  int exe_fd;
  int control_fd;
  int placeholder_fd;
  const SeccompProgram* seccomp;
  char* const* argv;
  char* const* envp;
};

// The zygote's process between clone and execveat: the same checklist as ExecStep,
// with placeholders on 0–2 (of the run's kinds) and its control socket on
// spec.warm.control_fd (3, or Node's 100). Shares the init's memory: no allocation; a
// failure ends it with 127 and the run goes cold.
int ZygoteEntry(void* argument) {
  const ZygoteLaunch& launch = *static_cast<const ZygoteLaunch*>(argument);
  ResetSignals();
  if (::setsid() < 0) ::_exit(127);  // as in ExecStep
  const int control_at = static_cast<int>(launch.spec->warm.control_fd);
  const int exe_at = control_at == 3 ? 4 : 3;  // close-on-exec: gone at the exec
  const int low = std::min(control_at, exe_at);
  const int high = std::max(control_at, exe_at);
  // The copies go above both targets, so that no dup2 below lands on one of them.
  const int above = std::max(high + 1, 10);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int exe = ::fcntl(launch.exe_fd, F_DUPFD_CLOEXEC, above);
  const int control = ::fcntl(launch.control_fd, F_DUPFD_CLOEXEC, above);
  const int placeholder = ::fcntl(launch.placeholder_fd, F_DUPFD_CLOEXEC, above);
  if (in < 0 || exe < 0 || control < 0 || placeholder < 0) ::_exit(127);
  if (::dup2(in, 0) < 0 || ::dup2(placeholder, 1) < 0 || ::dup2(placeholder, 2) < 0 ||
      ::dup2(control, control_at) < 0 || ::dup3(exe, exe_at, O_CLOEXEC) < 0) {
    ::_exit(127);
  }
  if (high > low + 1) ::close_range(low + 1, high - 1, 0);
  ::close_range(high + 1, ~0U, 0);
  if (::chdir("/home/sandbox") != 0) ::_exit(127);
  if (SetOomScoreAdj("1000", 4) != 0) ::_exit(127);
  if (DropPrivileges(launch.spec->uid, launch.spec->gid) != 0) ::_exit(127);
  const sock_fprog program = launch.seccomp->Prog();
  if (InstallSeccompProgram(program) != 0) ::_exit(127);
  // The binary may be outside the new root: execveat on the descriptor opened before
  // pivot_root, or in it (an ELF either way, so its close-on-exec flag does not matter).
  ::syscall(SYS_execveat, exe_at, "", launch.argv, launch.envp, AT_EMPTY_PATH);
  ::_exit(127);
}

// Starts the zygote of `spec` (warm_zygote, opened as `exe_fd`). A zygote that cannot
// start leaves pid -1: its run goes cold.
Zygote StartZygote(const LaunchSpec& spec, int exe_fd, const SeccompProgram& seccomp) {
  Zygote zygote;
  int pair[2];
  int placeholder[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return zygote;
  if (::pipe2(placeholder, O_CLOEXEC) != 0) {
    ::close(pair[0]);
    ::close(pair[1]);
    return zygote;
  }
  std::vector<char*> argv;
  for (const std::string& arg : spec.warm.zygote_argv)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& var : spec.warm.env) envp.push_back(const_cast<char*>(var.c_str()));
  envp.push_back(nullptr);
  ZygoteLaunch launch{&spec, exe_fd, pair[1], placeholder[1], &seccomp, argv.data(), envp.data()};
  const pid_t pid = ::clone(ZygoteEntry, StepStackTop(), CLONE_VM | CLONE_VFORK | SIGCHLD, &launch);
  ::close(pair[1]);
  ::close(placeholder[0]);
  ::close(placeholder[1]);
  if (pid < 0) {
    ::close(pair[0]);
    return zygote;
  }
  zygote.pid = pid;
  zygote.control = pair[0];
  zygote.argv = &spec.warm.argv;
  zygote.env = &spec.warm.env;
  zygote.preload = &spec.warm.preload;
  return zygote;
}

// Kills and reaps a zygote that will not serve.
void StopZygote(Zygote& zygote) {
  ::kill(zygote.pid, SIGKILL);
  ::waitpid(zygote.pid, nullptr, 0);
  ::close(zygote.control);
  zygote = Zygote{};
}

// Hands the step to the zygote, once it reported ready: the go with the step's limits
// (it sets them on itself) and descriptors. False: the zygote is unusable (the caller kills it).
// `why` names the failure for the log (a literal).
bool StartWarmStep(const Zygote& zygote, const StepSpec& step, int stdin_fd, int stdout_fd,
                   int stderr_fd, ZygoteReady& ready, const char*& why) {
  errno = 0;  // the log shows the errno of what failed here, or 0
  why = "not ready";
  pollfd ready_poll{zygote.control, POLLIN, 0};
  int polled;
  while ((polled = ::poll(&ready_poll, 1, kZygoteReadyTimeoutMs)) < 0 && errno == EINTR) {
  }
  if (polled != 1 || (ready_poll.revents & POLLIN) == 0) return false;
  ready = ZygoteReady{};
  const ssize_t received = ::recv(zygote.control, &ready, sizeof ready, MSG_DONTWAIT);
  if (received < static_cast<ssize_t>(kZygoteReadyMinimum)) return false;
  why = "go";
  const int in = stdin_fd >= 0 ? stdin_fd : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) return false;
  const int fds[3] = {in, stdout_fd, stderr_fd};
  ZygoteGo go;
  go.apply_limits = 1;
  go.file_size_bytes = step.file_size_bytes;
  go.open_files = step.open_files;
  go.processes = step.processes;
  go.cpu_seconds = step.cpu_seconds;
  const bool sent = SendZygoteGo(zygote.control, fds, go);
  if (in != stdin_fd) ::close(in);
  return sent;
}

// Waits for the supervisor's go-ahead for `step`. False: stop (or the supervisor is gone).
bool WaitForGo(int control, std::uint32_t step) {
  for (;;) {
    SupervisorMessage message;
    const ssize_t n = ::recv(control, &message, sizeof message, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof message)) return false;
    if (message.command == SupervisorCommand::kRunStep && message.step == step) return true;
    if (message.command == SupervisorCommand::kStop) return false;
  }
}

// Runs one step to its end: reaps every child, returns when the step's main process
// exited and everything it left behind is killed and reaped. False when the
// supervisor went away (then the caller exits, killing the namespace).
bool RunStep(const PreparedStep& step, std::uint32_t index, const LaunchSpec& spec,
             const LaunchFds& fds, const SeccompProgram& seccomp, int signal_fd, Zygote& zygote) {
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return false;
  pid_t child = -1;
  std::int32_t start_kind = kStartedCold;
  std::int64_t zygote_cpu_us = 0;
  const char* why = "";
  int saved_errno = 0;
  std::string preload_missing;  // names, for kStepStarted's text
  if (zygote.pid > 0) {
    ZygoteReady ready;
    if (StartWarmStep(zygote, *step.spec, fds.stdin_fd, fds.step_stdout[index],
                      fds.step_stderr[index], ready, why)) {
      child = zygote.pid;
      start_kind = kStartedWarm;
      zygote_cpu_us = ready.cpu_us;
      for (std::size_t i = 0; i < zygote.preload->size() && i < 64; ++i) {
        if ((ready.preload_missing >> i) & 1) preload_missing += (*zygote.preload)[i] + ",";
      }
      if (!preload_missing.empty()) preload_missing.pop_back();
      ::close(zygote.control);
      zygote = Zygote{};
    } else {
      saved_errno = errno;
      StopZygote(zygote);
      start_kind = kStartedWarmFallback;
    }
  }
  if (child < 0) {
    // vfork-style: the step shares our memory until its execve, so no page table is
    // copied and no address space torn down at the exec (a fork of this process — a
    // copy of the whole integr8scode binary's — cost about a millisecond). We sleep
    // meanwhile.
    StepLaunch launch{
        &step,         &spec,   fds.stdin_fd, fds.step_stdout[index], fds.step_stderr[index],
        error_pipe[1], &seccomp};
    child = ::clone(StepEntry, StepStackTop(), CLONE_VM | CLONE_VFORK | SIGCHLD, &launch);
  }
  ::close(error_pipe[1]);
  // Our copies of this step's output pipes go, so the supervisor sees EOF when the
  // step's processes are gone.
  ::close(fds.step_stdout[index]);
  ::close(fds.step_stderr[index]);
  InitMessage started;
  started.event = InitEvent::kStepStarted;
  started.step = index;
  started.at_ns = NowNs();
  started.value = start_kind;
  if (start_kind == kStartedWarmFallback) {
    std::snprintf(started.text, sizeof started.text, "%s (errno %d)", why, saved_errno);
  } else if (start_kind == kStartedWarm) {
    // Warm without the preloaded modules it could not import (docs/warm-starts.md).
    std::snprintf(started.text, sizeof started.text, "%s", preload_missing.c_str());
  }
  if (child < 0) {
    started.event = InitEvent::kStepExited;
    started.value = errno;
    started.wait_status = 127 << 8;
    Send(fds.control, started);
    ::close(error_pipe[0]);
    return true;
  }
  Send(fds.control, started);

  InitMessage exited;
  exited.event = InitEvent::kStepExited;
  exited.step = index;
  bool main_exited = false;
  while (!main_exited) {
    pollfd pfds[2] = {{signal_fd, POLLIN, 0}, {fds.control, POLLIN, 0}};
    if (::poll(pfds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (pfds[1].revents & (POLLHUP | POLLERR)) return false;
    if (pfds[1].revents & POLLIN) {
      SupervisorMessage message;
      const ssize_t n = ::recv(fds.control, &message, sizeof message, MSG_DONTWAIT);
      if (n == 0 || (n > 0 && message.command == SupervisorCommand::kStop)) return false;
    }
    if (pfds[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(signal_fd, &info, sizeof info) > 0) {
      }
      for (;;) {
        int status = 0;
        rusage usage{};
        const pid_t pid = ::wait4(-1, &status, WNOHANG, &usage);
        if (pid <= 0) break;
        if (pid == child) {
          main_exited = true;
          exited.at_ns = NowNs();
          exited.wait_status = spec.gvisor_runsc.empty() ? status : GvisorWaitStatus(status);
          exited.user_cpu_us = usage.ru_utime.tv_sec * 1'000'000 + usage.ru_utime.tv_usec;
          exited.system_cpu_us = usage.ru_stime.tv_sec * 1'000'000 + usage.ru_stime.tv_usec;
          // A warm step's rusage includes its start-up before the go: not the run's.
          const std::int64_t from_user = std::min(exited.user_cpu_us, zygote_cpu_us);
          exited.user_cpu_us -= from_user;
          exited.system_cpu_us -= std::min(exited.system_cpu_us, zygote_cpu_us - from_user);
          exited.max_rss_kib = usage.ru_maxrss;
        }
      }
    }
  }
  // As PID 1 of the namespace, kill(-1) reaches every other process in it: the step's
  // daemons and stragglers end with it.
  ::kill(-1, SIGKILL);
  while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
  }
  int exec_errno = 0;
  if (::read(error_pipe[0], &exec_errno, sizeof exec_errno) ==
      static_cast<ssize_t>(sizeof exec_errno)) {
    exited.value = exec_errno;
  }
  ::close(error_pipe[0]);
  Send(fds.control, exited);
  return true;
}

[[noreturn]] void RunPrepared(const LaunchSpec& spec, const LaunchFds& fds,
                              const SeccompProgram& seccomp, Zygote zygote = {});

// Our own stdio came from the launching process (a terminal, the server's log) and so
// did other descriptors: the sandbox keeps none of them. Call after pivot_root (the
// new /dev/null).
void CloseInherited(std::vector<int> keep, int control) {
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) FailSetup(control, SystemError("open /dev/null"));
  for (const int target : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null_fd, target);
  keep.push_back(STDIN_FILENO);
  keep.push_back(STDOUT_FILENO);
  keep.push_back(STDERR_FILENO);
  CloseAllExcept(keep);
}

}  // namespace

void RunSandboxInit(const LaunchSpec& spec, const LaunchFds& fds, const SeccompProgram& seccomp) {
  // What `ps` shows for every sandbox's init; cosmetic, so its failure is ignored.
  ::prctl(PR_SET_NAME, "i8c-sandbox");
  ResetSignals();
  // If the process that cloned us dies, so do we — and with us the namespace. The
  // control socket's hang-up covers the window before this prctl.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    FailSetup(fds.control, SystemError("prctl PR_SET_PDEATHSIG"));
  }
  pollfd hangup{fds.control, 0, 0};
  if (::poll(&hangup, 1, 0) > 0 && (hangup.revents & (POLLHUP | POLLERR))) ::_exit(1);
  // Files on the tmpfs are charged to the slot but belong to no process: when they fill
  // the memory limit, the OOM killer would pick the init (the largest resident process)
  // and end the sandbox without a verdict. -1000 exempts it; a host that withholds
  // CAP_SYS_RESOURCE (some containers) refuses that, and the program's 1000 (ExecStep)
  // must do.
  (void)SetOomScoreAdj("-1000", 5);

  // The network namespace made ahead of time (none when the clone made one).
  if (fds.netns >= 0 && ::setns(fds.netns, CLONE_NEWNET) != 0) {
    FailSetup(fds.control, SystemError("join the network namespace"));
  }

  // Checklist. Order matters: the cgroup first (v1: join now; v2: born there), so that
  // everything below is charged to the slot; the cgroup namespace after joining, so
  // the slot is its root.
  for (const std::string& file : spec.cgroup_join_files) {
    if (auto s = WriteControlFile(file, "0"); !s)
      FailSetup(fds.control, std::move(s.error()).WithContext("join cgroup"));
  }
  if (::unshare(CLONE_NEWCGROUP) != 0)
    FailSetup(fds.control, SystemError("unshare cgroup namespace"));
  if (auto s = EnterFreshTimeNamespace(); !s) FailSetup(fds.control, s.error());
  // The zygote's binary is outside the new root: opened while the root is built, before
  // pivot_root, through a view of this sandbox's own. A missing one only means cold runs.
  ::umask(022);
  UniqueFd zygote_file;
  if (auto s = BuildRootFilesystem(spec, &zygote_file); !s) FailSetup(fds.control, s.error());
  // A zygote inside the sandbox (the interpreter itself) is opened in the new root: under
  // the sandbox's own view of /usr, its inode is already this run's.
  if (spec.prebuilt && spec.warm.zygote_inside && !spec.warm.zygote.empty()) {
    zygote_file = UniqueFd(::open(spec.warm.zygote.c_str(), O_PATH | O_CLOEXEC));
  }
  const int zygote_exe = zygote_file.Release();
  if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
    FailSetup(fds.control, SystemError("sethostname"));
  }
  ::setdomainname("", 0);

  if (!spec.prebuilt) {
    if (auto s = FinishRootFilesystem(spec, fds.source, spec.tmpfs_bytes); !s)
      FailSetup(fds.control, s.error());
    RunPrepared(spec, fds, seccomp);
  }
  // Built ahead: keep only the control socket, say so, then wait for the run.
  CloseInherited({fds.control, zygote_exe}, fds.control);
  // Warm: the step's program starts now and waits for its run (docs/warm-starts.md).
  Zygote zygote;
  if (zygote_exe >= 0) {
    zygote = StartZygote(spec, zygote_exe, seccomp);
    ::close(zygote_exe);
  }
  InitMessage prebuilt;
  prebuilt.event = InitEvent::kPrebuilt;
  prebuilt.at_ns = NowNs();
  Send(fds.control, prebuilt);
  auto run = ReceiveLaunch(fds.control);
  if (!run) ::_exit(run.error().code == ErrorCode::kUnavailable ? 0 : 1);  // no run came
  if (!LaunchSpec::Fits(spec, run->spec) || run->fds.source < 0) {
    FailSetup(fds.control,
              MakeError(ErrorCode::kInternal, "the run does not fit the sandbox built ahead"));
  }
  if (auto s = FinishRootFilesystem(run->spec, run->fds.source, spec.tmpfs_bytes); !s) {
    FailSetup(fds.control, s.error());
  }
  LaunchFds run_fds = run->fds;
  run_fds.control = fds.control;
  // `run` owns the received descriptors; it lives until this process exits.
  RunPrepared(run->spec, run_fds, seccomp, zygote);
}

namespace {

// The sandbox is built and holds the program: drop everything else, report Ready, run
// the steps. Never returns.
[[noreturn]] void RunPrepared(const LaunchSpec& spec, const LaunchFds& fds,
                              const SeccompProgram& seccomp, Zygote zygote) {
  std::vector<int> keep = fds.step_stdout;
  keep.push_back(zygote.control);
  keep.insert(keep.end(), fds.step_stderr.begin(), fds.step_stderr.end());
  keep.push_back(fds.control);
  keep.push_back(fds.stdin_fd);
  CloseInherited(keep, fds.control);

  std::vector<PreparedStep> steps(spec.steps.size());
  for (std::size_t i = 0; i < spec.steps.size(); ++i) {
    steps[i].spec = &spec.steps[i];
    const std::vector<std::string>* argv = &spec.steps[i].argv;
    const std::vector<std::string>* env = &spec.steps[i].env;
    static const std::vector<std::string> kRunscEnv = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    if (!spec.gvisor_runsc.empty()) {
      steps[i].gvisor_config = GvisorConfigJson(spec, spec.steps[i]);
      steps[i].gvisor_argv = GvisorArgv(spec);
      argv = &steps[i].gvisor_argv;
      env = &kRunscEnv;
    }
    for (const std::string& arg : *argv) steps[i].argv.push_back(const_cast<char*>(arg.c_str()));
    steps[i].argv.push_back(nullptr);
    for (const std::string& var : *env) steps[i].envp.push_back(const_cast<char*>(var.c_str()));
    steps[i].envp.push_back(nullptr);
  }

  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  // Unblocked, SIGCHLD (default: discard) would never reach the signalfd: the init would
  // not see its steps end.
  if (::sigprocmask(SIG_BLOCK, &chld, nullptr) != 0) {
    FailSetup(fds.control, SystemError("block SIGCHLD"));
  }
  const int signal_fd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) FailSetup(fds.control, SystemError("signalfd"));

  InitMessage ready;
  ready.event = InitEvent::kReady;
  ready.at_ns = NowNs();
  Send(fds.control, ready);

  // A zygote serves only the very program it was started as (the same argv, environment
  // and preloaded modules), as the last step. The slot's last run was CPython 3.11 and this one is
  // another program: an ordinary cold start, not a failed zygote — it goes before any
  // step runs beside it.
  if (zygote.pid > 0 &&
      (steps.empty() || *zygote.argv != spec.steps.back().argv ||
       *zygote.env != spec.steps.back().env || *zygote.preload != spec.warm.preload)) {
    StopZygote(zygote);
  }
  for (std::uint32_t i = 0; i < steps.size(); ++i) {
    // Every step waits for the go: the supervisor writes that step's limits to the slot
    // and resets its accounting first.
    if (!WaitForGo(fds.control, i)) break;
    // A zygote is the program of the last step only (a compile step runs cold).
    Zygote none;
    Zygote& warm = i + 1 == steps.size() ? zygote : none;
    if (!RunStep(steps[i], i, spec, fds, seccomp, signal_fd, warm)) break;
  }
  ::_exit(0);
}

}  // namespace

}  // namespace integr8scode
