// `integr8scode serve` with sandbox.kind = "kubernetes", against the stand-in cluster:
// the configuration reaches the executor and executions run in pods end to end.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "k8s/cluster_harness.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace integr8scode {
namespace {

TEST(ServeWithPods, ExecutionsRunInPodsEndToEnd) {
  if (!testing::ClusterAvailable()) GTEST_SKIP() << "the stand-in's kubelet needs root";
  testing::StandInCluster& cluster = testing::Cluster();
  testing::TempDir data("k8s-serve");
  testing::ServerOptions options;
  options.data_dir = data.Path();
  options.settings = {
      {"sandbox.kind", "kubernetes"},
      {"kubernetes.api_url", cluster.Url()},
      {"kubernetes.token_file", cluster.TokenFile().string()},
      {"kubernetes.ca_file", cluster.CaFile().string()},
      {"kubernetes.namespace", "integr8scode-test"},
      {"kubernetes.helper_image", "integr8scode-helper:test"},
      {"kubernetes.worker_id", "serve-test"},
      {"kubernetes.max_pods", "2"},
  };
  std::string error;
  auto server = testing::ServerProcess::Start(options, error);
  ASSERT_NE(server, nullptr) << error;
  cluster.ResetTraffic();

  testing::HttpClient client(server->Port());
  const auto answer = client.PostJson(
      "/api/v1/execute?wait=true",
      boost::json::object{
          {"script", "import sys\nprint('in a pod')\nprint('e', file=sys.stderr)\n"},
          {"lang", "python"},
          {"lang_version", "3.11"}});
  ASSERT_EQ(answer.status, 200) << answer.Describe() << "\n" << server->Log();
  const auto execution = answer.Json().as_object();
  EXPECT_EQ(execution.at("status"), "completed") << answer.body;
  EXPECT_EQ(execution.at("stdout"), "in a pod\n");
  EXPECT_EQ(execution.at("stderr"), "e\n");
  const auto traffic = cluster.Traffic();
  EXPECT_EQ(traffic.by_call.count("POST pods"), 1u);
  EXPECT_EQ(cluster.Pods(), 0u);
  EXPECT_EQ(client.Get("/api/v1/health/ready").status, 200);
  EXPECT_EQ(server->Terminate(), 0) << server->Log();
}

}  // namespace
}  // namespace integr8scode
