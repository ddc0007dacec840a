// integr8scode-pod-init: the first process of an execution's pod (docs/kubernetes-executor.md).
// Linked statically, it is copied from the helper image into an emptyDir by an init
// container and runs in the runtime's image, whatever libc that has. It runs the
// compile and run steps, keeps the program's stdout and stderr apart (the kubelet's log
// would merge them) by writing them as records to its own stdout (k8s/log_frames.hpp),
// enforces each step's wall clock and the output caps, and measures wall time, CPU time
// and peak memory where the program runs.
//
//   pod-init install DEST
//   pod-init run --stdin PATH|- --output BYTES --fsize BYTES --nofile N
//                --step NAME TIMEOUT_MS ARGC ARGV... [--step ...]
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"
#include "k8s/log_frames.hpp"

namespace {

namespace podlog = integr8scode::podlog;
using integr8scode::UniqueFd;

struct Step {
  std::string name;
  std::int64_t timeout_ms = 0;
  std::vector<std::string> argv;
};

struct Plan {
  std::string stdin_path = "-";
  std::uint64_t output_cap = 1 << 20;
  std::uint64_t file_size = 32 << 20;
  std::uint64_t open_files = 256;
  std::vector<Step> steps;
};

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      std::_Exit(70);  // the log is gone: nothing can be reported any more
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::int64_t NowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

bool ParseU64(const char* text, std::uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') return false;
  out = value;
  return true;
}

bool ParsePlan(int argc, char** argv, Plan& plan) {
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto next_u64 = [&](std::uint64_t& out) { return i + 1 < argc && ParseU64(argv[++i], out); };
    if (arg == "--stdin" && i + 1 < argc) {
      plan.stdin_path = argv[++i];
    } else if (arg == "--output") {
      if (!next_u64(plan.output_cap)) return false;
    } else if (arg == "--fsize") {
      if (!next_u64(plan.file_size)) return false;
    } else if (arg == "--nofile") {
      if (!next_u64(plan.open_files)) return false;
    } else if (arg == "--step" && i + 3 < argc) {
      Step step;
      step.name = argv[++i];
      std::uint64_t timeout = 0, count = 0;
      if (!next_u64(timeout) || !next_u64(count) || count == 0 ||
          count > static_cast<std::uint64_t>(argc - i - 1)) {
        return false;
      }
      step.timeout_ms = static_cast<std::int64_t>(timeout);
      for (std::uint64_t k = 0; k < count; ++k) step.argv.emplace_back(argv[++i]);
      plan.steps.push_back(std::move(step));
    } else {
      return false;
    }
  }
  return !plan.steps.empty();
}

// The container's OOM kills so far (cgroup v2 memory.events); 0 where it is not visible.
std::uint64_t OomKills() {
  std::ifstream events("/sys/fs/cgroup/memory.events");
  std::string key;
  std::uint64_t value = 0;
  while (events >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return 0;
}

int Install(const char* destination) {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  const std::string temporary = std::string(destination) + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
    if (!in || !out) {
      std::perror("pod-init install");
      return 1;
    }
  }
  if (::chmod(temporary.c_str(), 0555) != 0 || ::rename(temporary.c_str(), destination) != 0) {
    std::perror("pod-init install");
    return 1;
  }
  return 0;
}

// Runs in the forked child: the errno of what failed goes to the parent as a start failure.
[[noreturn]] void ReportAndExit(int report) {
  const int saved = errno;
  (void)!::write(report, &saved, sizeof saved);
  ::_exit(127);
}

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void ExecStep(const Step& step, const Plan& plan, bool with_stdin, int out, int err,
                           int report) {
  if (::setpgid(0, 0) != 0) ReportAndExit(report);
  int in = -1;
  if (with_stdin && plan.stdin_path != "-") {
    in = ::open(plan.stdin_path.c_str(), O_RDONLY);
    if (in < 0) ReportAndExit(report);
  } else if (!with_stdin) {
    in = ::open("/dev/null", O_RDONLY);
    if (in < 0) ReportAndExit(report);
  }
  if (in > 0 && ::dup2(in, 0) < 0) ReportAndExit(report);
  if (::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ReportAndExit(report);
  // setrlimit with soft = hard fails only to raise a hard limit above the pod's own
  // (EPERM), which leaves a stricter limit in force: nothing to report.
  const rlimit fsize{plan.file_size, plan.file_size};
  (void)::setrlimit(RLIMIT_FSIZE, &fsize);
  const rlimit nofile{plan.open_files, plan.open_files};
  (void)::setrlimit(RLIMIT_NOFILE, &nofile);
  // The CPU-time backstop of the local sandbox: a busy loop is stopped even if the
  // wall clock below were not.
  const rlim_t cpu = static_cast<rlim_t>(step.timeout_ms / 1000 + 2);
  const rlimit cpu_limit{cpu, cpu};
  (void)::setrlimit(RLIMIT_CPU, &cpu_limit);
  ::signal(SIGPIPE, SIG_DFL);
  std::vector<char*> args;
  for (const std::string& a : step.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The catalog's image commands are bare names for the PATH (image_run, image_compile).
  if (std::strchr(args[0], '/') == nullptr) ::execvp(args[0], args.data());
  ::execv(args[0], args.data());
  // A host path from the catalog (/usr/bin/python3.11) that the image keeps elsewhere
  // on its PATH (/usr/local/bin in the official images).
  if (errno == ENOENT && args[0][0] == '/') {
    const char* base = std::strrchr(args[0], '/') + 1;
    ::execvp(base, args.data());
  }
  ReportAndExit(report);
}

struct Streams {
  std::uint64_t written[2] = {0, 0};
};

// Runs one step to its end and reports it. Returns whether the next step may run.
bool RunStep(const Step& step, const Plan& plan, bool with_stdin, Streams& streams) {
  podlog::StepEnd end;
  end.step = step.name;
  int out[2], err[2], report[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(report, O_CLOEXEC) != 0) {
    end.exec_errno = errno;
    WriteAll(1, podlog::EncodeStepEnd(end));
    return false;
  }
  const std::uint64_t oom_before = OomKills();
  WriteAll(1, podlog::EncodeStepStart(step.name));
  const std::int64_t started = NowMs();
  // Not a Child (common/child.hpp): this runs on whatever kernel the node has, with a
  // polling fallback where pidfd_open is missing, and it needs wait4's rusage, a reap
  // that does not block, and a kill of the whole process group, which a pidfd cannot name.
  const pid_t pid = ::fork();
  if (pid == 0) ExecStep(step, plan, with_stdin, out[1], err[1], report[1]);
  ::close(out[1]);
  ::close(err[1]);
  ::close(report[1]);
  if (pid < 0) {
    end.exec_errno = errno;
    WriteAll(1, podlog::EncodeStepEnd(end));
    return false;
  }
  ::setpgid(pid, pid);  // both sides, so that the kill below never misses the group

  // The step ends when its program exits, not when its pipes close: a child it left
  // behind may hold them open. The pidfd says when; what is already written is still read.
  UniqueFd exit_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {exit_fd.Get(), POLLIN, 0}};
  const std::int64_t deadline = started + step.timeout_ms;
  std::vector<char> buffer(64 * 1024);
  int status = 0;
  rusage usage{};
  bool exited = false;
  std::int64_t drain_until = 0;
  int open_pipes = 2;
  for (;;) {
    const std::int64_t now = NowMs();
    if (!exited && now >= deadline) {
      end.stop = podlog::StepStop::kTimeout;
      break;
    }
    if (!exited && ::wait4(pid, &status, WNOHANG, &usage) == pid) {
      exited = true;
      end.wall_ms = now - started;
      drain_until = now + 100;
    }
    if (exited && (now >= drain_until || open_pipes == 0)) break;
    // Without a pidfd (kernels before 5.3), the exit is noticed within 50 ms.
    const std::int64_t wait =
        exited ? drain_until - now
               : std::min<std::int64_t>(deadline - now, exit_fd.Get() < 0 ? 50 : deadline - now);
    const int ready = ::poll(fds, exited || exit_fd.Get() < 0 ? 2 : 3, static_cast<int>(wait));
    if (ready < 0 && errno != EINTR) break;
    if (exited && ready == 0) break;
    for (int s = 0; s < 2 && end.stop == podlog::StepStop::kNone; ++s) {
      if (fds[s].fd < 0 || fds[s].revents == 0) continue;
      const ssize_t n = ::read(fds[s].fd, buffer.data(), buffer.size());
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        ::close(fds[s].fd);
        fds[s].fd = -1;
        --open_pipes;
        continue;
      }
      std::string_view bytes(buffer.data(), static_cast<std::size_t>(n));
      const std::uint64_t room =
          plan.output_cap > streams.written[s] ? plan.output_cap - streams.written[s] : 0;
      const bool over = bytes.size() > room;
      if (over) bytes = bytes.substr(0, room);
      if (!bytes.empty()) {
        WriteAll(1, s == 0 ? podlog::EncodeStdout(bytes) : podlog::EncodeStderr(bytes));
        streams.written[s] += bytes.size();
      }
      if (over) end.stop = s == 0 ? podlog::StepStop::kStdoutCap : podlog::StepStop::kStderrCap;
    }
    if (end.stop != podlog::StepStop::kNone) break;
  }
  // Whatever the program left behind in its group goes with it.
  ::kill(-pid, SIGKILL);
  if (!exited) {
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    end.wall_ms = NowMs() - started;
  }
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd >= 0) ::close(fds[i].fd);
  }
  int exec_errno = 0;
  if (::read(report[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno)
    end.exec_errno = exec_errno;
  ::close(report[0]);
  if (WIFEXITED(status)) end.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) end.signal = WTERMSIG(status);
  end.cpu_ms = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 +
               (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000;
  end.peak_memory_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  end.oom_kills = OomKills() - oom_before;
  WriteAll(1, podlog::EncodeStepEnd(end));
  const bool clean =
      end.stop == podlog::StepStop::kNone && end.exec_errno == 0 && end.exit_code == 0;
  // The container's own exit mirrors the program's, so that the kubelet's view
  // (exit code, OOMKilled) agrees with the records.
  if (!clean || step.name == "run") {
    WriteAll(1, podlog::EncodeDone());
    // As PID 1 of its container it cannot die of a signal it raises (the kernel ignores
    // it), so a signal is told as a shell does: 128 + its number.
    if (end.signal) std::_Exit(128 + *end.signal);
    std::_Exit(end.exit_code.value_or(end.stop == podlog::StepStop::kNone ? 1 : 137));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "install") return Install(argv[2]);
  Plan plan;
  if (argc < 2 || std::string_view(argv[1]) != "run" || !ParsePlan(argc, argv, plan)) {
    std::fputs("usage: pod-init install DEST | pod-init run --step NAME TIMEOUT_MS ARGC ARGV...\n",
               stderr);
    return 64;
  }
  ::signal(SIGPIPE, SIG_IGN);
  Streams streams;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (!RunStep(plan.steps[i], plan, i + 1 == plan.steps.size(), streams)) break;
  }
  WriteAll(1, podlog::EncodeDone());
  return 0;
}
