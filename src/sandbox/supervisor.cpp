#include "sandbox/supervisor.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.hpp"
#include "sandbox/protocol.hpp"

namespace integr8scode {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t NowNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int PollTimeout(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return static_cast<int>(std::min<long long>(left + 1, 60'000));
}

bool Receive(int control, InitMessage& message) {
  for (;;) {
    const ssize_t n = ::recv(control, &message, sizeof message, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(sizeof message);
  }
}

}  // namespace

Supervisor::Supervisor(UniqueFd control, Child init, std::vector<UniqueFd> stdout_pipes,
                       std::vector<UniqueFd> stderr_pipes, CgroupSlot& slot, const Limits& limits,
                       const CancelToken* cancel, OutputSink* sink)
    : control_(std::move(control)),
      init_(std::move(init)),
      stdout_pipes_(std::move(stdout_pipes)),
      stderr_pipes_(std::move(stderr_pipes)),
      slot_(slot),
      cancel_(cancel),
      stdout_(OutputStream::kStdout, limits.output_bytes, sink),
      stderr_(OutputStream::kStderr, limits.output_bytes, sink) {}

Supervisor::~Supervisor() {
  if (!exited_) {
    Kill();
    WaitForExit(std::chrono::seconds(10));
  }
  // Reaped (when it is ours to reap) before the control socket and pipes close.
  init_ = Child();
}

void Supervisor::Kill() { init_.Kill(); }

bool Supervisor::WaitForExit(std::chrono::milliseconds timeout) {
  if (exited_) return true;
  auto exited = init_.WaitExit(timeout);
  if (!exited) {
    Log(LogLevel::kWarn, "cannot watch the sandbox init", {{"error", exited.error().Describe()}});
    return false;
  }
  exited_ = *exited;
  return exited_;
}

Status Supervisor::AwaitReady(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    pollfd pfds[2] = {{control_.Get(), POLLIN, 0}, {init_.PidFd(), POLLIN, 0}};
    const int ready = ::poll(pfds, 2, PollTimeout(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (pfds[0].revents & POLLIN) {
      InitMessage message;
      if (Receive(control_.Get(), message)) {
        if (message.event == InitEvent::kReady) return {};
        if (message.event == InitEvent::kSetupFailed) {
          message.text[sizeof message.text - 1] = '\0';
          return Fail(SystemError(message.value, fmt::format("sandbox setup: {}", message.text)));
        }
      }
    }
    if ((pfds[0].revents & (POLLHUP | POLLERR)) || (pfds[1].revents & POLLIN)) {
      return Fail(ErrorCode::kInternal, "the sandbox init died during setup");
    }
    if (Clock::now() >= deadline) {
      Kill();
      return Fail(ErrorCode::kInternal, "the sandbox setup did not finish in time");
    }
  }
}

bool Supervisor::ReadPipe(UniqueFd& pipe, OutputCapture& capture, bool& flooded) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(pipe.Get(), buffer, sizeof buffer);
    if (n > 0) {
      if (!capture.Append(std::string_view(buffer, static_cast<std::size_t>(n)))) flooded = true;
      if (static_cast<std::size_t>(n) < sizeof buffer) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    pipe.Reset();  // EOF (or error): every writer is gone
    return false;
  }
}

void Supervisor::Drain(std::uint32_t index, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  UniqueFd& out = stdout_pipes_[index];
  UniqueFd& err = stderr_pipes_[index];
  bool ignored = false;
  while (out || err) {
    pollfd pfds[2] = {{out.Get(), POLLIN, 0}, {err.Get(), POLLIN, 0}};
    const int ready = ::poll(pfds, 2, PollTimeout(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    if (out && (pfds[0].revents & (POLLIN | POLLHUP | POLLERR))) ReadPipe(out, stdout_, ignored);
    if (err && (pfds[1].revents & (POLLIN | POLLHUP | POLLERR))) ReadPipe(err, stderr_, ignored);
  }
  out.Reset();
  err.Reset();
}

Result<StepReport> Supervisor::RunStep(std::uint32_t index, const StepPlan& plan) {
  StepReport report;
  StepFacts& facts = report.facts;
  facts.compile = plan.compile;
  facts.limits = plan.limits;
  Limits applied = plan.limits;
  applied.pids += plan.platform_pids;
  if (auto s = slot_.Apply(applied); !s) {
    // What an earlier step left on the tmpfs is charged to the slot and cannot be
    // reclaimed: this step could not run within its memory limit.
    if (s.error().reason != kMemoryLimitBelowUsage)
      return Fail(std::move(s.error()).WithContext("cgroup limits"));
    facts.limits_unfit = true;
    report.verdict = Judge(facts);
    return report;
  }
  if (auto s = slot_.BeginAccounting(); !s)
    return Fail(std::move(s.error()).WithContext("cgroup accounting"));
  const SupervisorMessage go{SupervisorCommand::kRunStep, index};
  if (::send(control_.Get(), &go, sizeof go, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof go)) {
    return Fail(SystemError("start step"));
  }

  // The init's clock (its time namespace starts at zero) measures the step; ours only
  // the time from its start report to a kill.
  std::int64_t started_ns = 0;
  std::int64_t started_here_ns = 0;
  std::int64_t ended_ns = 0;
  std::int64_t rusage_cpu_us = 0;  // wait4: the step's main process and its waited children
  std::uint64_t rusage_peak_bytes = 0;
  bool step_exited = false;
  bool init_dead = false;
  auto deadline = Clock::now() + std::chrono::seconds(30);  // until the step has started
  UniqueFd& out = stdout_pipes_[index];
  UniqueFd& err = stderr_pipes_[index];
  const int cancel_fd = cancel_ != nullptr ? cancel_->Fd() : -1;

  while (!step_exited && !init_dead && facts.stop == StopReason::kNone) {
    pollfd pfds[5] = {{control_.Get(), POLLIN, 0},
                      {out.Get(), POLLIN, 0},
                      {err.Get(), POLLIN, 0},
                      {init_.PidFd(), POLLIN, 0},
                      {cancel_fd, POLLIN, 0}};
    const int ready = ::poll(pfds, 5, PollTimeout(deadline));
    if (ready < 0 && errno == EINTR) continue;
    bool flooded_out = false;
    bool flooded_err = false;
    if (out && (pfds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      ReadPipe(out, stdout_, flooded_out);
    if (err && (pfds[2].revents & (POLLIN | POLLHUP | POLLERR)))
      ReadPipe(err, stderr_, flooded_err);
    if (flooded_out || flooded_err) {
      facts.stop = StopReason::kOutputLimit;
      facts.flooded = flooded_out ? OutputStream::kStdout : OutputStream::kStderr;
      break;
    }
    if (pfds[0].revents & POLLIN) {
      InitMessage message;
      while (Receive(control_.Get(), message)) {
        if (message.step != index) continue;
        if (message.event == InitEvent::kStepStarted) {
          // A warm zygote that was there but unusable (docs/warm-starts.md): the step
          // ran cold; counted (integr8scode_warm_fallbacks_total) and logged with why.
          if (message.value == static_cast<std::int32_t>(StartKind::kWarm)) {
            report.start = StartKind::kWarm;
            message.text[sizeof message.text - 1] = '\0';
            report.preload_missing = message.text;
          } else if (message.value == static_cast<std::int32_t>(StartKind::kWarmFallback)) {
            report.start = StartKind::kWarmFallback;
            message.text[sizeof message.text - 1] = '\0';
            Log(LogLevel::kWarn, "a warm start fell back to cold", {{"reason", message.text}});
          }
          started_ns = message.at_ns;
          started_here_ns = NowNs();
          deadline = Clock::now() + plan.limits.timeout;
        } else if (message.event == InitEvent::kStepExited) {
          step_exited = true;
          ended_ns = message.at_ns;
          facts.wait_status = message.wait_status;
          facts.exec_errno = message.value;
          rusage_cpu_us = message.user_cpu_us + message.system_cpu_us;
          rusage_peak_bytes = static_cast<std::uint64_t>(message.max_rss_kib) * 1024;
        }
      }
    }
    if (pfds[3].revents & POLLIN) init_dead = true;
    if (cancel_ != nullptr && (cancel_->Cancelled() || (pfds[4].revents & POLLIN))) {
      facts.stop = StopReason::kCancelled;
      break;
    }
    if (!step_exited && Clock::now() >= deadline) {
      const bool started = started_here_ns != 0;
      facts.stop = started ? StopReason::kTimeout : StopReason::kNone;
      if (!started) return Fail(ErrorCode::kInternal, "the sandbox did not start the step");
      break;
    }
  }
  if (!step_exited) {
    Kill();
    // A step never started (the init died first) lasted nothing.
    ended_ns = started_here_ns != 0 ? started_ns + (NowNs() - started_here_ns) : 0;
    if (!WaitForExit(std::chrono::seconds(10))) {
      return Fail(ErrorCode::kInternal, "the sandbox did not die after SIGKILL");
    }
  }
  // After the step's exit report, or the death of the init, every writer of this step's
  // pipes is gone: what is left in them arrives now, then EOF.
  Drain(index, std::chrono::seconds(5));

  auto usage = slot_.Read();
  if (!usage) return Fail(std::move(usage.error()).WithContext("cgroup usage"));
  facts.oom_kills = usage->oom_kills;
  facts.main_cpu_us = rusage_cpu_us;
  facts.pids_limit_hits = usage->pids_limit_hits;
  // The cgroup counts every process of the step (orphans and daemons included); wait4
  // only the main process and the children it waited for. The cgroup wins; wait4 stands
  // in where the cgroup has no counter (a v2 host without the memory controller).
  report.usage.cpu_time_ms = std::max(usage->cpu_time_us, rusage_cpu_us) / 1000;
  report.usage.peak_memory_bytes =
      usage->peak_memory_bytes > 0 ? usage->peak_memory_bytes : rusage_peak_bytes;
  if (started_here_ns == 0) started_ns = ended_ns;
  report.usage.wall_time_ms = (ended_ns - started_ns) / 1'000'000;
  report.verdict = Judge(facts);
  if (LogEnabled(LogLevel::kDebug)) {
    Log(LogLevel::kDebug, "sandbox step finished",
        {{"step", index},
         {"status", StatusName(report.verdict.status)},
         {"wall_ms", report.usage.wall_time_ms},
         {"cpu_ms", report.usage.cpu_time_ms},
         {"peak_bytes", report.usage.peak_memory_bytes}});
  }
  return report;
}

Child Supervisor::Finish() {
  if (!exited_) {
    const SupervisorMessage stop{SupervisorCommand::kStop, 0};
    // Unchecked: an init that did not get the stop (it is gone, or the socket broke) sees
    // the socket close with this supervisor, or is killed by the caller's wait.
    ::send(control_.Get(), &stop, sizeof stop, MSG_NOSIGNAL);
  }
  stdout_.Finish();
  stderr_.Finish();
  exited_ = true;  // the destructor leaves it to the new owner
  return std::move(init_);
}

}  // namespace integr8scode
