#pragma once

// Internal to the HTTP server: one connection over plain TCP or TLS with the same code
// (a template over the stream type). Includes Boost.Beast: only http_session_plain.cpp
// and http_session_tls.cpp include it.

#include <fmt/format.h>

#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "api/http_framing.hpp"
#include "api/http_server_state.hpp"
#include "api/problem.hpp"

namespace integr8scode::http_detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;

constexpr std::size_t kHeaderLimit = 16 * 1024;

// The parser's own refusals, said precisely: these are the ones a smuggling attempt
// trips over, and a client deserves to know which rule it broke.
inline std::string_view ParseErrorDetail(beast::error_code ec) {
  if (ec == http::error::bad_transfer_encoding)
    return "The Transfer-Encoding header is repeated, follows a Content-Length, or is not "
           "understood; send only 'Transfer-Encoding: chunked' or only Content-Length.";
  if (ec == http::error::bad_content_length)
    return "The Content-Length header is not a number, or comes with Transfer-Encoding.";
  if (ec == http::error::multiple_content_length)
    return "The request has several Content-Length values that differ; send one.";
  if (ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension)
    return "The chunked request body is malformed.";
  if (ec == http::error::bad_obs_fold)
    return "A folded header line (obs-fold) is too long; send each header on one line.";
  return "The HTTP request is malformed.";
}

inline std::string ReasonPhrase(int status) {
  const auto reason = http::obsolete_reason(static_cast<http::status>(status));
  return reason.empty() ? std::string("Unknown") : std::string(reason);
}

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, beast::tcp_stream>;

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(std::shared_ptr<ServerState> state, std::uint64_t id, std::string peer, Args&&... args)
      : state_(std::move(state)),
        id_(id),
        peer_(std::move(peer)),
        stream_(std::forward<Args>(args)...),
        keepalive_timer_(stream_.get_executor()),
        write_timer_(stream_.get_executor()) {}

  ~Session() override {
    if (body_) body_->Close();
  }

  void Run() {
    if (state_->callbacks.on_connection_opened) state_->callbacks.on_connection_opened();
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Begin(); });
  }

  void Stop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stop_requested_ = true;
      if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kReading) self->Close();
    });
  }

  void ForceClose() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kStreaming, kClosed };

  auto& Lowest() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    if constexpr (kIsTls<Stream>) {
      Lowest().expires_after(state_->options.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->WaitForRequest();
                              });
    } else {
      WaitForRequest();
    }
  }

  // Waits for the first byte of the next request under the idle timeout, so that a
  // kept-alive connection may sit quietly, while the header timeout only starts once
  // the client begins to send.
  void WaitForRequest() {
    if (stop_requested_ || state_->stopping.load()) return Close();
    phase_ = Phase::kIdle;
    if (buffer_.size() > 0) return ReadHeader();
    Lowest().expires_after(first_request_ ? state_->options.header_timeout
                                          : state_->options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    first_request_ = false;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(state_->options.max_body_bytes);
    Lowest().expires_after(state_->options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec == http::error::header_limit) {
      return Refuse(MakeError(
          ErrorCode::kInvalidArgument, "bad_request",
          fmt::format("The request headers are larger than {} KiB.", kHeaderLimit / 1024)));
    }
    if (ec == http::error::body_limit) {
      // Beast checks a declared Content-Length against the cap with the headers:
      // refused before reading the body, so the client learns at once and no memory is spent.
      // (The parser counts the header as unfinished here: read the field itself.)
      const std::string declared(parser_->get()[http::field::content_length]);
      return Refuse(MakeError(
          ErrorCode::kTooLarge,
          fmt::format("The request body is {} bytes; the limit is {} bytes.",
                      declared.empty() ? "too many" : declared, state_->options.max_body_bytes)));
    }
    if (ec) {
      // A client that left or timed out gets no answer; one that sent garbage gets a 400.
      const bool gone =
          ec == http::error::end_of_stream || ec == http::error::partial_message ||
          ec == http::error::short_read ||
          ec.category() != http::make_error_code(http::error::header_limit).category();
      if (gone) return Close();
      return Refuse(
          MakeError(ErrorCode::kInvalidArgument, "bad_request", std::string(ParseErrorDetail(ec))));
    }
    // The header as it stands now: Beast merges a chunked body's trailer fields into the
    // same field list, and a trailer must not pass for a header (RFC 9110 §6.5.1) —
    // an Authorization or Content-Type after the body would skip the checks made here.
    head_fields_.clear();
    for (const auto& field : parser_->get()) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      head_fields_.emplace_back(std::move(name), std::string(field.value()));
    }
    if (auto problem = FramingProblem(parser_->get().version(), head_fields_)) {
      return Refuse(MakeError(ErrorCode::kInvalidArgument, "bad_request", std::move(*problem)));
    }
    if (const auto length = parser_->content_length();
        length && *length > state_->options.max_body_bytes) {
      return Refuse(MakeError(ErrorCode::kTooLarge,
                              fmt::format("The request body is {} bytes; the limit is {} bytes.",
                                          *length, state_->options.max_body_bytes)));
    }
    const auto& header = parser_->get();
    if (beast::iequals(header[http::field::expect], "100-continue") && !parser_->is_done()) {
      scratch_ = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(scratch_),
                       [self = this->shared_from_this()](beast::error_code write_ec, std::size_t) {
                         if (write_ec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    Lowest().expires_after(state_->options.body_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec == http::error::body_limit) {
            return self->Refuse(MakeError(ErrorCode::kTooLarge,
                                          fmt::format("The request body is larger than {} bytes.",
                                                      self->state_->options.max_body_bytes)));
          }
          if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
              ec == net::error::operation_aborted || ec == net::error::eof ||
              ec == net::error::connection_reset) {
            return self->Close();
          }
          if (ec) {
            return self->Refuse(MakeError(ErrorCode::kInvalidArgument, "bad_request",
                                          "The HTTP request body is malformed."));
          }
          self->Dispatch();
        });
  }

  HttpRequest TakeRequest() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const std::size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    request.headers = std::move(head_fields_);
    head_fields_.clear();
    request.body = std::move(message.body());
    request.peer_address = peer_;
    request.tls = kIsTls<Stream>;
    keep_alive_ = message.keep_alive();
    return request;
  }

  Exchange::Responder MakeResponder() {
    return [weak = this->weak_from_this()](HttpResponse response) {
      auto self = weak.lock();
      if (!self) return;  // the connection is gone; nobody to answer
      auto state = self->state_;
      auto executor = self->stream_.get_executor();
      state->Post(executor, [self = std::move(self), response = std::move(response)]() mutable {
        self->WriteResponse(std::move(response));
      });
    };
  }

  void Dispatch() {
    phase_ = Phase::kHandling;
    Lowest().expires_never();
    HttpRequest request = TakeRequest();
    head_ = request.method == "HEAD";
    if (request.path.empty() || request.path.front() != '/') {
      return Refuse(MakeError(ErrorCode::kInvalidArgument, "bad_request",
                              "The request target must be a path starting with '/'."));
    }
    std::string id = RequestIdFor(request.Header("x-request-id"));
    exchange_ = std::make_shared<Exchange>(std::move(request), std::move(id), MakeResponder());
    counted_ = true;
    state_->AddInFlight();
    state_->callbacks.on_request(exchange_);
  }

  // Answers a request the server refuses by itself, then closes: the rest of what
  // the client sent cannot be trusted to be at a message boundary.
  void Refuse(const Error& error) {
    HttpRequest request;
    std::string client_id;
    if (parser_) {
      const auto& header = parser_->get();
      request.method = std::string(header.method_string());
      request.target = std::string(header.target());
      client_id = std::string(header["X-Request-Id"]);
    }
    request.path = request.target.substr(0, request.target.find('?'));
    request.peer_address = peer_;
    parser_.reset();
    buffer_.clear();
    const std::string id = RequestIdFor(client_id);
    exchange_ = std::make_shared<Exchange>(std::move(request), id, nullptr);
    phase_ = Phase::kHandling;
    refused_ = true;
    HttpResponse response = ProblemResponse(error, id);
    response.close = true;
    WriteResponse(std::move(response));
  }

  void Uncount() {
    if (counted_) {
      counted_ = false;
      state_->RemoveInFlight();
    }
  }

  void Answered(int status) {
    if (answered_ || !exchange_) return;
    answered_ = true;
    if (state_->callbacks.on_answered) {
      state_->callbacks.on_answered(*exchange_, status, Clock::now() - exchange_->Received());
    }
  }

  template <class Message>
  void FillHeaders(Message& message, const HttpResponse& response) {
    for (const auto& [name, value] : response.headers) message.insert(name, value);
    for (const auto& [name, value] : state_->options.default_headers) {
      if (response.Header(name).empty()) message.insert(name, value);
    }
    message.set("X-Request-Id", exchange_->RequestId());
  }

  void WriteResponse(HttpResponse response) {
    if (phase_ != Phase::kHandling) return;
    status_ = response.status;
    if (response.stream) return StartStream(std::move(response));
    phase_ = Phase::kWriting;
    // Observed before the write: a client that has the answer may ask /metrics next, on
    // another connection, and must find its request counted.
    Answered(status_);
    const bool keep_alive =
        keep_alive_ && !response.close && !stop_requested_ && !state_->stopping.load();
    Lowest().expires_after(state_->options.idle_timeout);
    if (head_) {
      auto message = std::make_shared<http::response<http::empty_body>>(
          static_cast<http::status>(response.status), 11);
      FillHeaders(*message, response);
      message->content_length(response.body.size());
      message->keep_alive(keep_alive);
      http::async_write(
          stream_, *message,
          [self = this->shared_from_this(), message, keep_alive](
              beast::error_code ec, std::size_t) { self->OnWritten(ec, keep_alive); });
      return;
    }
    auto message = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), 11);
    FillHeaders(*message, response);
    // Beast refuses a body on 204 and 304 (RFC 9110 §6.4.1).
    if (response.status == 204 || response.status == 304 || response.status < 200)
      response.body.clear();
    message->body() = std::move(response.body);
    message->prepare_payload();
    message->keep_alive(keep_alive);
    http::async_write(stream_, *message,
                      [self = this->shared_from_this(), message, keep_alive](
                          beast::error_code ec, std::size_t) { self->OnWritten(ec, keep_alive); });
  }

  void OnWritten(beast::error_code ec, bool keep_alive) {
    Uncount();
    exchange_.reset();
    answered_ = false;
    if (ec || !keep_alive) return refused_ && !ec ? Linger() : Close();
    WaitForRequest();
  }

  // After refusing a request whose body is still arriving: closing at once would make
  // the kernel answer the unread bytes with a reset, which can destroy our answer
  // before the client reads it. Stop sending, discard what comes for a moment, close.
  void Linger() {
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(std::chrono::seconds(2));
    Drain();
  }

  void Drain() {
    Lowest().async_read_some(net::buffer(discard_),
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec || self->phase_ == Phase::kClosed) return self->Close();
                               self->Drain();
                             });
  }

  // Streaming answers: hand-written chunked framing, so that each piece the producer
  // gives is on the wire as soon as it is written.
  void StartStream(HttpResponse response) {
    phase_ = Phase::kStreaming;
    body_ = std::move(response.stream);
    keepalive_ = std::move(response.keepalive);
    keepalive_interval_ = response.keepalive_interval;
    std::string header =
        fmt::format("HTTP/1.1 {} {}\r\n", response.status, ReasonPhrase(response.status));
    for (const auto& [name, value] : response.headers)
      header += fmt::format("{}: {}\r\n", name, value);
    for (const auto& [name, value] : state_->options.default_headers) {
      if (response.Header(name).empty()) header += fmt::format("{}: {}\r\n", name, value);
    }
    header +=
        fmt::format("X-Request-Id: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                    exchange_->RequestId());
    if (head_) {
      chunk_ = std::move(header);
      return WriteRaw(true);
    }
    chunk_ = std::move(header);
    stream_writing_ = true;
    ArmWriteTimer();
    net::async_write(stream_, net::buffer(chunk_),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->stream_writing_ = false;
                       self->write_timer_.cancel();
                       self->Uncount();
                       if (ec) return self->Close();
                       self->Lowest().expires_never();
                       self->WatchClient();
                       self->PullNext();
                     });
  }

  // A streaming client sends nothing more; any completion (EOF, reset) means it left.
  void WatchClient() {
    stream_.async_read_some(
        net::buffer(discard_),
        [self = this->shared_from_this()](beast::error_code, std::size_t) { self->Close(); });
  }

  void PullNext() {
    if (phase_ != Phase::kStreaming) return;
    stream_waiting_ = true;
    ArmKeepalive();
    body_->Next([weak = this->weak_from_this()](std::string data, bool done) {
      auto self = weak.lock();
      if (!self) return;
      auto state = self->state_;
      auto executor = self->stream_.get_executor();
      state->Post(executor, [self = std::move(self), data = std::move(data), done]() mutable {
        self->OnStreamData(std::move(data), done);
      });
    });
  }

  void OnStreamData(std::string data, bool done) {
    if (phase_ != Phase::kStreaming) return;
    if (stream_writing_) {
      pending_.emplace(std::move(data), done);
      return;
    }
    stream_waiting_ = false;
    keepalive_timer_.cancel();
    if (data.empty() && !done) return PullNext();
    WriteChunk(data, done);
  }

  void ArmKeepalive() {
    if (keepalive_interval_.count() <= 0 || keepalive_.empty()) return;
    keepalive_timer_.expires_after(keepalive_interval_);
    keepalive_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->phase_ != Phase::kStreaming || !self->stream_waiting_ ||
          self->stream_writing_)
        return;
      self->WriteChunk(self->keepalive_, false);
    });
  }

  void ArmWriteTimer() {
    // A client that stops reading would hold the connection forever: give each write
    // the idle timeout.
    // A generation number, because a timer that fired just as the write completed is
    // already queued and cannot be cancelled any more.
    const std::uint64_t generation = ++write_generation_;
    write_timer_.expires_after(state_->options.idle_timeout);
    write_timer_.async_wait([self = this->shared_from_this(), generation](beast::error_code ec) {
      if (!ec && generation == self->write_generation_ && self->stream_writing_) self->Close();
    });
  }

  void WriteChunk(std::string_view data, bool last) {
    chunk_.clear();
    if (!data.empty()) chunk_ = fmt::format("{:x}\r\n{}\r\n", data.size(), data);
    if (last) {
      chunk_ += "0\r\n\r\n";
      Answered(status_);  // before the client can see the end, as in WriteResponse
    }
    WriteRaw(last);
  }

  void WriteRaw(bool last) {
    stream_writing_ = true;
    ArmWriteTimer();
    net::async_write(stream_, net::buffer(chunk_),
                     [self = this->shared_from_this(), last](beast::error_code ec, std::size_t) {
                       self->OnChunkWritten(ec, last);
                     });
  }

  void OnChunkWritten(beast::error_code ec, bool last) {
    stream_writing_ = false;
    write_timer_.cancel();
    Uncount();
    if (ec || last) return Close();
    if (pending_) {
      auto [data, done] = std::move(*pending_);
      pending_.reset();
      return OnStreamData(std::move(data), done);
    }
    if (stream_waiting_) return ArmKeepalive();  // that was a keep-alive comment
    PullNext();
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    const bool was_streaming = phase_ == Phase::kStreaming;
    phase_ = Phase::kClosed;
    keepalive_timer_.cancel();
    write_timer_.cancel();
    if (body_) body_->Close();
    if (was_streaming) Answered(status_);
    Uncount();
    // No TLS close_notify: the answers are framed (Content-Length or chunked), and a
    // peer that vanished must not hold the connection open.
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().socket().close(ignored);
    Finish();
  }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    if (state_->callbacks.on_connection_closed) state_->callbacks.on_connection_closed();
    state_->Forget(id_);
  }

  std::shared_ptr<ServerState> state_;
  std::uint64_t id_;
  std::string peer_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::vector<std::pair<std::string, std::string>> head_fields_;
  Phase phase_ = Phase::kIdle;
  bool first_request_ = true;
  bool stop_requested_ = false;
  bool keep_alive_ = true;
  bool head_ = false;
  bool counted_ = false;
  bool answered_ = false;
  bool finished_ = false;
  bool refused_ = false;
  int status_ = 0;
  std::shared_ptr<Exchange> exchange_;
  std::string scratch_;

  // Streaming state.
  std::shared_ptr<StreamBody> body_;
  std::string keepalive_;
  std::chrono::milliseconds keepalive_interval_{0};
  std::string chunk_;
  bool stream_waiting_ = false;
  bool stream_writing_ = false;
  std::uint64_t write_generation_ = 0;
  std::optional<std::pair<std::string, bool>> pending_;
  net::steady_timer keepalive_timer_;
  net::steady_timer write_timer_;
  std::array<char, 256> discard_{};
};

}  // namespace integr8scode::http_detail
