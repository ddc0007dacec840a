#pragma once

// Internal to the HTTP server: the state its connections share with it, and the
// factories of the two connection kinds. Boost.Asio, not Boost.Beast: the Beast-heavy
// session template (http_session.hpp) is compiled once per stream type, in
// http_session_plain.cpp and http_session_tls.cpp, which build in parallel.

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "api/http_server.hpp"

namespace integr8scode::http_detail {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Graceful: close now if no request is being handled, else after its answer.
  virtual void Stop() = 0;
  virtual void ForceClose() = 0;
};

// What the sessions share with the server; kept alive by every session.
struct ServerState {
  HttpServerOptions options;
  HttpCallbacks callbacks;
  std::unique_ptr<ssl::context> tls;

  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t in_flight = 0;
  std::uint64_t next_session = 0;
  // The server owns the sessions: an answer arriving from a handler thread finds its
  // session through a weak pointer, and Stop() can reach every connection.
  std::unordered_map<std::uint64_t, std::shared_ptr<SessionBase>> sessions;

  void AddInFlight() {
    std::lock_guard lock(mutex);
    ++in_flight;
  }
  void RemoveInFlight() {
    std::lock_guard lock(mutex);
    --in_flight;
    changed.notify_all();
  }
  // Work posted from other threads (handler answers, stream data, timer cancels) goes
  // through the gate, which closes before the I/O context is destroyed: a late answer
  // is then dropped instead of touching a dead context.
  template <class Executor, class Function>
  void Post(const Executor& executor, Function&& function) {
    std::lock_guard lock(gate_mutex);
    if (gate_open) net::post(executor, std::forward<Function>(function));
  }
  void CloseGate() {
    std::lock_guard lock(gate_mutex);
    gate_open = false;
  }
  std::mutex gate_mutex;
  bool gate_open = true;

  void Forget(std::uint64_t id) {
    std::shared_ptr<SessionBase> last;  // destroyed outside the lock
    std::lock_guard lock(mutex);
    if (auto it = sessions.find(id); it != sessions.end()) {
      last = std::move(it->second);
      sessions.erase(it);
    }
    changed.notify_all();
  }
};

using SessionRegistrar = std::function<void(std::shared_ptr<SessionBase>)>;

// Make a connection's session, hand it to `registrar` (the server keeps every session),
// then start it. The TLS one performs the handshake first.
void StartPlainSession(std::shared_ptr<ServerState> state, std::uint64_t id, std::string peer,
                       tcp::socket socket, const SessionRegistrar& registrar);
void StartTlsSession(std::shared_ptr<ServerState> state, std::uint64_t id, std::string peer,
                     tcp::socket socket, const SessionRegistrar& registrar);

}  // namespace integr8scode::http_detail
