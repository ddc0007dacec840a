// The coordination ceiling of the PostgreSQL queue, apart from sandbox CPU
// (docs/scale-out.md). Worker pools whose executor only waits a fixed time and uses no
// CPU — a STAND-IN for runs happening on other machines — claim, heartbeat and finish
// executions through the real ClusterWorkerPool and SQL; each pool has its own connection
// pool and LISTEN connection, as a worker process would (they share this one process to
// keep the machine's cores for PostgreSQL). Prints figures; never pass/fail.
//
//   integr8scode-bench-scaleout --url postgres://… [--pools 8] [--slots 16]
//       [--executions 20000] [--run-ms 5] [--owners 20]
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog_loader.hpp"
#include "common/cancel.hpp"
#include "queue/cluster_queue.hpp"
#include "store/open_store.hpp"
#include "store/sql_database.hpp"

namespace integr8scode {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The stand-in: waits `run_ms` (or until cancelled), prints nothing, uses no CPU.
class WaitingExecutor final : public Executor {
 public:
  WaitingExecutor(std::size_t slots, int run_ms) : slots_(slots), run_ms_(run_ms) {}
  RunResult Run(const RunRequest& request) override {
    if (request.cancel != nullptr && request.cancel->Fd() >= 0) {
      pollfd fd{request.cancel->Fd(), POLLIN, 0};
      ::poll(&fd, 1, run_ms_);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(run_ms_));
    }
    RunResult result;
    result.status = ExecutionStatus::kCompleted;
    result.exit_code = 0;
    return result;
  }
  std::size_t Capacity() const override { return slots_; }
  Status CheckReady() override { return {}; }
  std::string_view Kind() const override { return "stand-in"; }

 private:
  std::size_t slots_;
  int run_ms_;
};

class CountingListener final : public QueueListener {
 public:
  void OnRequeued(const Execution&) override {}
  void OnStarted(const Execution&) override {}
  void OnOutput(std::string_view, OutputStream, std::string_view) override {}
  void OnFinished(const Execution&) override { finished.fetch_add(1); }
  void OnDepthChanged(std::size_t, std::size_t) override {}
  std::atomic<std::size_t> finished{0};
};

// CPU seconds used so far by the postmaster `postmaster_pid` and its children (the
// cluster's backends), so that other clusters on the machine do not count.
double PostgresCpuSeconds(long postmaster_pid) {
  double total = 0;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto open = line.find('(');
    const auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    if (line.substr(open + 1, close - open - 1) != "postgres") continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0;
    double stime = 0;
    long parent = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 4) parent = std::stol(field);
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    if (std::stol(name) != postmaster_pid && parent != postmaster_pid) continue;
    total += (utime + stime) / ticks;
  }
  return total;
}

Result<std::int64_t> Scalar(SqlDatabase& db, const std::string& sql) {
  return TransactFor<std::int64_t>(db, TxMode::kRead,
                                   [&](SqlConnection& c) -> Result<std::int64_t> {
                                     auto rows = c.Query(sql);
                                     if (!rows) return Fail(std::move(rows).error());
                                     RowReader in(rows->front());
                                     return in.Int();
                                   });
}

std::int64_t Percentile(std::vector<std::int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

// The postmaster of the cluster `db` talks to: the first line of its postmaster.pid
// (this runs as root on the database's machine); 0 when unknown.
long PostmasterPid(SqlDatabase& db) {
  auto dir =
      TransactFor<std::string>(db, TxMode::kRead, [](SqlConnection& c) -> Result<std::string> {
        auto rows = c.Query("SELECT current_setting('data_directory')");
        if (!rows) return Fail(std::move(rows).error());
        RowReader in(rows->front());
        return in.Text();
      });
  if (!dir) return 0;
  std::ifstream pid_file(std::filesystem::path(*dir) / "postmaster.pid");
  long pid = 0;
  pid_file >> pid;
  return pid;
}

// Statements run per pg_stat_statements, when the cluster loads it (counted only then).
Result<std::int64_t> StatementCalls(SqlDatabase& db) {
  return Scalar(db,
                "SELECT coalesce(sum(calls), 0)::BIGINT FROM pg_stat_statements s"
                " JOIN pg_database d ON d.oid = s.dbid"
                " WHERE d.datname = current_database() AND s.toplevel");
}

Execution NewExecution(int owner, int i) {
  Execution e;
  std::mt19937_64 random{std::random_device{}()};
  e.id = fmt::format("{:016x}-{:08x}", random(), i);
  e.owner_key = fmt::format("user:{}", owner);
  e.language = "bash";
  e.version = "5.2";
  e.script = "echo hi";
  e.status = ExecutionStatus::kQueued;
  e.created_at_ms = NowMs();
  return e;
}

int Main(int argc, char** argv) {
  CLI::App app{"The PostgreSQL queue's coordination ceiling, with a no-CPU stand-in executor"};
  std::string url;
  std::size_t pools = 8;
  std::size_t slots = 16;
  int executions = 20000;
  int run_ms = 5;
  int owners = 20;
  std::string catalog_path = "runtimes/catalog.toml";
  app.add_option("--url", url, "PostgreSQL URL (a schema is created and dropped)")->required();
  app.add_option("--pools", pools, "worker pools (stand-ins for worker processes)");
  app.add_option("--slots", slots, "slots per pool");
  app.add_option("--executions", executions, "executions in the throughput run");
  app.add_option("--run-ms", run_ms, "how long each stand-in run waits");
  app.add_option("--owners", owners, "distinct owners");
  app.add_option("--catalog", catalog_path, "runtime catalog");
  CLI11_PARSE(app, argc, argv);

  auto catalog = LoadCatalog(catalog_path);
  if (!catalog) {
    fmt::print(stderr, "{}\n", catalog.error().Describe());
    return 2;
  }
  auto admin = OpenSqlDatabase(url);
  if (!admin) {
    fmt::print(stderr, "{}\n", admin.error().Describe());
    return 2;
  }
  const std::string schema = fmt::format("bench_scaleout_{}", ::getpid());
  if (auto created = (*admin)->Transact(
          TxMode::kWrite,
          [&](SqlConnection& c) { return c.ExecuteScript("CREATE SCHEMA " + schema); });
      !created) {
    fmt::print(stderr, "create schema {}: {}\n", schema, created.error().Describe());
    return 2;
  }
  const std::string schema_url =
      fmt::format("{}{}options=-csearch_path%3D{}", url,
                  url.find('?') == std::string::npos ? "?" : "&", schema);
  auto submitter = OpenStores(schema_url);
  if (!submitter) {
    fmt::print(stderr, "{}\n", submitter.error().Describe());
    return 2;
  }

  struct Pool {
    Stores stores;
    std::unique_ptr<WaitingExecutor> executor;
    std::unique_ptr<ClusterWorkerPool> pool;
    std::unique_ptr<ChangeFeed> feed;
  };
  CountingListener listener;
  std::vector<std::unique_ptr<Pool>> workers;
  auto make_workers = [&] {
    for (std::size_t i = 0; i < pools; ++i) {
      auto w = std::make_unique<Pool>();
      StoreOptions options;
      options.pool_size = 4;
      auto stores = OpenStores(schema_url, options);
      if (!stores) return false;
      w->stores = std::move(*stores);
      w->executor = std::make_unique<WaitingExecutor>(slots, run_ms);
      QueueOptions queue;
      queue.workers = slots;
      queue.worker_id = fmt::format("stand-in-{}", i);
      w->pool = std::make_unique<ClusterWorkerPool>(*w->stores.cluster, *w->stores.executions,
                                                    *w->executor, *catalog, listener, queue, NowMs);
      ClusterWorkerPool* pool = w->pool.get();
      ChangeFeedCallbacks callbacks;
      callbacks.on_notify = [pool](std::string_view channel, std::string_view) {
        if (channel == kWorkChannel) pool->WakeUp();
      };
      callbacks.on_connected = [pool] { pool->WakeUp(); };
      w->feed = w->stores.change_feed(std::move(callbacks));
      workers.push_back(std::move(w));
    }
    return true;
  };
  auto stop_workers = [&] {
    for (auto& w : workers) w->pool->Shutdown(std::chrono::seconds(5));
    workers.clear();
  };

  // 1. Throughput: everything queued first, then the pools (connected, idle) drain it.
  if (!make_workers()) return 2;
  std::vector<std::thread> inserters;
  const int kInserters = 4;
  // A lost insert would leave the drain below waiting for ever.
  std::atomic<int> failed_inserts{0};
  for (int t = 0; t < kInserters; ++t) {
    inserters.emplace_back([&, t] {
      for (int i = t; i < executions; i += kInserters) {
        if (!submitter->executions->Insert(NewExecution(i % owners, i))) ++failed_inserts;
      }
    });
  }
  for (auto& thread : inserters) thread.join();
  if (failed_inserts > 0) {
    fmt::print(stderr, "{} of {} inserts failed\n", failed_inserts.load(), executions);
    return 2;
  }
  // PostgreSQL publishes its statistics about once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto commits_before = Scalar(
      **admin, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
  const long postmaster = PostmasterPid(**admin);
  const auto calls_before = StatementCalls(**admin);
  const double cpu_before = PostgresCpuSeconds(postmaster);
  const auto started = Clock::now();
  for (auto& w : workers) w->pool->Start();
  while (listener.finished.load() < static_cast<std::size_t>(executions)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const double cpu = PostgresCpuSeconds(postmaster) - cpu_before;
  const auto calls_after = StatementCalls(**admin);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto commits_after = Scalar(
      **admin, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");

  // 2. Latency with idle workers: one execution at a time, each after the previous started.
  std::vector<std::int64_t> waits;
  for (int i = 0; i < 300; ++i) {
    Execution e = NewExecution(i % owners, executions + i);
    if (auto inserted = submitter->executions->Insert(e); !inserted) {
      fmt::print(stderr, "insert: {}\n", inserted.error().Describe());
      return 2;
    }
    for (;;) {
      auto got = submitter->executions->Get(e.id);
      if (got && got->started_at_ms) {
        waits.push_back(*got->started_at_ms - e.created_at_ms);
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  stop_workers();

  fmt::print("stand-in executor (waits {} ms, no CPU; runs happening on other machines)\n", run_ms);
  fmt::print("pools x slots          {} x {}\n", pools, slots);
  fmt::print("executions             {}\n", executions);
  fmt::print("executions/s           {:.0f}\n", executions / seconds);
  if (commits_before && commits_after) {
    fmt::print("transactions/execution {:.1f} (claim, heartbeats, finish; all of the database)\n",
               static_cast<double>(*commits_after - *commits_before) / executions);
  }
  if (calls_before && calls_after) {
    // Less the reads of the counter (BEGIN, SELECT, COMMIT; BEGIN).
    fmt::print("statements/execution   {:.2f} (pg_stat_statements, top level)\n",
               static_cast<double>(*calls_after - *calls_before - 4) / executions);
  }
  fmt::print(
      "postgres CPU/execution {:.0f} us ({:.2f} s over {:.2f} s; postmaster {} and children)\n",
      cpu / executions * 1e6, cpu, seconds, postmaster);
  fmt::print(
      "idle submit->claim     p50 {} ms, p99 {} ms (store clock, ms resolution; 300 "
      "one at a time)\n",
      Percentile(waits, 0.5), Percentile(waits, 0.99));
  if (auto dropped = (*admin)->Transact(
          TxMode::kWrite,
          [&](SqlConnection& c) { return c.ExecuteScript("DROP SCHEMA " + schema + " CASCADE"); });
      !dropped) {
    fmt::print(stderr, "schema {} is left behind: {}\n", schema, dropped.error().Describe());
  }
  return 0;
}

}  // namespace
}  // namespace integr8scode

int main(int argc, char** argv) { return integr8scode::Main(argc, argv); }
