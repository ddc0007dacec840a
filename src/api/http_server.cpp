#include "api/http_server.hpp"

#include <fmt/format.h>

#include <random>
#include <thread>
#include <vector>

#include "api/http_server_state.hpp"
#include "common/log.hpp"
#include "common/try.hpp"

namespace integr8scode {
namespace {

using namespace http_detail;

class AsioTimer final : public TimerHandle {
 public:
  AsioTimer(std::shared_ptr<ServerState> state, std::shared_ptr<net::steady_timer> timer)
      : state_(std::move(state)), timer_(std::move(timer)) {}
  ~AsioTimer() override { Cancel(); }
  void Cancel() override {
    if (!timer_) return;
    state_->Post(timer_->get_executor(), [timer = timer_] { timer->cancel(); });
    timer_.reset();
  }

 private:
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<net::steady_timer> timer_;
};

class AsioHttpServer final : public HttpServer {
 public:
  AsioHttpServer(std::shared_ptr<ServerState> state)
      : state_(std::move(state)), acceptor_(net::make_strand(io_)) {}

  ~AsioHttpServer() override { Stop(Clock::now()); }

  Status Listen() {
    boost::system::error_code ec;
    const auto address = net::ip::make_address(state_->options.host, ec);
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("'{}' is not an IP address to listen on", state_->options.host));
    }
    const tcp::endpoint endpoint(address, state_->options.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Fail(MakeError(ErrorCode::kUnavailable,
                            fmt::format("cannot listen on {}:{}: {}", state_->options.host,
                                        state_->options.port, ec.message())));
    }
    port_ = acceptor_.local_endpoint().port();
    return {};
  }

  void Run() override {
    Accept();
    const std::size_t count = std::max<std::size_t>(1, state_->options.io_threads);
    for (std::size_t i = 0; i < count; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  std::uint16_t Port() const override { return port_; }

  void StopAccepting() override {
    if (state_->stopping.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    for (const auto& session : Sessions()) session->Stop();
  }

  void Stop(Clock::time_point deadline) override {
    std::lock_guard stop_lock(stop_mutex_);
    if (stopped_) return;
    StopAccepting();
    {
      std::unique_lock lock(state_->mutex);
      state_->changed.wait_until(lock, deadline, [&] { return state_->in_flight == 0; });
    }
    for (const auto& session : Sessions()) session->ForceClose();
    {
      // Give closing connections a moment to send their TLS close_notify.
      std::unique_lock lock(state_->mutex);
      state_->changed.wait_for(lock, std::chrono::seconds(2),
                               [&] { return state_->sessions.empty(); });
    }
    state_->CloseGate();
    work_.reset();
    io_.stop();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    threads_.clear();
    std::unordered_map<std::uint64_t, std::shared_ptr<SessionBase>> leftover;
    {
      std::lock_guard lock(state_->mutex);
      leftover.swap(state_->sessions);
    }
    leftover.clear();
    stopped_ = true;
  }

  std::size_t InFlight() const override {
    std::lock_guard lock(state_->mutex);
    return state_->in_flight;
  }

  std::unique_ptr<TimerHandle> After(std::chrono::milliseconds delay,
                                     std::function<void()> callback) override {
    auto timer = std::make_shared<net::steady_timer>(net::make_strand(io_));
    timer->expires_after(delay);
    timer->async_wait([timer, callback = std::move(callback)](boost::system::error_code ec) {
      if (!ec) callback();
    });
    return std::make_unique<AsioTimer>(state_, std::move(timer));
  }

  void SetTls(std::unique_ptr<ssl::context> tls) { state_->tls = std::move(tls); }

 private:
  std::vector<std::shared_ptr<SessionBase>> Sessions() {
    std::lock_guard lock(state_->mutex);
    std::vector<std::shared_ptr<SessionBase>> out;
    out.reserve(state_->sessions.size());
    for (const auto& [id, session] : state_->sessions) out.push_back(session);
    return out;
  }

  void Accept() {
    acceptor_.async_accept(
        net::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
          if (state_->stopping.load()) return;
          if (ec) {
            if (ec == net::error::operation_aborted) return;
            // Out of file descriptors and the like: log once, wait a little, go on.
            Log(LogLevel::kWarn, "accept failed", {{"error", ec.message()}});
            auto pause = std::make_shared<net::steady_timer>(acceptor_.get_executor(),
                                                             std::chrono::milliseconds(100));
            pause->async_wait([this, pause](boost::system::error_code) { Accept(); });
            return;
          }
          OnAccepted(std::move(socket));
          Accept();
        });
  }

  void OnAccepted(tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    std::string peer = remote.address().to_string();
    if (remote.address().is_v6() && remote.address().to_v6().is_v4_mapped()) {
      peer = net::ip::make_address_v4(net::ip::v4_mapped, remote.address().to_v6()).to_string();
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::uint64_t id = 0;
    {
      std::lock_guard lock(state_->mutex);
      if (state_->sessions.size() >= state_->options.max_connections) {
        socket.close(ec);
        return;
      }
      id = ++state_->next_session;
    }
    const SessionRegistrar registrar = [this, id](std::shared_ptr<SessionBase> made) {
      Register(id, std::move(made));
    };
    if (state_->tls) {
      StartTlsSession(state_, id, std::move(peer), std::move(socket), registrar);
    } else {
      StartPlainSession(state_, id, std::move(peer), std::move(socket), registrar);
    }
  }

  void Register(std::uint64_t id, std::shared_ptr<SessionBase> session) {
    std::lock_guard lock(state_->mutex);
    state_->sessions.emplace(id, std::move(session));
  }

  std::shared_ptr<ServerState> state_;
  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{io_.get_executor()};
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

}  // namespace

Exchange::Exchange(HttpRequest request, std::string request_id, Responder responder)
    : request_(std::move(request)),
      request_id_(std::move(request_id)),
      received_(Clock::now()),
      responder_(std::move(responder)) {}

void Exchange::Respond(HttpResponse response) {
  if (responded_.exchange(true, std::memory_order_acq_rel)) return;
  if (responder_) responder_(std::move(response));
}

std::string RequestIdFor(std::string_view client_value) {
  const bool valid = !client_value.empty() && client_value.size() <= 128 &&
                     std::all_of(client_value.begin(), client_value.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                              c == ':' || c == '-';
                     });
  if (valid) return std::string(client_value);
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

Result<std::unique_ptr<HttpServer>> HttpServer::Bind(HttpServerOptions options,
                                                     HttpCallbacks callbacks) {
  auto state = std::make_shared<ServerState>();
  state->options = std::move(options);
  state->callbacks = std::move(callbacks);
  if (!state->options.tls_cert.empty()) {
    auto tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    boost::system::error_code ec;
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                     ec);
    if (!ec) tls->use_certificate_chain_file(state->options.tls_cert.string(), ec);
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot use TLS certificate {}: {}", state->options.tls_cert.string(),
                              ec.message()));
    }
    tls->use_private_key_file(state->options.tls_key.string(), ssl::context::pem, ec);
    if (ec) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("cannot use TLS key {}: {}", state->options.tls_key.string(), ec.message()));
    }
    state->tls = std::move(tls);
  }
  auto server = std::make_unique<AsioHttpServer>(std::move(state));
  I8C_TRY(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace integr8scode
