#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "domain/execution.hpp"
#include "domain/limits.hpp"
#include "domain/runtime.hpp"

namespace integr8scode {

class CancelToken;

enum class OutputStream { kStdout, kStderr };

// Receives a run's output as it is produced. Chunks are valid UTF-8 and never split
// a character. Called from the thread that called Executor::Run; must not block long.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void OnStarted() {}
  virtual void OnOutput(OutputStream stream, std::string_view chunk) = 0;
};

struct RunRequest {
  const Runtime* runtime = nullptr;
  std::string_view source;
  std::string_view stdin_data;
  Limits limits;
  OutputSink* sink = nullptr;           // optional
  const CancelToken* cancel = nullptr;  // optional
};

// Runs programs in isolation. Implementations: the local sandbox, Kubernetes pods.
// Run() is thread-safe and blocks the caller until the run ends; at most Capacity()
// runs proceed at once (further callers wait for a free slot).
class Executor {
 public:
  virtual ~Executor() = default;
  // Never throws for the program's faults: they are a status in the result. A platform
  // failure is status kError with a message for the user.
  virtual RunResult Run(const RunRequest& request) = 0;
  virtual std::size_t Capacity() const = 0;
  // Whether runs can start now (for /health/ready), with the reason when not.
  virtual Status CheckReady() = 0;
  virtual std::string_view Kind() const = 0;
};

}  // namespace integr8scode
