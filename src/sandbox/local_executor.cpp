// The local sandbox executor: slots, launch, supervision (docs/sandbox.md).
#include "sandbox/local_executor.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "common/log.hpp"
#include "common/try.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/gvisor_bundle.hpp"
#include "sandbox/launcher.hpp"
#include "sandbox/node_zygote/node_zygote.hpp"
#include "sandbox/prebuilt.hpp"
#include "sandbox/pypy_bootstrap.hpp"
#include "sandbox/seccomp_policy.hpp"
#include "sandbox/slot_pool.hpp"
#include "sandbox/spawner.hpp"
#include "sandbox/supervisor.hpp"
#include "sandbox/zygote_protocol.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kHostEtcFiles[] = {"/etc/ld.so.cache", "/etc/localtime"};
// How long a slot must stay unused before its next sandbox is built ahead.
constexpr auto kIdleBeforePrebuild = std::chrono::milliseconds(5);

// The host's top-level links into /usr (merged /usr: /bin → usr/bin …), mirrored in
// every sandbox root.
std::vector<std::pair<std::string, std::string>> HostRootSymlinks() {
  std::vector<std::pair<std::string, std::string>> links;
  for (const char* name : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    std::error_code ec;
    const fs::path path = fs::path("/") / name;
    if (!fs::is_symlink(path, ec)) continue;
    const fs::path target = fs::read_symlink(path, ec);
    if (ec || target.is_absolute() || !target.string().starts_with("usr/")) continue;
    links.emplace_back(name, target.string());
  }
  return links;
}

// The program's text as a sealed memfd: the sandbox init copies it into the new root.
Result<UniqueFd> MakeMemfd(const char* name, std::string_view content) {
  UniqueFd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return Fail(SystemError("memfd_create"));
  while (!content.empty()) {
    const ssize_t n = ::write(fd.Get(), content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(SystemError("write memfd"));
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  // Sealed, the text the init copies is the text that was submitted, whoever else holds
  // the descriptor; unsealed it is not, so failing to seal fails the run.
  if (::fcntl(fd.Get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
      0) {
    return Fail(SystemError("seal memfd"));
  }
  if (::lseek(fd.Get(), 0, SEEK_SET) < 0) return Fail(SystemError("rewind memfd"));
  return fd;
}

// Reopens a memfd read-only, so the program's stdin cannot be written to.
Result<UniqueFd> ReopenReadOnly(int fd) {
  const std::string path = fmt::format("/proc/self/fd/{}", fd);
  UniqueFd reopened(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!reopened) return Fail(SystemError("reopen stdin read-only"));
  return reopened;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Fail(SystemError("pipe2"));
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  // Only the server's end: the program's writes block as on any pipe.
  if (::fcntl(pipe.read.Get(), F_SETFL, O_NONBLOCK) != 0) {
    return Fail(SystemError("make the output pipe non-blocking"));
  }
  return pipe;
}

std::vector<std::string> BaseEnvironment(const Runtime& runtime) {
  std::vector<std::string> env = {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      std::string("HOME=") + std::string(kSandboxWorkDir),
      "USER=sandbox",
      "LOGNAME=sandbox",
      "LANG=C.UTF-8",
      "TMPDIR=/tmp",
  };
  for (const auto& [key, value] : runtime.env) env.push_back(key + "=" + value);
  return env;
}

StepSpec MakeStep(std::vector<std::string> argv, std::vector<std::string> env,
                  const Limits& limits) {
  StepSpec step;
  step.argv = std::move(argv);
  step.env = std::move(env);
  step.file_size_bytes = limits.file_size_bytes;
  step.open_files = limits.open_files;
  step.processes = limits.pids;
  step.cpu_seconds = CpuTimeBackstopSeconds(limits.timeout);
  return step;
}

RunResult PlatformError(std::string_view what, const Error& error) {
  Log(LogLevel::kError, "sandbox failure", {{"what", what}, {"error", error.Describe()}});
  RunResult result;
  result.status = ExecutionStatus::kError;
  result.message =
      "the sandbox could not run the program; this is a fault of the service, not of your code";
  return result;
}

class LocalExecutor final : public Executor {
 public:
  // `warm`: warm starts were asked for (sandbox.warm) and sandboxes are built ahead.
  // `zygote_missing`: integr8scode-python-zygote is not there; options.warm_zygote is
  // then empty and CPython runs that would have been warm are counted as fallbacks.
  // `node_zygote_missing`: the same for Node's boot (options.node_zygote_dir).
  LocalExecutor(SandboxOptions options, std::unique_ptr<CgroupManager> cgroups,
                std::unique_ptr<SandboxLauncher> launcher, std::unique_ptr<SlotPool> slots,
                bool warm, bool zygote_missing, bool node_zygote_missing)
      : options_(std::move(options)),
        cgroups_(std::move(cgroups)),
        launcher_(std::move(launcher)),
        slots_(std::move(slots)),
        root_symlinks_(HostRootSymlinks()),
        warm_(warm),
        zygote_missing_(zygote_missing),
        node_zygote_missing_(node_zygote_missing) {
    if (options_.prebuild) {
      prebuilder_ = std::thread([this] { PrebuildLoop(); });
      for (std::size_t i = 0; i < slots_->Size(); ++i) {
        SlotPool::Lease lease = slots_->Acquire();
        Slot& slot = *lease;
        Prebuild(slot);  // after the release below: the prebuilder takes it if still free
      }
    }
  }

  ~LocalExecutor() override {
    if (prebuilder_.joinable()) {
      {
        std::lock_guard lock(prebuild_mutex_);
        stopping_ = true;
      }
      prebuild_changed_.notify_all();
      prebuilder_.join();
    }
    // The slots (and the sandboxes built ahead in them) go before the launcher.
    slots_.reset();
  }

  std::size_t Capacity() const override { return slots_->Size(); }
  std::string_view Kind() const override { return "local"; }

  Status CheckReady() override {
    struct stat st {};
    if (::stat(RootMountPoint().c_str(), &st) != 0)
      return Fail(SystemError("sandbox mount point is missing"));
    return {};
  }

  RunResult Run(const RunRequest& request) override {
    if (request.runtime == nullptr)
      return PlatformError("run", MakeError(ErrorCode::kInternal, "no runtime"));
    SlotPool::Lease slot = slots_->Acquire();
    Settle(*slot);
    // A sandbox built ahead that still runs keeps the slot's cgroup (its init joins it
    // first thing, and the kernel does not remove a cgroup with a process in it); else
    // the slot's files are looked at, a stat per hierarchy. (A cgroup removed in the
    // instant before the join fails that sandbox's hand-over: the run then builds its
    // own, which fails, and the next run finds the cgroup missing.)
    const bool held = slot->prebuilt && slot->prebuilt->Alive();
    if (!held && !slot->cgroup->Intact()) {
      Log(LogLevel::kWarn, "a sandbox slot's cgroup disappeared; creating it again",
          {{"slot", slot->number}});
      slot->prebuilt.reset();
      slot->cgroup.reset();
      auto recreated = cgroups_->CreateSlot(SlotPool::CgroupName(slot->number));
      if (!recreated) return PlatformError("slot", recreated.error());
      slot->cgroup = std::move(*recreated);
    }
    RunResult result = RunInSlot(request, *slot);
    // A run that ended on a platform failure had its sandbox killed and waited for
    // already: its slot is checked now.
    if (!slot->retiring.Running()) CleanUp(*slot);
    slot->last_host_paths = request.runtime->host_paths;
    slot->last_root_tree = request.runtime->root_tree;
    slot->last_zygote_dir = ZygoteDirFor(*request.runtime);
    Slot& released = *slot;
    { SlotPool::Lease done = std::move(slot); }  // free for the next run at once
    if (options_.prebuild) Prebuild(released);
    return result;
  }

 private:
  // Asks the prebuilder thread to build the slot's next sandbox while it is idle. If a
  // run takes the slot first, it builds its own: under load, runs do not wait for
  // sandboxes built ahead; when idle, runs find theirs ready.
  void Prebuild(Slot& slot) {
    {
      std::lock_guard lock(prebuild_mutex_);
      to_prebuild_.push_back({&slot, Clock::now() + kIdleBeforePrebuild});
    }
    prebuild_changed_.notify_one();
  }

  void PrebuildLoop() {
    for (;;) {
      Slot* candidate = nullptr;
      {
        std::unique_lock lock(prebuild_mutex_);
        prebuild_changed_.wait(lock, [&] { return stopping_ || !to_prebuild_.empty(); });
        if (stopping_) return;
        // Only a slot that stays idle gets its sandbox built ahead: under load the next
        // run takes the slot within a millisecond and builds its own, and nothing is
        // built twice.
        const auto due = to_prebuild_.front().due;
        if (prebuild_changed_.wait_until(lock, due, [&] { return stopping_; })) return;
        candidate = to_prebuild_.front().slot;
        to_prebuild_.pop_front();
      }
      std::optional<SlotPool::Lease> slot = slots_->TryAcquire(*candidate);
      if (!slot || (*slot)->prebuilt) continue;  // busy again, or already has one
      Slot& s = **slot;
      Settle(s);
      LaunchSpec shape = SlotShape(s);
      shape.host_paths = s.last_host_paths;
      shape.root_tree = s.last_root_tree;
      shape.zygote_dir = s.last_zygote_dir;
      shape.tmpfs_bytes = Limits{}.tmpfs_bytes;
      if (!s.last_warm.argv.empty()) shape.warm = s.last_warm;
      auto built = PrebuiltSandbox::Build(*launcher_, std::move(shape), s.cgroup->CloneIntoFd());
      if (built) {
        s.prebuilt = std::move(*built);
      } else {
        Log(LogLevel::kWarn, "cannot build a sandbox ahead; the next run builds its own",
            {{"slot", s.number}, {"error", built.error().Describe()}});
      }
    }
  }

  // Waits for the slot's last sandbox to be gone. Its run's result was returned at its
  // last step's report (Supervisor::Finish): its init was then told to stop, and the
  // kernel's teardown of its mounts and namespaces happens here, off the run's path —
  // usually while the slot idles, before its next sandbox is built ahead. A sandbox
  // never outlives its run in any way a program can use: every process of it was reaped
  // before the report; what is left is the root-owned init, exiting.
  void Settle(Slot& slot) {
    if (!slot.retiring.Running()) return;
    auto exited = slot.retiring.WaitExit(std::chrono::seconds(5));
    if (!exited || !*exited) {
      Log(LogLevel::kWarn, "a finished sandbox did not exit; killing it", {{"slot", slot.number}});
      slot.retiring.Kill();
      IgnoreResult(slot.retiring.WaitExit(std::chrono::seconds(10)),
                   "the slot's cgroup is emptied below whatever the wait said");
    }
    slot.retiring = Child();  // reaped here, or by the spawner that cloned it
    CleanUp(slot);
  }

  // A sandbox never outlives its run; if something is left in the slot once its init is
  // gone, that is a bug to see in the logs, and the slot is cleaned before its next
  // sandbox.
  void CleanUp(Slot& slot) {
    if (slot.cgroup->Empty()) return;
    Log(LogLevel::kError, "processes left in a sandbox slot after the run",
        {{"slot", slot.number}});
    if (auto killed = slot.cgroup->KillAll(); !killed) {
      Log(LogLevel::kError, "cannot kill what was left in a sandbox slot",
          {{"slot", slot.number}, {"error", killed.error().Describe()}});
    }
  }

  // What every sandbox of this slot has in common, whatever runs in it.
  LaunchSpec SlotShape(const Slot& slot) const {
    LaunchSpec spec;
    spec.uid = slot.uid;
    spec.gid = slot.uid;
    spec.root_mount_point = RootMountPoint();
    spec.root_symlinks = root_symlinks_;
    spec.host_etc_files.assign(std::begin(kHostEtcFiles), std::end(kHostEtcFiles));
    spec.cgroup_join_files = slot.cgroup->JoinFiles();
    if (options_.isolation == "gvisor") {
      spec.gvisor_runsc = options_.gvisor_runsc.string();
      spec.gvisor_platform = options_.gvisor_platform;
    }
    return spec;
  }

  std::string RootMountPoint() const { return (options_.state_dir / "root").string(); }

  // Whether a run of `runtime` may start in a zygote (docs/warm-starts.md): the catalog
  // names its kind (`zygote`) and may opt it out (`warm = false`); a zygote serves a run
  // step only, on the host's directories; under gVisor the step is runsc, not the
  // interpreter.
  bool WarmEligible(const Runtime& runtime) const {
    return warm_ && options_.isolation == "native" && runtime.warm &&
           runtime.zygote != ZygoteKind::kNone && !runtime.has_compile && runtime.root_tree.empty();
  }

  // The Node zygote's directory, shown in every sandbox of a runtime that starts in it,
  // cold ones too (LaunchSpec::zygote_dir); empty for every other.
  std::string ZygoteDirFor(const Runtime& runtime) const {
    if (!WarmEligible(runtime) || runtime.zygote != ZygoteKind::kNodeRequire) return {};
    return options_.node_zygote_dir.string();
  }

  // Whether a run of `runtime` would have started warm but for its missing zygote.
  bool ZygoteMissing(const Runtime& runtime) const {
    return (runtime.zygote == ZygoteKind::kEmbeddedCpython && zygote_missing_) ||
           (runtime.zygote == ZygoteKind::kNodeRequire && node_zygote_missing_);
  }

  // Remembers in `slot` how its next sandbox built ahead starts `run` (the run step of
  // `runtime`) ahead, or forgets it: the zygote and its argv, by kind.
  void RememberWarm(Slot& slot, const Runtime& runtime, LaunchSpec& spec) const {
    const StepSpec& run = spec.steps.back();
    slot.last_warm = WarmStart{};
    if (!WarmEligible(runtime)) return;
    WarmStart& warm = slot.last_warm;
    if (runtime.zygote == ZygoteKind::kNodeRequire) {
      // node itself, its boot preloaded before the program's arguments; the boot takes
      // `--require <boot>` out of process.execArgv (node_zygote.hpp).
      if (options_.node_zygote_dir.empty() || run.argv.empty()) return;  // missing: a fallback
      warm.zygote = run.argv.front();
      warm.zygote_inside = true;
      warm.zygote_argv = {run.argv.front(), "--require",
                          fmt::format("{}/{}", kNodeZygoteSandboxDir, kNodeZygoteBoot)};
      warm.zygote_argv.insert(warm.zygote_argv.end(), run.argv.begin() + 1, run.argv.end());
      warm.control_fd = kNodeZygoteControlFd;
    } else if (runtime.zygote == ZygoteKind::kEmbeddedCpython) {
      if (options_.warm_zygote.empty()) return;  // missing: counted as a fallback
      warm.zygote = options_.warm_zygote.string();
      warm.zygote_inside = false;
      warm.zygote_argv = {"integr8scode-python-zygote", "3"};
      // Only the embedded CPython reads --preload (sandbox.warm_preload); the run asks for
      // the same list, so that only a zygote that imported it serves the run.
      if (!options_.warm_preload.empty()) {
        warm.zygote_argv.push_back(ZygotePreloadArgument(options_.warm_preload));
        warm.preload = options_.warm_preload;
        spec.warm.preload = options_.warm_preload;
      }
      warm.zygote_argv.insert(warm.zygote_argv.end(), run.argv.begin(), run.argv.end());
    } else {
      // The interpreter itself, given the bootstrap with -c just before the program's
      // path: the options before it are the interpreter's, the rest the program's argv.
      const std::string source = fmt::format("{}/{}", kSandboxSourceDir, runtime.source_file);
      const auto at = std::find(run.argv.begin(), run.argv.end(), source);
      if (run.argv.empty() || at == run.argv.begin() || at == run.argv.end()) return;
      warm.zygote = run.argv.front();
      warm.zygote_inside = true;
      warm.zygote_argv.assign(run.argv.begin(), at);
      warm.zygote_argv.push_back("-c");
      warm.zygote_argv.push_back(kPypyZygoteBootstrap);
      warm.zygote_argv.insert(warm.zygote_argv.end(), at, run.argv.end());
    }
    warm.argv = run.argv;
    warm.env = run.env;
  }

  // The sandbox built ahead for this slot when it fits the run (then `built_ahead`); else
  // a new one.
  Result<SandboxHandle> Launch(Slot& slot, const LaunchSpec& spec, const LaunchFds& fds,
                               bool& built_ahead) {
    built_ahead = false;
    if (std::optional<PrebuiltSandbox> prebuilt = std::exchange(slot.prebuilt, std::nullopt)) {
      if (LaunchSpec::Fits(prebuilt->Shape(), spec)) {
        auto handle = prebuilt->HandOver(spec, fds, std::chrono::seconds(10));
        built_ahead = handle.has_value();
        if (handle) return handle;
        Log(LogLevel::kWarn, "a sandbox built ahead failed; building one now",
            {{"slot", slot.number}, {"error", handle.error().Describe()}});
      }
      // An unfitting or failed one dies here, before the new one joins the slot.
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
      return Fail(SystemError("socketpair"));
    SandboxHandle handle{UniqueFd(pair[0]), {}};
    UniqueFd child_end(pair[1]);
    LaunchFds with_control = fds;
    with_control.control = child_end.Get();
    handle.init = I8C_TRY_VALUE(launcher_->Launch(spec, with_control));
    return handle;
  }

  RunResult RunInSlot(const RunRequest& request, Slot& slot) {
    const Runtime& runtime = *request.runtime;
    const auto started = Clock::now();
    std::vector<StepPlan> plans;
    LaunchSpec spec = SlotShape(slot);
    spec.host_paths = runtime.host_paths;
    spec.root_tree = runtime.root_tree;
    spec.zygote_dir = ZygoteDirFor(runtime);
    spec.source_name = runtime.source_file;
    spec.tmpfs_bytes = request.limits.tmpfs_bytes;
    const auto env = BaseEnvironment(runtime);
    if (runtime.has_compile) {
      const Limits compile_limits = MergeLimits(request.limits, runtime.compile.limits);
      spec.steps.push_back(
          MakeStep(ExpandArgv(runtime.compile.argv, runtime), env, compile_limits));
      plans.push_back({compile_limits, true});
    }
    spec.steps.push_back(MakeStep(ExpandArgv(runtime.run.argv, runtime), env, request.limits));
    plans.push_back({request.limits, false});
    const bool warm_eligible = WarmEligible(runtime);
    RememberWarm(slot, runtime, spec);
    // The tmpfs is sized once for the sandbox: the larger of the steps' disk limits.
    if (options_.isolation == "gvisor") {
      for (StepPlan& plan : plans) plan.platform_pids = kGvisorPidsOverhead;
    }
    for (const StepPlan& plan : plans)
      spec.tmpfs_bytes = std::max(spec.tmpfs_bytes, plan.limits.tmpfs_bytes);

    auto source = MakeMemfd("program", request.source);
    if (!source) return PlatformError("source", source.error());
    UniqueFd stdin_fd;
    if (!request.stdin_data.empty()) {
      auto memfd = MakeMemfd("stdin", request.stdin_data);
      if (!memfd) return PlatformError("stdin", memfd.error());
      auto read_only = ReopenReadOnly(memfd->Get());
      if (!read_only) return PlatformError("stdin", read_only.error());
      stdin_fd = std::move(*read_only);
    }
    std::vector<UniqueFd> out_read, err_read, out_write, err_write;
    for (std::size_t i = 0; i < spec.steps.size(); ++i) {
      auto out = MakePipe();
      auto err = MakePipe();
      if (!out || !err) return PlatformError("pipe", out ? err.error() : out.error());
      out_read.push_back(std::move(out->read));
      out_write.push_back(std::move(out->write));
      err_read.push_back(std::move(err->read));
      err_write.push_back(std::move(err->write));
    }
    LaunchFds fds;
    fds.source = source->Get();
    fds.stdin_fd = stdin_fd ? stdin_fd.Get() : -1;
    fds.cgroup_dir = slot.cgroup->CloneIntoFd();
    for (std::size_t i = 0; i < spec.steps.size(); ++i) {
      fds.step_stdout.push_back(out_write[i].Get());
      fds.step_stderr.push_back(err_write[i].Get());
    }

    const auto prepared = Clock::now();
    bool built_ahead = false;
    auto launched = Launch(slot, spec, fds, built_ahead);
    const auto cloned = Clock::now();
    // The sandbox has its own copies now; ours must go, or the pipes never reach EOF.
    out_write.clear();
    err_write.clear();
    source->Reset();
    stdin_fd.Reset();
    if (!launched) return PlatformError("launch", launched.error());

    Supervisor supervisor(std::move(launched->control), std::move(launched->init),
                          std::move(out_read), std::move(err_read), *slot.cgroup, request.limits,
                          request.cancel, request.sink);
    if (auto ready = supervisor.AwaitReady(std::chrono::seconds(10)); !ready) {
      return PlatformError("setup", ready.error());
    }
    RunResult result;
    const auto ready = Clock::now();
    result.setup_us =
        std::chrono::duration_cast<std::chrono::microseconds>(ready - started).count();
    if (request.sink != nullptr) request.sink->OnStarted();

    StepReport last;
    std::optional<std::int64_t> compile_ms;
    for (std::uint32_t i = 0; i < plans.size(); ++i) {
      auto report = supervisor.RunStep(i, plans[i]);
      if (!report) return PlatformError("step", report.error());
      last = std::move(*report);
      if (plans[i].compile) compile_ms = last.usage.wall_time_ms;
      if (last.verdict.status != ExecutionStatus::kCompleted) break;  // a failed compile ends it
    }
    const auto steps_done = Clock::now();
    slot.retiring = supervisor.Finish();
    if (LogEnabled(LogLevel::kDebug)) {
      const auto us = [](auto from, auto to) {
        return static_cast<std::int64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
      };
      const auto finished = Clock::now();
      Log(LogLevel::kDebug, "sandbox run timings",
          {{"prepare_us", us(started, prepared)},
           {"launch_us", us(prepared, cloned)},
           {"setup_us", us(cloned, ready)},
           {"steps_us", us(ready, steps_done)},
           {"teardown_us", us(steps_done, finished)},
           {"total_us", us(started, finished)}});
    }

    result.status = last.verdict.status;
    result.exit_code = last.verdict.exit_code;
    result.signal = last.verdict.signal;
    result.message = std::move(last.verdict.message);
    result.usage = last.usage;
    result.compile_time_ms = compile_ms;
    result.start = last.start;
    // Its sandbox was built ahead, where the zygote would have waited: a fallback, counted
    // (integr8scode_warm_fallbacks_total) and not logged — the start-up said why once.
    if (warm_eligible && built_ahead && ZygoteMissing(runtime)) {
      result.start = StartKind::kWarmFallback;
    }
    if (!last.preload_missing.empty()) {
      // The same modules fail in every zygote (the sandbox's view of the host does not
      // change): said once, then counted (integr8scode_warm_preload_missing_total).
      result.preload_incomplete = true;
      if (!preload_missing_said_.exchange(true)) {
        Log(LogLevel::kWarn,
            "modules of sandbox.warm_preload cannot be imported in the sandbox; warm runs "
            "start without them",
            {{"modules", last.preload_missing}});
      }
    }
    result.stdout_text = supervisor.Stdout().Text();
    result.stderr_text = supervisor.Stderr().Text();
    result.stdout_truncated = supervisor.Stdout().Truncated();
    result.stderr_truncated = supervisor.Stderr().Truncated();
    return result;
  }

  SandboxOptions options_;
  std::unique_ptr<CgroupManager> cgroups_;
  std::unique_ptr<SandboxLauncher> launcher_;
  std::unique_ptr<SlotPool> slots_;
  std::vector<std::pair<std::string, std::string>> root_symlinks_;
  // Sandboxes built ahead (options_.prebuild): slots waiting for theirs.
  std::mutex prebuild_mutex_;
  std::condition_variable prebuild_changed_;
  struct PrebuildRequest {
    Slot* slot;
    Clock::time_point due;
  };
  std::deque<PrebuildRequest> to_prebuild_;
  bool stopping_ = false;
  std::thread prebuilder_;
  const bool warm_;
  const bool zygote_missing_;
  const bool node_zygote_missing_;
  std::atomic<bool> preload_missing_said_{false};
};

Status CheckHost(const SandboxOptions& options) {
  if (::geteuid() != 0) {
    return Fail(
        ErrorCode::kUnavailable,
        "the local sandbox needs root (it creates namespaces, mounts and cgroups); run as root");
  }
  std::error_code ec;
  fs::create_directories(options.state_dir / "root", ec);
  if (ec) {
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("cannot create {}: {}", (options.state_dir / "root").string(), ec.message()));
  }
  // create_directories honours the umask; the mount points below must be reachable by the
  // sandbox's own (user-namespaced, so not host-root) identity whatever the umask was.
  if (::chmod(options.state_dir.c_str(), 0755) != 0) {
    const int saved = errno;
    return Fail(Error{ErrorCode::kUnavailable,
                      saved,
                      fmt::format("cannot chmod {} 0755", options.state_dir.string()),
                      {},
                      {}});
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Executor>> CreateLocalExecutor(const SandboxOptions& requested) {
  SandboxOptions options = requested;
  if (options.slots == 0) options.slots = DefaultSandboxSlots();
  if (options.slots > kMaxSlotsPerHost) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("sandbox slots must be 1 to {}", kMaxSlotsPerHost));
  }
  I8C_TRY(CheckHost(options));
  if (options.isolation != "native" && options.isolation != "gvisor") {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("sandbox isolation must be native or gvisor, not {}", options.isolation));
  }
  if (options.isolation == "gvisor" && ::access(options.gvisor_runsc.c_str(), X_OK) != 0) {
    const int saved = errno;
    return Fail(SystemError(saved, fmt::format("sandbox isolation gvisor needs runsc at {} "
                                               "(apt-get install runsc)",
                                               options.gvisor_runsc.string())));
  }
  std::unique_ptr<SandboxLauncher> launcher;
  if (options.use_spawner) {
    auto spawner = I8C_TRY_VALUE(SpawnerClient::Start("/proc/self/exe"));
    launcher = std::move(spawner);
  } else {
    launcher = std::make_unique<DirectLauncher>(EmbeddedSeccompProgram());
  }
  CgroupOptions cgroup_options;
  cgroup_options.mode = options.cgroup_mode;
  cgroup_options.parent = options.cgroup_parent;
  cgroup_options.cpu_period_us = options.cpu_period_us;
  cgroup_options.cpu_weight = options.cpu_weight;
  cgroup_options.allow_missing_controllers = options.allow_missing_cgroup_controllers;
  auto cgroups = I8C_TRY_VALUE(OpenCgroups(cgroup_options));
  auto slots =
      I8C_TRY_VALUE(SlotPool::Create(*cgroups, options.slots, kSlotLockDir, options.first_uid));
  Log(LogLevel::kDebug, "local sandbox ready",
      {{"cgroups", cgroups->Describe()},
       {"slots", options.slots},
       {"spawner", options.use_spawner}});
  SandboxOptions effective = options;
  effective.prebuild = options.prebuild && options.use_spawner;  // needs idle time: the server's
  // Warm starts need idle time to start a zygote in (docs/warm-starts.md).
  const bool warm = !effective.warm_zygote.empty() && effective.prebuild;
  bool zygote_missing = false;
  if (!effective.warm_zygote.empty() && ::access(effective.warm_zygote.c_str(), X_OK) != 0) {
    // Said once here; each run that would have started warm counts as a fallback.
    Log(LogLevel::kWarn, "the warm-start zygote is missing; every CPython run starts cold",
        {{"path", effective.warm_zygote.string()}});
    effective.warm_zygote.clear();
    zygote_missing = effective.prebuild;
  }
  bool node_zygote_missing = false;
  if (!effective.node_zygote_dir.empty()) {
    const auto boot = effective.node_zygote_dir / kNodeZygoteBoot;
    const auto addon = effective.node_zygote_dir / kNodeZygoteAddon;
    if (!warm) {
      effective.node_zygote_dir.clear();
    } else if (::access(boot.c_str(), R_OK) != 0 || ::access(addon.c_str(), R_OK) != 0) {
      Log(LogLevel::kWarn,
          "the Node.js warm-start zygote is missing; every Node.js run starts cold",
          {{"path", effective.node_zygote_dir.string()}});
      effective.node_zygote_dir.clear();
      node_zygote_missing = true;
    }
  }
  return std::unique_ptr<Executor>(
      std::make_unique<LocalExecutor>(effective, std::move(cgroups), std::move(launcher),
                                      std::move(slots), warm, zygote_missing, node_zygote_missing));
}

}  // namespace integr8scode
