#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>
#include <utility>

#include "common/error.hpp"
#include "domain/stores.hpp"

namespace integr8scode {

// The two sides of the execution queue. The submit side is what the API needs (admit,
// enqueue, cancel, count); the worker side takes executions and runs them. In one
// process on SQLite both are the in-memory ExecutionQueue; on PostgreSQL the submit side
// is the database (ClusterSubmitQueue) and the worker side a ClusterWorkerPool, which may
// live in other processes (docs/architecture.md).

// A place in the queue held while the caller stores the execution; given back on
// destruction unless Enqueue consumed it.
class QueueTicket {
 public:
  QueueTicket() = default;
  explicit QueueTicket(std::function<void()> release) : release_(std::move(release)) {}
  QueueTicket(QueueTicket&& other) noexcept : release_(std::exchange(other.release_, nullptr)) {}
  QueueTicket& operator=(QueueTicket&&) = delete;
  ~QueueTicket() {
    if (release_) release_();
  }
  // Enqueue's: the place is now taken by the execution.
  void Consume() { release_ = nullptr; }

 private:
  std::function<void()> release_;
};

enum class QueueCancelOutcome {
  kRemoved,    // was waiting and is no longer: the caller records the cancellation
  kSignalled,  // a worker here held it: it records the outcome (waited for up to `wait`)
  kNotHere,    // neither waiting nor running here: the caller records it in the store
};

struct QueueCounts {
  std::size_t queued = 0;
  std::size_t running = 0;
  std::size_t workers = 0;
  std::size_t capacity = 0;
};

class SubmitQueue {
 public:
  virtual ~SubmitQueue() = default;
  // kResourceExhausted (reason "queue_full") when capacity is reached; kUnavailable
  // once shutting down.
  virtual Result<QueueTicket> Reserve() = 0;
  // The execution must be stored as queued already.
  virtual void Enqueue(QueueTicket ticket, std::string_view owner_key, std::string_view id) = 0;
  virtual QueueCancelOutcome Cancel(std::string_view id, std::chrono::milliseconds wait) = 0;
  // Puts an id back that Cancel removed when recording the cancellation failed.
  virtual void Restore(std::string_view owner_key, std::string_view id) = 0;
  virtual QueueCounts Counts() const = 0;
  virtual bool Accepting() const = 0;
};

class WorkerPool {
 public:
  virtual ~WorkerPool() = default;
  // Once, before Start: what a previous run of this pool left behind is put right.
  virtual Result<RecoveryReport> Recover() = 0;
  virtual void Start() = 0;
  // Stops taking work, lets runs finish within `grace`, cancels the rest and hands them
  // back to queued, joins the workers. Idempotent; blocks.
  virtual void Shutdown(std::chrono::milliseconds grace) = 0;
};

}  // namespace integr8scode
