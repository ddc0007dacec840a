#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "domain/executor.hpp"

namespace integr8scode::testing {

// TEST DOUBLE — runs nothing. Each Run() records its source text, reports one stdout
// chunk ("out:<source>"), then blocks until the test opens the gate (ReleaseOne /
// ReleaseAll) or the request's CancelToken fires, and returns a fixed result:
// completed with stdout "out:<source>", or cancelled with the same output so far.
//
// Why a double: these tests are about the queue's own logic — which execution a worker
// takes next, how many are accepted, what cancel and shutdown do at each stage. They need
// runs that stay "running" exactly as long as the test says; a real sandbox run ends when
// its program does, which would make the outcome depend on process timing instead of on
// the queue. Used by tests/queue and storage_quota_test; everything else in tests/service
// runs the real sandbox.
class GatedExecutor final : public Executor {
 public:
  explicit GatedExecutor(std::size_t capacity = 1);

  RunResult Run(const RunRequest& request) override;
  std::size_t Capacity() const override { return capacity_; }
  Status CheckReady() override { return {}; }
  std::string_view Kind() const override { return "test-double"; }

  void ReleaseOne();  // lets one blocked (or the next) run finish
  void ReleaseAll();  // opens the gate for good
  // Blocks until `count` runs have started (false after testing::kPatience).
  bool WaitStarted(std::size_t count);
  bool WaitFinished(std::size_t count);
  std::vector<std::string> Started();
  std::size_t Finished();

 private:
  const std::size_t capacity_;
  UniqueFd gate_;  // eventfd in semaphore mode: each unit lets one run through
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> started_;
  std::size_t finished_ = 0;
};

}  // namespace integr8scode::testing
