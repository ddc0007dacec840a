// The Kubernetes executor: one restricted pod per execution (docs/kubernetes-executor.md).
#include "k8s/pod_executor.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "common/cancel.hpp"
#include "common/log.hpp"
#include "common/try.hpp"
#include "common/units.hpp"
#include "k8s/log_frames.hpp"
#include "k8s/pod_state.hpp"
#include "k8s/pod_watch.hpp"
#include "run/outcome.hpp"
#include "run/output_capture.hpp"

namespace integr8scode {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// After the steps' own time: for the wrapper's report and the container's exit.
constexpr auto kRunSlack = std::chrono::seconds(10);
// After the log has ended: for the kubelet to report the container terminated.
constexpr auto kTerminationWait = std::chrono::seconds(30);
constexpr auto kReadySlice = std::chrono::seconds(5);
// A log that ended without the wrapper's report: how long the pod may take to say why.
constexpr auto kLogSettle = std::chrono::seconds(2);
// A ConfigMap holds at most 1 MiB in etcd, metadata included.
constexpr std::size_t kConfigMapBytes = (1u << 20) - 16 * 1024;

constexpr std::string_view kServiceFault =
    "this is a fault of the service, not of your code; try again later";

RunResult ErrorResult(std::string message) {
  RunResult result;
  result.status = ExecutionStatus::kError;
  result.message = std::move(message);
  return result;
}

std::string RandomName() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("i8c-{:016x}", random());
}

std::int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the API server said in a Status body, for the logs.
std::string StatusMessage(const KubeResponse& response) {
  boost::system::error_code ec;
  json::value body = json::parse(response.body, ec);
  if (!ec && body.is_object()) {
    if (const json::value* message = body.get_object().if_contains("message");
        message != nullptr && message->is_string())
      return fmt::format("HTTP {}: {}", response.status, std::string(message->get_string()));
  }
  return fmt::format("HTTP {}", response.status);
}

class PodSlots {
 public:
  explicit PodSlots(std::size_t size) : free_(size) {}
  void Acquire() {
    std::unique_lock lock(mutex_);
    freed_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void Release() {
    {
      std::lock_guard lock(mutex_);
      ++free_;
    }
    freed_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  std::size_t free_;
};

class KubernetesExecutor;

// One execution's pod, from creation to deletion.
class PodRun {
 public:
  PodRun(KubeClient& client, const KubernetesOptions& options, const RunRequest& request)
      : client_(client),
        options_(options),
        request_(request),
        runtime_(*request.runtime),
        name_(RandomName()),
        stdout_(OutputStream::kStdout, request.limits.output_bytes, request.sink),
        stderr_(OutputStream::kStderr, request.limits.output_bytes, request.sink) {}

  ~PodRun() {
    if (created_) Delete();
  }

  RunResult Run() {
    const auto started = Clock::now();
    if (request_.source.size() + request_.stdin_data.size() * 4 / 3 > kConfigMapBytes) {
      return ErrorResult(
          "the program and its input together are larger than a Kubernetes ConfigMap can "
          "hold (1 MiB); make them smaller");
    }
    if (auto s = Create(); !s) return Platform("create the pod", s.error());
    PodWatch watch(client_, options_.pod.namespace_name, name_, resource_version_);

    // Pending: scheduling, image pulls, the wrapper's installation.
    auto start = watch.Until(
        [](const PodState& s) {
          return s.run_started || s.Finished() || IsPermanentPullFailure(s.waiting_reason);
        },
        started + options_.pod.start_timeout, request_.cancel);
    if (!start) return Platform("watch the pod", start.error());
    if (start->end == PodWatch::End::kCancelled) return Cancelled();
    const PodState& pending = start->state;
    if (pending.deleted) return Deleted();
    if (start->end == PodWatch::End::kDeadline || IsPermanentPullFailure(pending.waiting_reason))
      return NotStarted(pending);
    setup_us_ =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
    if (request_.sink != nullptr) request_.sink->OnStarted();

    // Running: the log carries the program's output and the wrapper's report.
    const auto run_deadline = Clock::now() + StepsBudget(runtime_, request_.limits) + kRunSlack;
    const LogEnd log_end = FollowLog(watch, run_deadline);
    if (log_end == LogEnd::kCancelled) return Cancelled();
    if (log_end == LogEnd::kFailed) return Platform("read the pod's log", log_error_);
    if (log_end == LogEnd::kDeleted) return Deleted();
    const bool our_deadline = log_end == LogEnd::kDeadline;

    PodState final_state = watch.Latest();
    if (!our_deadline && !final_state.Finished()) {
      auto finished = watch.Until([](const PodState& s) { return s.Finished(); },
                                  Clock::now() + kTerminationWait, request_.cancel);
      if (finished) final_state = finished->state;
    }
    return Judged(final_state, our_deadline);
  }

 private:
  enum class LogEnd { kComplete, kDeadline, kCancelled, kDeleted, kFailed };

  std::string PodsPath() const {
    return fmt::format("/api/v1/namespaces/{}/pods", options_.pod.namespace_name);
  }

  Status Create() {
    PodPlan plan;
    plan.name = name_;
    plan.runtime = &runtime_;
    plan.limits = request_.limits;
    plan.has_stdin = !request_.stdin_data.empty();
    plan.now_unix_s = UnixSeconds();
    const std::string pod = json::serialize(BuildPod(plan, options_.pod));
    // Strict: a field the server does not know is refused, not silently dropped.
    auto created =
        client_.Call("POST", PodsPath() + "?fieldValidation=Strict", pod, request_.cancel);
    if (!created) return Fail(created.error());
    if (created->status == 409) {
      // A retried create whose first attempt had succeeded: the pod is ours.
      created = client_.Call("GET", PodsPath() + "/" + name_, "", request_.cancel);
      if (!created) return Fail(created.error());
    }
    if (created->status != 201 && created->status != 200)
      return Fail(ErrorCode::kUnavailable, "create pod: " + StatusMessage(*created));
    created_ = true;
    boost::system::error_code ec;
    json::value object = json::parse(created->body, ec);
    if (ec || !object.is_object()) return Fail(ErrorCode::kUnavailable, "create pod: not JSON");
    const PodState state = ReadPodState(object.get_object());
    resource_version_ = state.resource_version;

    const std::string config_map = json::serialize(BuildConfigMap(
        name_, state.uid, runtime_, request_.source, request_.stdin_data, options_.pod));
    auto stored = I8C_TRY_VALUE(
        client_.Call("POST",
                     fmt::format("/api/v1/namespaces/{}/configmaps?fieldValidation=Strict",
                                 options_.pod.namespace_name),
                     config_map, request_.cancel));
    if (stored.status != 201 && stored.status != 409)
      return Fail(ErrorCode::kUnavailable, "create configmap: " + StatusMessage(stored));
    return {};
  }

  void Delete() {
    created_ = false;
    const std::string body =
        R"({"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0,"propagationPolicy":"Background"})";
    // Not cancellable: the pod must go even when the run was cancelled.
    auto deleted = client_.Call("DELETE", PodsPath() + "/" + name_, body, nullptr);
    if (!deleted || (deleted->status != 200 && deleted->status != 202 && deleted->status != 404)) {
      Log(LogLevel::kWarn, "cannot delete an execution's pod; the janitor will",
          {{"pod", name_},
           {"error", deleted ? StatusMessage(*deleted) : deleted.error().Describe()}});
    }
  }

  // Follows the log to its end. A stream that breaks (an API server restart) is read
  // again from the start, skipping the records already taken.
  LogEnd FollowLog(PodWatch& watch, Clock::time_point deadline) {
    const std::string whole =
        fmt::format("{}/{}/log?container={}", PodsPath(), name_, kRunContainer);
    const std::string followed = whole + "&follow=true";
    std::uint64_t taken = 0;
    bool last_read = false;
    for (int attempt = 0;; ++attempt) {
      podlog::Decoder decoder(Handlers(), taken);
      // Once the pod has finished, the log is read whole one last time (not followed).
      auto stream = client_.Open(last_read ? whole : followed, request_.cancel);
      if (!stream) {
        if (request_.cancel != nullptr && request_.cancel->Cancelled()) return LogEnd::kCancelled;
        log_error_ = stream.error();
        return LogEnd::kFailed;
      }
      const unsigned status = (*stream)->HttpStatus();
      if (status == 404) return LogEnd::kDeleted;
      bool ended = false;
      if (status == 200) {
        std::string chunk;
        for (;;) {
          if (request_.cancel != nullptr && request_.cancel->Cancelled()) return LogEnd::kCancelled;
          if (Clock::now() >= deadline) return LogEnd::kDeadline;
          chunk.clear();
          auto read = (*stream)->Read(std::chrono::milliseconds(200), chunk);
          if (!read) break;
          if (!chunk.empty()) decoder.Feed(chunk);
          if (*read == KubeStream::ReadState::kEnd) {
            // A cut record at a broken stream is not finished here: it is read again.
            decoder.Finish();
            ended = true;
            break;
          }
        }
      }
      taken = decoder.Records();
      if (decoder.SawDone() || last_read) return LogEnd::kComplete;
      // No report at the end: the container died with the wrapper (an OOM kill of the
      // whole container, a deleted pod), or the stream broke (an API server restart).
      // The pod's state tells which; while it still runs, the log is followed again.
      const auto settle = std::min(deadline, Clock::now() + kLogSettle);
      auto state =
          watch.Until([](const PodState& s) { return s.Finished(); }, settle, request_.cancel);
      if (state && state->state.deleted) return LogEnd::kDeleted;
      if (state && state->end == PodWatch::End::kCancelled) return LogEnd::kCancelled;
      if (state && state->state.Finished()) {
        last_read = true;
        continue;
      }
      if (Clock::now() >= deadline) return LogEnd::kDeadline;
      if (!ended && attempt > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(100 * std::min(attempt, 10)));
    }
  }

  podlog::Decoder::Handlers Handlers() {
    podlog::Decoder::Handlers handlers;
    handlers.output = [this](bool is_stderr, std::string_view bytes) {
      (is_stderr ? stderr_ : stdout_).Append(bytes);
    };
    handlers.step_start = [this](std::string_view step) { last_started_ = std::string(step); };
    handlers.step_end = [this](const podlog::StepEnd& end) { ends_.push_back(end); };
    return handlers;
  }

  RunResult Judged(const PodState& state, bool our_deadline) {
    StepFacts facts;
    const podlog::StepEnd* end = ends_.empty() ? nullptr : &ends_.back();
    const bool end_is_last = end != nullptr && end->step == last_started_;
    facts.compile = (end_is_last ? end->step : last_started_) == "compile";
    facts.limits =
        facts.compile ? MergeLimits(request_.limits, runtime_.compile.limits) : request_.limits;
    const bool oom_killed = state.terminated_reason == "OOMKilled";
    if (end_is_last) {
      if (end->exit_code) facts.wait_status = (*end->exit_code & 0xff) << 8;
      if (end->signal) facts.wait_status = *end->signal;
      facts.exec_errno = end->exec_errno;
      facts.oom_kills = end->oom_kills + (oom_killed ? 1 : 0);
      switch (end->stop) {
        case podlog::StepStop::kNone:
          break;
        case podlog::StepStop::kTimeout:
          facts.stop = StopReason::kTimeout;
          break;
        case podlog::StepStop::kStdoutCap:
        case podlog::StepStop::kStderrCap:
          facts.stop = StopReason::kOutputLimit;
          facts.flooded = end->stop == podlog::StepStop::kStdoutCap ? OutputStream::kStdout
                                                                    : OutputStream::kStderr;
          break;
      }
    } else if (our_deadline || state.reason == "DeadlineExceeded") {
      facts.stop = StopReason::kTimeout;
    } else if (oom_killed) {
      facts.wait_status = SIGKILL;
      facts.oom_kills = 1;
    } else {
      Log(LogLevel::kWarn, "an execution's pod ended without the wrapper's report",
          {{"pod", name_}, {"phase", state.phase}, {"reason", state.terminated_reason}});
      return ErrorResult(
          fmt::format("the execution's pod ended before the program did; {}", kServiceFault));
    }
    RunResult result = Verdicted(facts);
    result.stdout_truncated =
        stdout_.Truncated() || (end_is_last && end->stop == podlog::StepStop::kStdoutCap);
    result.stderr_truncated =
        stderr_.Truncated() || (end_is_last && end->stop == podlog::StepStop::kStderrCap);
    if (end_is_last) {
      result.usage.wall_time_ms = end->wall_ms;
      result.usage.cpu_time_ms = end->cpu_ms;
      result.usage.peak_memory_bytes = end->peak_memory_bytes;
    }
    result.setup_us = setup_us_;
    return result;
  }

  // The shared status rules applied to `facts`, with the output taken so far.
  RunResult Verdicted(const StepFacts& facts) {
    const Verdict verdict = Judge(facts);
    RunResult result;
    result.status = verdict.status;
    result.exit_code = verdict.exit_code;
    result.signal = verdict.signal;
    result.message = verdict.message;
    stdout_.Finish();
    stderr_.Finish();
    result.stdout_text = stdout_.Text();
    result.stderr_text = stderr_.Text();
    return result;
  }

  RunResult Cancelled() {
    StepFacts facts;
    facts.stop = StopReason::kCancelled;
    facts.limits = request_.limits;
    return Verdicted(facts);
  }

  RunResult Deleted() {
    Log(LogLevel::kWarn, "an execution's pod was deleted from outside", {{"pod", name_}});
    created_ = false;
    return ErrorResult(
        "the execution's pod was deleted before the program ended (by the cluster or an "
        "operator); run it again");
  }

  RunResult NotStarted(const PodState& state) {
    Log(LogLevel::kWarn, "an execution's pod did not start",
        {{"pod", name_},
         {"waiting", state.waiting_reason},
         {"detail", state.waiting_message},
         {"unschedulable", state.schedule_message}});
    if (IsPullFailure(state.waiting_reason)) {
      return ErrorResult(
          fmt::format("the container image '{}' for {} could not be pulled; {}",
                      state.waiting_image.empty() ? runtime_.image : state.waiting_image,
                      runtime_.display_name, kServiceFault));
    }
    if (state.unschedulable) {
      return ErrorResult(fmt::format(
          "no node of the cluster could take the execution within {} ({}); try again later",
          FormatDuration(options_.pod.start_timeout), state.schedule_message));
    }
    return ErrorResult(fmt::format(
        "the execution's pod did not start within {}{}; {}",
        FormatDuration(options_.pod.start_timeout),
        state.waiting_reason.empty() ? std::string() : fmt::format(" ({})", state.waiting_reason),
        kServiceFault));
  }

  RunResult Platform(std::string_view what, const Error& error) {
    if (request_.cancel != nullptr && request_.cancel->Cancelled()) return Cancelled();
    Log(LogLevel::kError, "kubernetes executor failure",
        {{"what", what}, {"pod", name_}, {"error", error.Describe()}});
    return ErrorResult(
        fmt::format("the Kubernetes cluster could not run the program; {}", kServiceFault));
  }

  KubeClient& client_;
  const KubernetesOptions& options_;
  const RunRequest& request_;
  const Runtime& runtime_;
  std::string name_;
  std::string resource_version_;
  bool created_ = false;
  OutputCapture stdout_;
  OutputCapture stderr_;
  std::vector<podlog::StepEnd> ends_;
  std::string last_started_;
  Error log_error_;
  std::int64_t setup_us_ = 0;
};

class KubernetesExecutor final : public Executor {
 public:
  KubernetesExecutor(KubernetesOptions options, std::unique_ptr<KubeClient> client)
      : options_(std::move(options)), client_(std::move(client)), capacity_(options_.max_pods) {
    janitor_ = std::thread([this] { JanitorLoop(); });
  }

  ~KubernetesExecutor() override {
    {
      std::lock_guard lock(janitor_mutex_);
      stopping_ = true;
    }
    janitor_wake_.notify_all();
    janitor_.join();
  }

  std::size_t Capacity() const override { return options_.max_pods; }
  std::string_view Kind() const override { return "kubernetes"; }

  Status CheckReady() override {
    std::lock_guard lock(ready_mutex_);
    if (Clock::now() - ready_checked_ < kReadySlice && ready_checked_ != Clock::time_point{})
      return ready_;
    auto response = client_->Call("GET",
                                  fmt::format("/api/v1/namespaces/{}/pods?limit=1&labelSelector={}",
                                              options_.pod.namespace_name, ExecutionSelector()),
                                  "", nullptr);
    if (!response) {
      ready_ = Fail(MakeError(ErrorCode::kUnavailable, response.error().Describe()));
    } else if (response->status != 200) {
      ready_ = Fail(ErrorCode::kUnavailable,
                    "the Kubernetes API refused to list pods: " + StatusMessage(*response));
    } else {
      ready_ = {};
    }
    ready_checked_ = Clock::now();
    return ready_;
  }

  RunResult Run(const RunRequest& request) override {
    if (request.runtime == nullptr) return ErrorResult("no runtime");
    if (request.runtime->image.empty()) {
      return ErrorResult(fmt::format("{} has no container image in the catalog; {}",
                                     request.runtime->display_name, kServiceFault));
    }
    // The first sweep deletes this worker's pods of an earlier life: none of this one's.
    swept_.wait();
    capacity_.Acquire();
    RunResult result;
    {
      PodRun run(*client_, options_, request);
      result = run.Run();
    }  // the pod is deleted before the capacity is given back
    capacity_.Release();
    return result;
  }

 private:
  // Deletes the pods this executor can prove are orphans: at start, those of this worker
  // (it died mid-run and was restarted); always, those past their expiry annotation.
  void Sweep(bool at_start) {
    auto listed = client_->Call("GET",
                                fmt::format("/api/v1/namespaces/{}/pods?labelSelector={}",
                                            options_.pod.namespace_name, ExecutionSelector()),
                                "", nullptr);
    if (!listed || listed->status != 200) {
      Log(LogLevel::kWarn, "janitor cannot list execution pods",
          {{"error", listed ? StatusMessage(*listed) : listed.error().Describe()}});
      return;
    }
    boost::system::error_code ec;
    json::value list = json::parse(listed->body, ec);
    if (ec || !list.is_object()) return;
    const json::value* items = list.get_object().if_contains("items");
    if (items == nullptr || !items->is_array()) return;
    const std::int64_t now = UnixSeconds();
    for (const json::value& item : items->get_array()) {
      const json::value* metadata =
          item.is_object() ? item.get_object().if_contains("metadata") : nullptr;
      if (metadata == nullptr || !metadata->is_object()) continue;
      const json::object& meta = metadata->get_object();
      const json::value* name = meta.if_contains("name");
      if (name == nullptr || !name->is_string()) continue;
      bool orphan = false;
      if (const json::value* labels = meta.if_contains("labels");
          labels != nullptr && labels->is_object()) {
        const json::value* worker = labels->get_object().if_contains(kWorkerLabel);
        orphan = at_start && !options_.pod.worker_id.empty() && worker != nullptr &&
                 worker->is_string() && worker->get_string() == options_.pod.worker_id;
      }
      if (const json::value* annotations = meta.if_contains("annotations");
          annotations != nullptr && annotations->is_object()) {
        const json::value* expires = annotations->get_object().if_contains(kExpiresAnnotation);
        if (expires != nullptr && expires->is_string()) {
          const std::string text(expires->get_string());
          char* end = nullptr;
          const long long at = std::strtoll(text.c_str(), &end, 10);
          if (end != text.c_str() && at < now) orphan = true;
        }
      }
      if (!orphan) continue;
      auto deleted = client_->Call(
          "DELETE",
          fmt::format("/api/v1/namespaces/{}/pods/{}", options_.pod.namespace_name,
                      std::string(name->get_string())),
          R"({"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0})", nullptr);
      Log(LogLevel::kInfo, "janitor deleted an orphaned execution pod",
          {{"pod", std::string_view(name->get_string())},
           {"status", deleted ? static_cast<std::int64_t>(deleted->status) : std::int64_t{0}}});
    }
  }

  void JanitorLoop() {
    bool first = true;
    std::unique_lock lock(janitor_mutex_);
    while (!stopping_) {
      lock.unlock();
      Sweep(first);
      if (first) swept_promise_.set_value();
      first = false;
      lock.lock();
      janitor_wake_.wait_for(lock, options_.janitor_interval, [&] { return stopping_; });
    }
  }

  KubernetesOptions options_;
  std::unique_ptr<KubeClient> client_;
  PodSlots capacity_;
  std::mutex ready_mutex_;
  Clock::time_point ready_checked_{};
  Status ready_;
  std::mutex janitor_mutex_;
  std::condition_variable janitor_wake_;
  bool stopping_ = false;
  std::promise<void> swept_promise_;
  std::shared_future<void> swept_ = swept_promise_.get_future().share();
  std::thread janitor_;
};

}  // namespace

Result<std::unique_ptr<Executor>> CreateKubernetesExecutor(const KubernetesOptions& options) {
  if (options.max_pods == 0)
    return Fail(ErrorCode::kInvalidArgument, "kubernetes.max_pods must be at least 1");
  if (options.pod.namespace_name.empty())
    return Fail(ErrorCode::kInvalidArgument, "kubernetes.namespace must not be empty");
  auto client = I8C_TRY_VALUE(KubeClient::Create(options.api));
  return std::unique_ptr<Executor>(
      std::make_unique<KubernetesExecutor>(options, std::move(client)));
}

}  // namespace integr8scode
