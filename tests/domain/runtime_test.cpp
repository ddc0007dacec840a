#include "domain/runtime.hpp"

#include <gtest/gtest.h>

#include "domain/status.hpp"

namespace integr8scode {
namespace {

Runtime Make(std::string language, std::string version) {
  Runtime runtime;
  runtime.language = std::move(language);
  runtime.version = std::move(version);
  runtime.source_file = "script.py";
  return runtime;
}

TEST(RuntimeCatalog, FindsByLanguageAndVersion) {
  const RuntimeCatalog catalog({Make("python", "3.11"), Make("python", "3.9"), Make("node", "20")});
  auto found = catalog.Find("python", "3.9");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ((*found)->version, "3.9");
}

TEST(RuntimeCatalog, UnknownLanguageListsWhatIsAvailable) {
  const RuntimeCatalog catalog({Make("python", "3.11"), Make("node", "20")});
  auto found = catalog.Find("ruby", "3.3");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(found.error().message, "unknown language 'ruby'; available: python 3.11, node 20");
}

TEST(RuntimeCatalog, UnknownVersionListsTheLanguagesVersions) {
  const RuntimeCatalog catalog({Make("python", "3.11"), Make("python", "3.9")});
  auto found = catalog.Find("python", "2.7");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().message, "unknown version '2.7' of python; available: 3.11, 3.9");
}

TEST(Runtime, ExpandsPlaceholders) {
  const Runtime runtime = Make("c", "12");
  const auto argv = ExpandArgv({"gcc", "-o", "{workdir}/main", "{source}"}, runtime);
  EXPECT_EQ(argv,
            (std::vector<std::string>{"gcc", "-o", "/home/sandbox/main", "/scripts/script.py"}));
}

TEST(ExecutionStatus, NamesRoundTrip) {
  for (const ExecutionStatus status : kAllStatuses) {
    EXPECT_EQ(ParseStatus(StatusName(status)), status);
  }
  EXPECT_FALSE(ParseStatus("done").has_value());
}

TEST(ExecutionStatus, StateMachine) {
  EXPECT_TRUE(CanTransition(ExecutionStatus::kQueued, ExecutionStatus::kRunning));
  EXPECT_TRUE(CanTransition(ExecutionStatus::kQueued, ExecutionStatus::kCancelled));
  EXPECT_FALSE(CanTransition(ExecutionStatus::kQueued, ExecutionStatus::kCompleted));
  EXPECT_TRUE(CanTransition(ExecutionStatus::kRunning, ExecutionStatus::kTimedOut));
  EXPECT_TRUE(CanTransition(ExecutionStatus::kRunning, ExecutionStatus::kQueued));
  EXPECT_FALSE(CanTransition(ExecutionStatus::kCompleted, ExecutionStatus::kRunning));
  EXPECT_FALSE(CanTransition(ExecutionStatus::kCancelled, ExecutionStatus::kQueued));
}

}  // namespace
}  // namespace integr8scode
