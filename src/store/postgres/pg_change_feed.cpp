#include "store/postgres/pg_change_feed.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <utility>

#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "store/postgres/pg_connection.hpp"

namespace integr8scode {
namespace {

// Between reconnection attempts: short enough that a restarted PostgreSQL is heard
// from within a second or two, long enough not to hammer one that is down.
constexpr int kReconnectPauseMs = 500;

class PgChangeFeed final : public ChangeFeed {
 public:
  PgChangeFeed(std::string url, int connect_timeout_s, ChangeFeedCallbacks callbacks)
      : url_(std::move(url)),
        connect_timeout_s_(connect_timeout_s),
        callbacks_(std::move(callbacks)),
        stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    thread_ = std::thread([this] { Run(); });
  }

  ~PgChangeFeed() override {
    const std::uint64_t one = 1;
    // An eventfd write of 8 bytes cannot be short; it fails only on a bad descriptor.
    [[maybe_unused]] const ssize_t written = ::write(stop_.Get(), &one, sizeof one);
    stopping_.store(true);
    thread_.join();
  }

  bool Connected() const override { return connected_.load(); }

 private:
  // Waits for the connection's socket (or -1: none) or the stop signal; false on stop.
  bool Wait(int socket, int timeout_ms) {
    pollfd fds[2] = {{stop_.Get(), POLLIN, 0}, {socket, POLLIN, 0}};
    const int count = socket >= 0 ? 2 : 1;
    const int ready = ::poll(fds, static_cast<nfds_t>(count), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      Log(LogLevel::kError, "PostgreSQL listener: poll failed", {{"errno", errno}});
    }
    return !stopping_.load() && (fds[0].revents & POLLIN) == 0;
  }

  void Run() {
    bool logged_down = false;
    while (!stopping_.load()) {
      auto connection = PgConnection::Connect(url_, connect_timeout_s_);
      Status listening;
      if (connection) {
        listening = connection->ExecuteScript(fmt::format(
            "LISTEN {}; LISTEN {}; LISTEN {}", kWorkChannel, kCancelChannel, kEventsChannel));
      }
      if (!connection || !listening) {
        if (!logged_down) {
          Log(LogLevel::kWarn, "PostgreSQL listener cannot connect; retrying",
              {{"error", (!connection ? connection.error() : listening.error()).Describe()}});
          logged_down = true;
        }
        if (!Wait(-1, kReconnectPauseMs)) return;
        continue;
      }
      if (logged_down) Log(LogLevel::kInfo, "PostgreSQL listener connected again");
      logged_down = false;
      connected_.store(true);
      if (callbacks_.on_connected) callbacks_.on_connected();
      // LISTEN's own round trip may have brought notifications in already.
      do {
        auto received = connection->ConsumeNotifications();
        if (!received) {
          Log(LogLevel::kWarn, "PostgreSQL listener lost its connection",
              {{"error", received.error().Describe()}});
          logged_down = true;
          break;
        }
        for (const auto& notification : *received) {
          if (callbacks_.on_notify)
            callbacks_.on_notify(notification.channel, notification.payload);
        }
      } while (Wait(connection->Socket(), -1));
      connected_.store(false);
      if (stopping_.load()) return;
      if (!Wait(-1, kReconnectPauseMs)) return;
    }
  }

  const std::string url_;
  const int connect_timeout_s_;
  const ChangeFeedCallbacks callbacks_;
  UniqueFd stop_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<ChangeFeed> StartPgChangeFeed(std::string url, int connect_timeout_s,
                                              ChangeFeedCallbacks callbacks) {
  return std::make_unique<PgChangeFeed>(std::move(url), connect_timeout_s, std::move(callbacks));
}

}  // namespace integr8scode
