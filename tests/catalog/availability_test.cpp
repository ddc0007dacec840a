#include "catalog/availability.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

// Two runtimes that disagree: the first is installed on this host but has no image, the
// second has an image but is not installed. Which one is available says who decided.
RuntimeCatalog InstalledVersusImaged() {
  Runtime installed;
  installed.language = "shell";
  installed.version = "1";
  installed.interpreter = "/bin/sh";
  installed.version_probe = {"/bin/sh", "-c", "echo shell 1.2"};
  installed.version_match = "1.2";
  Runtime imaged;
  imaged.language = "absent";
  imaged.version = "9";
  imaged.interpreter = "/nonexistent/integr8scode-interpreter";
  imaged.image = "registry.example/absent:9";
  return RuntimeCatalog({installed, imaged});
}

TEST(RuntimeAvailability, LocalSandboxProbesThisHost) {
  const auto availability =
      RuntimeAvailabilityOn(InstalledVersusImaged(), RuntimeHost::kLocalSandbox);
  ASSERT_EQ(availability.size(), 2U);
  EXPECT_TRUE(availability[0].available) << availability[0].reason;
  EXPECT_EQ(availability[0].detected_version, "shell 1.2");
  EXPECT_FALSE(availability[1].available);
  EXPECT_EQ(availability[1].reason, "/nonexistent/integr8scode-interpreter is not installed");
}

TEST(RuntimeAvailability, KubernetesPodsNeedAnImageNotTheHostsInstall) {
  const auto availability =
      RuntimeAvailabilityOn(InstalledVersusImaged(), RuntimeHost::kKubernetesPods);
  ASSERT_EQ(availability.size(), 2U);
  EXPECT_FALSE(availability[0].available);
  EXPECT_EQ(availability[0].reason, "no container image in the catalog");
  EXPECT_TRUE(availability[1].available);
  EXPECT_EQ(availability[1].reason, "ok");
}

TEST(RuntimeAvailability, AnApiProcessLeavesItToTheWorkers) {
  const auto availability =
      RuntimeAvailabilityOn(InstalledVersusImaged(), RuntimeHost::kRemoteWorkers);
  ASSERT_EQ(availability.size(), 2U);
  for (const RuntimeAvailability& entry : availability) {
    EXPECT_TRUE(entry.available);
    EXPECT_EQ(entry.reason, "probed by the workers");
  }
}

}  // namespace
}  // namespace integr8scode
