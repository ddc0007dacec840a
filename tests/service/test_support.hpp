#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "service/caller.hpp"
#include "service/event_hub.hpp"
#include "service/execution_service.hpp"
#include "service/services.hpp"
#include "store/open_store.hpp"

namespace integr8scode::testing {

// How long a test waits for something that should happen at once before it gives up
// and fails (a hang guard, not a timing assertion).
inline constexpr std::chrono::seconds kPatience{60};

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Real SQLite stores on a file in `dir` (opened again on the same file by a "restart").
Stores OpenSqliteStores(const std::filesystem::path& dir);
ServiceStores ToServiceStores(const Stores& stores);

// A wall clock the test moves by hand; starts at a fixed, realistic time.
class ManualClock {
 public:
  std::int64_t Now() const { return now_.load(); }
  void Advance(std::chrono::milliseconds by) { now_ += by.count(); }
  std::function<std::int64_t()> Fn() {
    return [this] { return now_.load(); };
  }

 private:
  std::atomic<std::int64_t> now_{1'800'000'000'000};
};

// The system clock plus an offset the test can push forward (timestamps stay ordered).
class SkewedClock {
 public:
  std::int64_t Now() const;
  void Advance(std::chrono::milliseconds by) { offset_ms_ += by.count(); }
  std::function<std::int64_t()> Fn() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<std::int64_t> offset_ms_{0};
};

Caller Anonymous(const std::string& ip = "192.0.2.1");
Caller User(std::int64_t id, Role role = Role::kUser);

// Collects an execution's events; Wait* block until the wanted event arrives (or
// kPatience passes, then report failure).
class EventLog {
 public:
  EventCallback Callback();
  bool WaitForResult();
  bool WaitFor(ExecutionEvent::Kind kind, const std::string& data);
  // Until the stdout chunks so far, joined, contain `text`.
  bool WaitForStdout(const std::string& text);
  std::string Stdout();
  std::string Stderr();
  std::vector<ExecutionEvent> Events();
  // "status:queued", "stdout:hi\n", "result:" …
  std::vector<std::string> Lines();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ExecutionEvent> events_;
};

std::string KindName(ExecutionEvent::Kind kind);

// Subscribes to `id` and waits for its result event; returns the stored record then.
Result<Execution> WaitForResult(ExecutionService& service, const Caller& caller,
                                const std::string& id);

}  // namespace integr8scode::testing
