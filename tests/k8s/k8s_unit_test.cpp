// The pure parts of the Kubernetes executor: the log protocol, the pod's manifest,
// reading pod status, the client's URL rules.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <map>
#include <set>

#include "catalog/catalog_loader.hpp"
#include "k8s/api_client.hpp"
#include "k8s/log_frames.hpp"
#include "k8s/pod_manifest.hpp"
#include "k8s/pod_state.hpp"

namespace integr8scode {
namespace {

namespace json = boost::json;

TEST(LogFrames, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 37));
    auto decoded = podlog::Base64Decode(podlog::Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_FALSE(podlog::Base64Decode("abc").has_value());
  EXPECT_FALSE(podlog::Base64Decode("a=bc").has_value());
}

TEST(LogFrames, DecoderKeepsStreamsApartAcrossAnySplit) {
  podlog::StepEnd end;
  end.step = "run";
  end.exit_code = 3;
  end.wall_ms = 12;
  end.cpu_ms = 5;
  end.peak_memory_bytes = 1 << 20;
  end.stop = podlog::StepStop::kStderrCap;
  const std::string log = "runtime noise\n" + podlog::EncodeStepStart("run") +
                          podlog::EncodeStdout("out\n\xff") + podlog::EncodeStderr("err\n") +
                          podlog::EncodeStepEnd(end) + podlog::EncodeDone();
  for (std::size_t split = 0; split <= log.size(); ++split) {
    std::string out, err, started;
    std::optional<podlog::StepEnd> got;
    podlog::Decoder decoder({
        .output = [&](bool is_stderr, std::string_view b) { (is_stderr ? err : out) += b; },
        .step_start = [&](std::string_view s) { started = s; },
        .step_end = [&](const podlog::StepEnd& e) { got = e; },
        .done = nullptr,
    });
    EXPECT_TRUE(decoder.Feed(std::string_view(log).substr(0, split)));
    EXPECT_TRUE(decoder.Feed(std::string_view(log).substr(split)));
    EXPECT_TRUE(decoder.Finish());
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(out, "out\n\xff");
    EXPECT_EQ(err, "err\n");
    EXPECT_EQ(started, "run");
    EXPECT_EQ(got->exit_code, 3);
    EXPECT_FALSE(got->signal.has_value());
    EXPECT_EQ(got->stop, podlog::StepStop::kStderrCap);
    EXPECT_EQ(got->peak_memory_bytes, 1u << 20);
    EXPECT_TRUE(decoder.SawDone());
    EXPECT_EQ(decoder.Records(), 5u);
  }
}

TEST(LogFrames, DecoderSkipsRecordsAlreadyTaken) {
  const std::string log = podlog::EncodeStdout("a") + podlog::EncodeStdout("b") +
                          podlog::EncodeStdout("c") + podlog::EncodeDone();
  std::string out;
  podlog::Decoder::Handlers handlers;
  handlers.output = [&](bool, std::string_view b) { out += b; };
  podlog::Decoder decoder(handlers, 2);
  decoder.Feed(log);
  EXPECT_EQ(out, "c");
  EXPECT_TRUE(decoder.SawDone());
}

TEST(LogFrames, ACutLastRecordIsDropped) {
  std::string out;
  podlog::Decoder::Handlers handlers;
  handlers.output = [&](bool, std::string_view b) { out += b; };
  podlog::Decoder decoder(handlers);
  const std::string record = podlog::EncodeStdout("before\n");
  decoder.Feed(podlog::EncodeStdout("kept\n") + record.substr(0, record.size() - 5));
  EXPECT_FALSE(decoder.Finish());
  EXPECT_EQ(out, "kept\n");
  EXPECT_EQ(decoder.Records(), 1u);
}

TEST(LogFrames, MalformedRecordIsReported) {
  podlog::Decoder decoder({});
  EXPECT_FALSE(decoder.Feed("i8c1 o not*base64\n"));
  EXPECT_FALSE(decoder.Feed("i8c1 end run exit=abc\n"));
  EXPECT_TRUE(decoder.Feed("plain line from elsewhere\n"));
}

Runtime CRuntime() {
  Runtime runtime;
  runtime.language = "c";
  runtime.version = "12";
  runtime.display_name = "C (GCC 12)";
  runtime.source_file = "main.c";
  runtime.image = "gcc:12";
  runtime.has_compile = true;
  runtime.compile.argv = {"/usr/bin/gcc-12", "-o", "{workdir}/main", "{source}"};
  runtime.compile.limits.timeout = std::chrono::milliseconds(10000);
  runtime.compile.limits.memory_bytes = 256ull << 20;
  runtime.run.argv = {"{workdir}/main"};
  return runtime;
}

TEST(PodManifest, MeetsTheRestrictedProfileAndCarriesTheLimits) {
  const Runtime runtime = CRuntime();
  PodPlan plan;
  plan.name = "i8c-test";
  plan.runtime = &runtime;
  plan.limits.memory_bytes = 64ull << 20;
  plan.limits.cpu_millicores = 500;
  plan.limits.timeout = std::chrono::milliseconds(2500);
  plan.has_stdin = true;
  plan.now_unix_s = 1000;
  PodSettings settings;
  settings.runtime_class = "gvisor";
  settings.start_timeout = std::chrono::seconds(30);
  settings.node_selector = {{"pool", "sandbox"}};
  settings.tolerations = {{"sandbox", "Equal", "true", "NoSchedule"}};
  const json::object pod = BuildPod(plan, settings);
  const json::object& spec = pod.at("spec").as_object();
  EXPECT_EQ(spec.at("automountServiceAccountToken"), false);
  EXPECT_EQ(spec.at("enableServiceLinks"), false);
  EXPECT_EQ(spec.at("hostUsers"), false);
  EXPECT_EQ(spec.at("runtimeClassName"), "gvisor");
  EXPECT_EQ(spec.at("restartPolicy"), "Never");
  // start 30 s + compile 10 s + run 2.5 s → 43 s, + 10 s of slack.
  EXPECT_EQ(spec.at("activeDeadlineSeconds"), 53);
  EXPECT_EQ(spec.at("nodeSelector").at("pool"), "sandbox");
  EXPECT_EQ(spec.at("tolerations").at(0).at("effect"), "NoSchedule");
  const json::object& run = spec.at("containers").at(0).as_object();
  EXPECT_EQ(run.at("image"), "gcc:12");
  const auto& context = run.at("securityContext").as_object();
  EXPECT_EQ(context.at("allowPrivilegeEscalation"), false);
  EXPECT_EQ(context.at("readOnlyRootFilesystem"), true);
  EXPECT_EQ(context.at("runAsNonRoot"), true);
  EXPECT_EQ(context.at("capabilities").at("drop").at(0), "ALL");
  EXPECT_EQ(context.at("seccompProfile").at("type"), "RuntimeDefault");
  // requests = limits; the compile step's larger memory is the container's.
  EXPECT_EQ(run.at("resources").at("requests"), run.at("resources").at("limits"));
  EXPECT_EQ(run.at("resources").at("limits").at("memory").as_string(),
            std::to_string(256ull << 20));
  EXPECT_EQ(run.at("resources").at("limits").at("cpu"), "500m");
  // The program never reaches a command line: only its path does.
  const auto args = WrapperArgs(runtime, plan.limits, true);
  EXPECT_NE(std::find(args.begin(), args.end(), "/scripts/main.c"), args.end());
  EXPECT_NE(std::find(args.begin(), args.end(), "/scripts/stdin"), args.end());
  EXPECT_EQ(pod.at("metadata").at("annotations").at(kExpiresAnnotation).as_string(),
            std::to_string(1000 + 53 + 60));
}

// The programs the official images install on their PATH (docs/kubernetes-executor.md):
// python:3.11-slim /usr/local/bin/python3.11, pypy:3.9-slim /usr/local/bin/pypy3 (a link
// into /opt/pypy), gcc:12 /usr/local/bin/gcc and g++, node:20-slim /usr/local/bin/node,
// bash:5.2 /usr/local/bin/bash. A runtime whose image is listed here may only name these.
const std::map<std::string, std::set<std::string>> kImageCommands = {
    {"python:3.11-slim", {"python3.11", "python3", "python"}},
    {"pypy:3.9-slim", {"pypy3", "pypy"}},
    {"gcc:12", {"gcc", "g++"}},
    {"node:20-slim", {"node"}},
    {"node:20", {"node"}},
    {"bash:5.2", {"bash"}},
};

// The programs of the wrapper's steps: "--step NAME TIMEOUT N ARGV…".
std::map<std::string, std::string> StepPrograms(const json::object& pod) {
  const json::array& args = pod.at("spec").at("containers").as_array()[0].at("args").as_array();
  std::map<std::string, std::string> programs;
  for (std::size_t i = 0; i + 4 < args.size(); ++i) {
    if (args[i] != "--step") continue;
    programs[std::string(args[i + 1].as_string())] = std::string(args[i + 4].as_string());
  }
  return programs;
}

TEST(PodManifest, EveryShippedRuntimeRunsProgramsItsImageHas) {
  auto catalog =
      LoadCatalog(std::filesystem::path(INTEGR8SCODE_SOURCE_DIR) / "runtimes" / "catalog.toml",
                  CatalogExamples::kSkip);
  ASSERT_TRUE(catalog.has_value()) << catalog.error().Describe();
  PodSettings settings;
  settings.namespace_name = "ns";
  settings.helper_image = "helper:1";
  std::size_t checked = 0;
  for (const Runtime& runtime : catalog->All()) {
    const auto known = kImageCommands.find(runtime.image);
    if (runtime.image.empty() || known == kImageCommands.end()) {
      std::printf("note: %s: image '%s' has no known command names here\n", runtime.Key().c_str(),
                  runtime.image.c_str());
      continue;
    }
    PodPlan plan;
    plan.name = "i8c-commands";
    plan.runtime = &runtime;
    const auto programs = StepPrograms(BuildPod(plan, settings));
    ASSERT_TRUE(programs.contains("run")) << runtime.Key();
    EXPECT_EQ(programs.contains("compile"), runtime.has_compile) << runtime.Key();
    for (const auto& [step, program] : programs) {
      // The run step of a compiled language is the program it built.
      if (runtime.has_compile && step == "run" && program.starts_with(kSandboxWorkDir)) continue;
      EXPECT_TRUE(known->second.contains(program))
          << runtime.Key() << " " << step << ": '" << program << "' is not a program of "
          << runtime.image;
    }
    ++checked;
  }
  EXPECT_GE(checked, 6u);
}

TEST(PodManifest, ConfigMapIsOwnedByThePodAndCarriesBinaryStdin) {
  const Runtime runtime = CRuntime();
  const json::object cm = BuildConfigMap("i8c-x", "uid-1", runtime, "int main;", "\x01\xff", {});
  EXPECT_EQ(cm.at("metadata").at("ownerReferences").at(0).at("uid"), "uid-1");
  EXPECT_EQ(cm.at("data").at("main.c"), "int main;");
  EXPECT_EQ(cm.at("binaryData").at("stdin").as_string(), podlog::Base64Encode("\x01\xff"));
  EXPECT_EQ(cm.at("immutable"), true);
}

TEST(PodManifest, SelectorsAndTolerationsParse) {
  auto selector = ParseNodeSelector("a=b, c=d");
  ASSERT_TRUE(selector.has_value());
  EXPECT_EQ(selector->size(), 2u);
  EXPECT_FALSE(ParseNodeSelector("novalue").has_value());
  auto tolerations = ParseTolerations("gpu:NoSchedule,pool=sandbox:NoExecute");
  ASSERT_TRUE(tolerations.has_value());
  EXPECT_EQ((*tolerations)[0].op, "Exists");
  EXPECT_EQ((*tolerations)[1].value, "sandbox");
  EXPECT_FALSE(ParseTolerations("a=b:Sometimes").has_value());
}

TEST(PodState, ReadsWaitingTerminatedAndUnschedulable) {
  const json::value pod = json::parse(R"({
    "metadata": {"uid": "u", "resourceVersion": "42"},
    "status": {"phase": "Failed",
      "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                      "message": "0/3 nodes"}],
      "initContainerStatuses": [{"name": "install-wrapper", "image": "h",
                                 "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
      "containerStatuses": [{"name": "run", "image": "python:3.11-slim",
                             "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}})");
  const PodState state = ReadPodState(pod.as_object());
  EXPECT_EQ(state.resource_version, "42");
  EXPECT_TRUE(state.unschedulable);
  EXPECT_EQ(state.waiting_reason, "ImagePullBackOff");
  EXPECT_TRUE(IsPermanentPullFailure(state.waiting_reason));
  EXPECT_TRUE(state.run_terminated);
  EXPECT_EQ(state.terminated_reason, "OOMKilled");
  EXPECT_EQ(state.exit_code, 137);
  EXPECT_TRUE(state.Finished());
}

TEST(KubeClient, PlainHttpOnlyForLoopback) {
  KubeClientOptions options;
  options.api_url = "http://10.0.0.1:6443";
  auto refused = KubeClient::Create(options);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("loopback"), std::string::npos);
  options.api_url = "http://127.0.0.1:6443";
  EXPECT_TRUE(KubeClient::Create(options).has_value());
  options.api_url = "ftp://example";
  EXPECT_FALSE(KubeClient::Create(options).has_value());
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("kubernetes.default.svc"));
}

}  // namespace
}  // namespace integr8scode
