#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace integr8scode::testing {

TempDir::TempDir() {
  char pattern[] = "/tmp/integr8scode-service-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Stores OpenSqliteStores(const std::filesystem::path& dir) {
  auto stores = OpenStores("sqlite://" + (dir / "integr8scode.db").string());
  if (!stores) {
    ADD_FAILURE() << "open SQLite stores: " << stores.error().Describe();
    std::abort();
  }
  return std::move(*stores);
}

ServiceStores ToServiceStores(const Stores& stores) {
  // The in-process queue on both backends: these suites test the services in one process
  // (tests/scaleout covers the database queue).
  return ServiceStores{stores.executions, stores.users, stores.scripts, stores.tokens, stores.check,
                       nullptr,           {},           nullptr,        nullptr};
}

std::int64_t SkewedClock::Now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         offset_ms_.load();
}

Caller Anonymous(const std::string& ip) {
  Caller caller;
  caller.ip = ip;
  return caller;
}

Caller User(std::int64_t id, Role role) {
  Caller caller;
  caller.user_id = id;
  caller.role = role;
  caller.ip = "198.51.100.7";
  return caller;
}

std::string KindName(ExecutionEvent::Kind kind) {
  switch (kind) {
    case ExecutionEvent::Kind::kStatus:
      return "status";
    case ExecutionEvent::Kind::kStdout:
      return "stdout";
    case ExecutionEvent::Kind::kStderr:
      return "stderr";
    case ExecutionEvent::Kind::kResult:
      return "result";
  }
  return "?";
}

EventCallback EventLog::Callback() {
  return [this](const ExecutionEvent& event) {
    {
      std::lock_guard lock(mu_);
      events_.push_back(event);
    }
    cv_.notify_all();
  };
}

bool EventLog::WaitForResult() { return WaitFor(ExecutionEvent::Kind::kResult, ""); }

bool EventLog::WaitFor(ExecutionEvent::Kind kind, const std::string& data) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, kPatience, [&] {
    for (const auto& event : events_) {
      if (event.kind == kind && (kind == ExecutionEvent::Kind::kResult || event.data == data)) {
        return true;
      }
    }
    return false;
  });
}

bool EventLog::WaitForStdout(const std::string& text) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, kPatience, [&] {
    std::string out;
    for (const auto& event : events_) {
      if (event.kind == ExecutionEvent::Kind::kStdout) out += event.data;
    }
    return out.find(text) != std::string::npos;
  });
}

std::string EventLog::Stdout() {
  std::string out;
  for (const auto& event : Events()) {
    if (event.kind == ExecutionEvent::Kind::kStdout) out += event.data;
  }
  return out;
}

std::string EventLog::Stderr() {
  std::string out;
  for (const auto& event : Events()) {
    if (event.kind == ExecutionEvent::Kind::kStderr) out += event.data;
  }
  return out;
}

std::vector<ExecutionEvent> EventLog::Events() {
  std::lock_guard lock(mu_);
  return events_;
}

std::vector<std::string> EventLog::Lines() {
  std::vector<std::string> lines;
  for (const auto& event : Events()) lines.push_back(KindName(event.kind) + ":" + event.data);
  return lines;
}

Result<Execution> WaitForResult(ExecutionService& service, const Caller& caller,
                                const std::string& id) {
  EventLog log;
  auto subscription = service.Subscribe(caller, id, 0, log.Callback());
  if (!subscription) return Fail(subscription.error());
  if (!log.WaitForResult()) {
    return Fail(ErrorCode::kInternal, "no result event for " + id + " in time");
  }
  return service.Get(caller, id);
}

}  // namespace integr8scode::testing
