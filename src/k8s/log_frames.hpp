#pragma once

// The protocol between the in-pod wrapper (pod_init.cpp) and the executor. The kubelet
// keeps one log per container and merges its stdout and stderr, so the wrapper is the
// container's only writer and tells the two streams of the program apart itself: every
// record is one text line "i8c1 <kind> <payload>", binary data base64-encoded so that
// no log pipeline (CRI line splitting, UTF-8 handling) can change it. Lines without the
// prefix (diagnostics of the wrapper or the runtime) are ignored. Standard library only:
// the wrapper is linked statically.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace integr8scode::podlog {

inline constexpr std::string_view kPrefix = "i8c1 ";

// Why the wrapper ended a step early, if it did.
enum class StepStop { kNone, kTimeout, kStdoutCap, kStderrCap };

// What the wrapper measured about one finished step, inside the pod.
struct StepEnd {
  std::string step;  // "compile" or "run"
  std::optional<int> exit_code;
  std::optional<int> signal;
  int exec_errno = 0;  // the step's program could not be executed
  StepStop stop = StepStop::kNone;
  std::uint64_t oom_kills = 0;  // memory.events oom_kill of the container, during the step
  std::int64_t wall_ms = 0;
  std::int64_t cpu_ms = 0;
  std::uint64_t peak_memory_bytes = 0;
};

std::string EncodeStdout(std::string_view bytes);
std::string EncodeStderr(std::string_view bytes);
std::string EncodeStepStart(std::string_view step);
std::string EncodeStepEnd(const StepEnd& end);
std::string EncodeDone();

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

// Turns the log, fed in pieces as they arrive, back into records. Records are counted,
// so that a log read again from its start after a broken follow can skip those already
// delivered. Not thread-safe.
class Decoder {
 public:
  struct Handlers {
    std::function<void(bool is_stderr, std::string_view bytes)> output;
    std::function<void(std::string_view step)> step_start;
    std::function<void(const StepEnd& end)> step_end;
    std::function<void()> done;
  };

  explicit Decoder(Handlers handlers, std::uint64_t skip_records = 0);
  // Returns false when a record was malformed (it is skipped; the rest still counts).
  bool Feed(std::string_view bytes);
  // At the end of the log: drops a last record without its newline (cut when the
  // container was killed). Returns false when one was dropped.
  bool Finish();
  std::uint64_t Records() const { return records_; }
  bool SawDone() const { return done_; }

 private:
  bool Line(std::string_view line);

  Handlers handlers_;
  std::uint64_t skip_;
  std::uint64_t records_ = 0;
  std::string partial_;
  bool done_ = false;
};

std::optional<StepEnd> ParseStepEnd(std::string_view payload);

}  // namespace integr8scode::podlog
