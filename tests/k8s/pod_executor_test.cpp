// The Kubernetes executor against the stand-in cluster: the pod it makes, the faults a
// real cluster has, cleanup, and its own overhead per execution.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <thread>

#include "k8s/api_client.hpp"
#include "k8s/cluster_harness.hpp"
#include "support/sandbox_harness.hpp"

namespace integr8scode {
namespace {

namespace json = boost::json;
using testing::Cluster;

class PodExecutor : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::ClusterAvailable()) GTEST_SKIP() << "the stand-in's kubelet needs root";
  }
  void TearDown() override {
    if (!testing::ClusterAvailable()) return;
    EXPECT_EQ(Cluster().Pods(), 0u);
    EXPECT_EQ(Cluster().ConfigMaps(), 0u);
  }
};

// Calls `hook` when the program has started in its pod (the moment to inject a fault).
struct HookSink final : OutputSink {
  std::function<void()> hook;
  std::string out;
  void OnStarted() override {
    if (hook) hook();
  }
  void OnOutput(OutputStream stream, std::string_view chunk) override {
    if (stream == OutputStream::kStdout) out += chunk;
  }
};

RunResult RunWith(Executor& executor, const Runtime& runtime, std::string_view source,
                  OutputSink* sink = nullptr, Limits limits = {}) {
  RunRequest request;
  request.runtime = &runtime;
  request.source = source;
  request.limits = limits;
  request.sink = sink;
  return executor.Run(request);
}

std::unique_ptr<Executor> ExecutorWith(const std::function<void(KubernetesOptions&)>& change) {
  KubernetesOptions options = testing::ClusterExecutorOptions();
  change(options);
  auto created = CreateKubernetesExecutor(options);
  EXPECT_TRUE(created.has_value());
  return created ? std::move(*created) : nullptr;
}

const char* kThreeLines =
    "import time\nprint('a', flush=True)\ntime.sleep(0.3)\nprint('b', flush=True)\n"
    "time.sleep(0.3)\nprint('c')\n";

KubeResponse Post(std::string_view path, const json::object& body) {
  KubeClientOptions options;
  options.api_url = Cluster().Url();
  options.token_file = Cluster().TokenFile();
  options.ca_file = Cluster().CaFile();
  auto client = KubeClient::Create(options);
  EXPECT_TRUE(client.has_value());
  auto response = (*client)->Call("POST", path, json::serialize(body), nullptr);
  EXPECT_TRUE(response.has_value());
  return response ? *response : KubeResponse{};
}

TEST_F(PodExecutor, ThePodIsRestrictedValidAndGone) {
  Executor& executor = testing::KubernetesExecutorForTests();
  EXPECT_EQ(executor.Kind(), "kubernetes");
  EXPECT_EQ(executor.Capacity(), 4u);
  EXPECT_TRUE(executor.CheckReady().has_value());
  const RunResult result =
      RunWith(executor, testing::RuntimeFor("python", "3.11"), "print('hi')\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "hi\n");
  EXPECT_TRUE(Cluster().Refusals().empty()) << Cluster().Refusals().front();
  auto pod = Cluster().LastPodCreated();
  ASSERT_TRUE(pod.has_value());
  const auto& spec = pod->at("spec").as_object();
  EXPECT_EQ(spec.at("automountServiceAccountToken"), false);
  EXPECT_EQ(spec.at("securityContext").at("runAsNonRoot"), true);
  EXPECT_EQ(pod->at("metadata").at("labels").at("integr8scode.io/worker"), "worker-test");
}

TEST_F(PodExecutor, AdmissionRefusesAPrivilegedPodAsTheRealOneDoes) {
  PodPlan plan;
  plan.name = "i8c-privileged";
  plan.runtime = &testing::RuntimeFor("python", "3.11");
  json::object pod = BuildPod(plan, testing::ClusterExecutorOptions().pod);
  auto& container = pod["spec"].as_object()["containers"].as_array()[0].as_object();
  container["securityContext"].as_object()["privileged"] = true;
  container["securityContext"].as_object()["allowPrivilegeEscalation"] = true;
  const KubeResponse response = Post("/api/v1/namespaces/integr8scode-test/pods", pod);
  EXPECT_EQ(response.status, 403u) << response.body;
  EXPECT_NE(response.body.find("violates PodSecurity \\\"restricted:latest\\\""), std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find("allowPrivilegeEscalation != false"), std::string::npos);
  EXPECT_FALSE(Cluster().HasPod("i8c-privileged"));
}

TEST_F(PodExecutor, SchemaRefusesAnUnknownField) {
  const KubeResponse response =
      Post("/api/v1/namespaces/integr8scode-test/pods",
           json::object{{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", "i8c-bad"}}},
                        {"spec", {{"containers", json::array{{{"name", "c"}, {"imagee", "x"}}}}}}});
  EXPECT_EQ(response.status, 422u) << response.body;
  EXPECT_NE(response.body.find("spec.containers[0].imagee: unknown field"), std::string::npos)
      << response.body;
  EXPECT_FALSE(Cluster().HasPod("i8c-bad"));
}

// The executor's own pod, spoilt the ways a code change could: each is refused with 422
// and names the field, so the check that passes the executor's objects can fail.
TEST_F(PodExecutor, SchemaRefusesAMisspeltRequiredFieldAndAWrongType) {
  PodPlan plan;
  plan.name = "i8c-misspelt";
  plan.runtime = &testing::RuntimeFor("python", "3.11");
  const json::object good = BuildPod(plan, testing::ClusterExecutorOptions().pod);
  EXPECT_TRUE(testing::Schema().Validate(good, "io.k8s.api.core.v1.Pod").empty());

  json::object misspelt = good;
  auto& container = misspelt["spec"].as_object()["containers"].as_array()[0].as_object();
  container["nmae"] = container["name"];
  container.erase("name");
  KubeResponse response = Post("/api/v1/namespaces/integr8scode-test/pods", misspelt);
  EXPECT_EQ(response.status, 422u) << response.body;
  EXPECT_NE(response.body.find("spec.containers[0].name: Required value"), std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find("spec.containers[0].nmae: unknown field"), std::string::npos)
      << response.body;
  EXPECT_FALSE(Cluster().HasPod("i8c-misspelt"));

  json::object wrong_type = good;
  wrong_type["spec"].as_object()["securityContext"].as_object()["runAsUser"] = "65534";
  response = Post("/api/v1/namespaces/integr8scode-test/pods", wrong_type);
  EXPECT_EQ(response.status, 422u) << response.body;
  EXPECT_NE(response.body.find("spec.securityContext.runAsUser: expected integer"),
            std::string::npos)
      << response.body;

  json::object bad_enum = good;
  bad_enum["spec"].as_object()["restartPolicy"] = "Sometimes";
  response = Post("/api/v1/namespaces/integr8scode-test/pods", bad_enum);
  EXPECT_EQ(response.status, 422u) << response.body;
  EXPECT_NE(response.body.find("spec.restartPolicy: Unsupported value"), std::string::npos)
      << response.body;
  EXPECT_FALSE(Cluster().HasPod("i8c-misspelt"));
}

TEST_F(PodExecutor, SchemaRefusesABadConfigMapAndDeleteOptions) {
  const KubeResponse config_map = Post("/api/v1/namespaces/integr8scode-test/configmaps",
                                       json::object{{"apiVersion", "v1"},
                                                    {"kind", "ConfigMap"},
                                                    {"metadata", {{"name", "i8c-bad-cm"}}},
                                                    {"data", {{"main.py", 42}}}});
  EXPECT_EQ(config_map.status, 422u) << config_map.body;
  EXPECT_NE(config_map.body.find("data.main.py: expected string"), std::string::npos)
      << config_map.body;
  EXPECT_EQ(Cluster().ConfigMaps(), 0u);
  const auto problems =
      testing::Schema().Validate(json::object{{"gracePeriodSeconds", "0"}},
                                 "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "gracePeriodSeconds: expected integer");
}

TEST_F(PodExecutor, ImagePullFailureIsAnErrorTheUserUnderstands) {
  Runtime runtime = testing::RuntimeFor("python", "3.11");
  runtime.image = "registry.invalid/python:3.11";
  const RunResult result = RunWith(testing::KubernetesExecutorForTests(), runtime, "print(1)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kError);
  EXPECT_NE(
      result.message.find("'registry.invalid/python:3.11' for Python 3.11 could not be pulled"),
      std::string::npos)
      << result.message;
}

TEST_F(PodExecutor, UnschedulableEndsAtTheStartTimeout) {
  auto executor = ExecutorWith([](KubernetesOptions& o) {
    o.pod.node_selector = {{"integr8scode.io/pool", "gpu"}};
    o.pod.start_timeout = std::chrono::seconds(1);
  });
  const RunResult result = RunWith(*executor, testing::RuntimeFor("python", "3.11"), "print(1)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kError);
  EXPECT_NE(result.message.find("no node of the cluster could take the execution within 1 s"),
            std::string::npos)
      << result.message;
}

TEST_F(PodExecutor, PendingTooLongIsAnError) {
  Cluster().HoldPending(true);
  auto executor =
      ExecutorWith([](KubernetesOptions& o) { o.pod.start_timeout = std::chrono::seconds(1); });
  const RunResult result = RunWith(*executor, testing::RuntimeFor("python", "3.11"), "print(1)\n");
  Cluster().HoldPending(false);
  EXPECT_EQ(result.status, ExecutionStatus::kError);
  EXPECT_NE(result.message.find("did not start within 1 s"), std::string::npos) << result.message;
}

TEST_F(PodExecutor, SurvivesDroppedWatchesAnd410Gone) {
  HookSink sink;
  sink.hook = [] {
    Cluster().DropWatches();
    Cluster().ForgetHistory();
  };
  const RunResult result = RunWith(testing::KubernetesExecutorForTests(),
                                   testing::RuntimeFor("python", "3.11"), kThreeLines, &sink);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "a\nb\nc\n");
}

TEST_F(PodExecutor, RetriesTooManyRequestsAndServerErrors) {
  Executor& executor = testing::KubernetesExecutorForTests();
  (void)RunWith(executor, testing::RuntimeFor("python", "3.11"), "print('warm')\n");
  Cluster().ResetTraffic();
  Cluster().FailNext(429, 2, "POST", "/pods");
  Cluster().FailNext(500, 1, "POST", "/configmaps");
  const RunResult result = RunWith(testing::KubernetesExecutorForTests(),
                                   testing::RuntimeFor("python", "3.11"), "print('ok')\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "ok\n");
  const auto traffic = Cluster().Traffic();
  EXPECT_EQ(traffic.by_call.at("POST pods"), 3u);
  EXPECT_EQ(traffic.by_call.at("POST configmaps"), 2u);
}

TEST_F(PodExecutor, FollowsTheTokenAsItRotates) {
  HookSink sink;
  sink.hook = [] { Cluster().RotateToken(); };
  const RunResult result = RunWith(testing::KubernetesExecutorForTests(),
                                   testing::RuntimeFor("python", "3.11"), kThreeLines, &sink);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "a\nb\nc\n");
}

TEST_F(PodExecutor, SurvivesAnApiServerRestartMidRun) {
  HookSink sink;
  bool restarted = false;
  // Restart once the first line was printed: the log stream breaks in the middle.
  struct RestartOnOutput final : OutputSink {
    bool* restarted;
    std::string out;
    void OnOutput(OutputStream, std::string_view chunk) override {
      out += chunk;
      if (!*restarted) {
        *restarted = true;
        Cluster().Restart();
      }
    }
  } restart_sink;
  restart_sink.restarted = &restarted;
  const RunResult result =
      RunWith(testing::KubernetesExecutorForTests(), testing::RuntimeFor("python", "3.11"),
              kThreeLines, &restart_sink);
  EXPECT_TRUE(restarted);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "a\nb\nc\n");
  EXPECT_EQ(restart_sink.out, "a\nb\nc\n");  // live output: nothing twice, nothing lost
}

TEST_F(PodExecutor, AContainerOomKilledWholeIsMemoryExceeded) {
  Cluster().OomKillNextContainerWhole();
  const RunResult result =
      RunWith(testing::KubernetesExecutorForTests(), testing::RuntimeFor("python", "3.11"),
              "import time\nprint('before', end='', flush=True)\ntime.sleep(30)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded) << result.message;
  EXPECT_EQ(result.stdout_text, "before");  // what it printed before the kill, whole
  EXPECT_NE(result.message.find("memory limit"), std::string::npos) << result.message;
}

TEST_F(PodExecutor, APodDeletedFromOutsideIsAnError) {
  Cluster().DeleteNextPodWhenRunning();
  const RunResult result =
      RunWith(testing::KubernetesExecutorForTests(), testing::RuntimeFor("python", "3.11"),
              "import time\ntime.sleep(5)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kError);
  EXPECT_NE(result.message.find("deleted before the program ended"), std::string::npos)
      << result.message;
}

TEST_F(PodExecutor, TheJanitorRemovesOrphansOnly) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::map<std::string, std::string> ours = {{"app.kubernetes.io/managed-by", "integr8scode"},
                                                   {"integr8scode.io/role", "execution"}};
  auto with_worker = [&](std::string worker) {
    auto labels = ours;
    labels["integr8scode.io/worker"] = std::move(worker);
    return labels;
  };
  Cluster().AddOrphanPod("i8c-expired", with_worker("gone-worker"), now - 10);
  Cluster().AddOrphanPod("i8c-mine-before-restart", with_worker("worker-janitor"), now + 3600);
  Cluster().AddOrphanPod("i8c-live-elsewhere", with_worker("other-worker"), now + 3600);
  auto executor = ExecutorWith([](KubernetesOptions& o) { o.pod.worker_id = "worker-janitor"; });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((Cluster().HasPod("i8c-expired") || Cluster().HasPod("i8c-mine-before-restart")) &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition
  }
  EXPECT_FALSE(Cluster().HasPod("i8c-expired"));
  EXPECT_FALSE(Cluster().HasPod("i8c-mine-before-restart"));
  EXPECT_TRUE(Cluster().HasPod("i8c-live-elsewhere"));
  executor.reset();
  KubeClientOptions options;
  options.api_url = Cluster().Url();
  options.token_file = Cluster().TokenFile();
  options.ca_file = Cluster().CaFile();
  auto client = KubeClient::Create(options);
  ASSERT_TRUE(client.has_value());
  auto deleted = (*client)->Call(
      "DELETE", "/api/v1/namespaces/integr8scode-test/pods/i8c-live-elsewhere", "", nullptr);
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->status, 200u);
}

TEST_F(PodExecutor, RunsConcurrentlyUpToMaxPods) {
  auto executor = ExecutorWith([](KubernetesOptions& o) { o.max_pods = 2; });
  ASSERT_NE(executor, nullptr);
  EXPECT_EQ(executor->Capacity(), 2u);
  Cluster().ResetTraffic();
  std::vector<RunResult> results(6);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = RunWith(*executor, testing::RuntimeFor("python", "3.11"),
                           "import time\ntime.sleep(0.2)\nprint(" + std::to_string(i) + ")\n");
    });
  }
  for (std::thread& t : threads) t.join();
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].status, ExecutionStatus::kCompleted) << results[i].message;
    EXPECT_EQ(results[i].stdout_text, std::to_string(i) + "\n");
  }
  EXPECT_EQ(Cluster().MostPodsAtOnce(), 2u);
}

// Not a pass/fail figure: the executor's own cost per execution, printed.
TEST_F(PodExecutor, OverheadPerExecution) {
  Executor& executor = testing::KubernetesExecutorForTests();
  (void)RunWith(executor, testing::RuntimeFor("python", "3.11"), "print('warm')\n");
  Cluster().ResetTraffic();
  constexpr int kRuns = 5;
  const auto time_runs = [&](Executor& e) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRuns; ++i) {
      const RunResult result =
          RunWith(e, testing::RuntimeFor("python", "3.11"), "print('hello')\n");
      EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
               .count() /
           kRuns;
  };
  const double pod_ms = time_runs(executor);
  const auto traffic = Cluster().Traffic();
  const double local_ms = time_runs(testing::SharedExecutor());
  std::printf("kubernetes executor overhead per execution (print('hello'), %d runs):\n", kRuns);
  std::printf("  API calls %.1f, bytes sent %.0f, bytes received %.0f\n",
              static_cast<double>(traffic.requests) / kRuns,
              static_cast<double>(traffic.bytes_in) / kRuns,
              static_cast<double>(traffic.bytes_out) / kRuns);
  std::printf("  wall per execution: %.0f ms through the stand-in, %.0f ms in the local sandbox\n",
              pod_ms, local_ms);
  for (const auto& [call, count] : traffic.by_call)
    std::printf("  %-28s %.1f\n", call.c_str(), static_cast<double>(count) / kRuns);
  EXPECT_GE(traffic.requests, static_cast<std::uint64_t>(5 * kRuns));
}

// The Role shipped in deploy/ grants exactly what the executor uses: every path of it
// (a run, a relist after 410 Gone, readiness, the janitor) and nothing more.
TEST_F(PodExecutor, TheShippedRoleGrantsExactlyWhatIsUsed) {
  HookSink sink;
  sink.hook = [] { Cluster().ForgetHistory(); };
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  Cluster().AddOrphanPod(
      "i8c-old",
      {{"app.kubernetes.io/managed-by", "integr8scode"}, {"integr8scode.io/role", "execution"}},
      now - 10);
  auto executor = ExecutorWith([](KubernetesOptions&) {});
  EXPECT_TRUE(executor->CheckReady().has_value());
  const RunResult result =
      RunWith(*executor, testing::RuntimeFor("python", "3.11"), kThreeLines, &sink);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_FALSE(Cluster().HasPod("i8c-old"));

  std::ifstream file(std::string(INTEGR8SCODE_SOURCE_DIR) +
                     "/deploy/kubernetes/components/pod-executor/role.yaml");
  ASSERT_TRUE(file);
  std::set<std::string> granted;
  std::vector<std::string> resources;
  const std::regex list(R"(\[([^\]]*)\])"), item(R"re("([^"]+)")re");
  for (std::string line; std::getline(file, line);) {
    if (line.find('#') != std::string::npos) line.erase(line.find('#'));
    std::smatch bracket;
    if (!std::regex_search(line, bracket, list)) continue;
    const std::string inside = bracket[1];
    std::vector<std::string> names;
    for (std::sregex_iterator it(inside.begin(), inside.end(), item), end; it != end; ++it)
      names.push_back((*it)[1]);
    if (line.find("resources:") != std::string::npos) resources = names;
    if (line.find("verbs:") != std::string::npos) {
      for (const std::string& r : resources)
        for (const std::string& v : names) granted.insert(r + " " + v);
    }
  }
  std::set<std::string> used = Cluster().PermissionsUsed();
  EXPECT_EQ(granted, used);
}

}  // namespace
}  // namespace integr8scode
