// The Kubernetes API client: Boost.Beast over TCP or TLS, driven synchronously by
// running its io_context in short slices, so that a call can be cancelled and a
// stream can be waited on with a timeout without closing it.
#include "k8s/api_client.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "common/cancel.hpp"
#include "common/log.hpp"
#include "common/try.hpp"

namespace integr8scode {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kSlice = std::chrono::milliseconds(20);
constexpr std::uint64_t kMaxResponseBytes = 64ull << 20;

struct Endpoint {
  bool tls = true;
  std::string host;
  std::string port;
};

Result<Endpoint> ParseApiUrl(std::string_view url) {
  Endpoint endpoint;
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    endpoint.tls = false;
    url.remove_prefix(7);
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("kubernetes.api_url '{}' must start with https://", url));
  }
  while (url.ends_with('/')) url.remove_suffix(1);
  if (url.find('/') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "kubernetes.api_url must not have a path");
  }
  if (url.starts_with('[')) {
    const std::size_t close = url.find(']');
    if (close == std::string_view::npos)
      return Fail(ErrorCode::kInvalidArgument, "kubernetes.api_url has an unclosed '['");
    endpoint.host = std::string(url.substr(1, close - 1));
    url.remove_prefix(close + 1);
    if (url.starts_with(':')) endpoint.port = std::string(url.substr(1));
  } else {
    const std::size_t colon = url.rfind(':');
    endpoint.host = std::string(url.substr(0, colon));
    if (colon != std::string_view::npos) endpoint.port = std::string(url.substr(colon + 1));
  }
  if (endpoint.port.empty()) endpoint.port = endpoint.tls ? "443" : "80";
  if (endpoint.host.empty())
    return Fail(ErrorCode::kInvalidArgument, "kubernetes.api_url has no host");
  if (!endpoint.tls && !IsLoopbackHost(endpoint.host)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("kubernetes.api_url: http:// is accepted only for a loopback "
                            "address (tests); use https:// for {}",
                            endpoint.host));
  }
  return endpoint;
}

// The bearer token, read again when its file changes.
class TokenSource {
 public:
  explicit TokenSource(std::filesystem::path path) : path_(std::move(path)) {}

  Result<std::string> Get(bool force) {
    if (path_.empty()) return std::string();
    std::lock_guard lock(mutex_);
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      const int saved = errno;
      return Fail(SystemError(saved, "read the service-account token " + path_.string()));
    }
    const auto stamp = std::make_pair(st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
                                      static_cast<long long>(st.st_ino));
    if (force || !loaded_ || stamp != stamp_) {
      std::ifstream in(path_);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        return Fail(ErrorCode::kUnavailable,
                    "cannot read the service-account token " + path_.string());
      }
      token_ = text.str();
      while (!token_.empty() &&
             (token_.back() == '\n' || token_.back() == '\r' || token_.back() == ' '))
        token_.pop_back();
      stamp_ = stamp;
      loaded_ = true;
    }
    return token_;
  }

 private:
  std::filesystem::path path_;
  std::mutex mutex_;
  bool loaded_ = false;
  std::pair<long long, long long> stamp_{0, 0};
  std::string token_;
};

Error Broken(std::string what, const beast::error_code& ec) {
  return MakeError(ErrorCode::kUnavailable, "transport", what + ": " + ec.message());
}

// One connection to the API server, plain or TLS, and the io_context that drives it.
class Connection {
 public:
  Connection(const Endpoint& endpoint, ssl::context* tls, std::atomic<std::uint64_t>& received)
      : endpoint_(endpoint), tls_(tls), received_(received) {}

  Status Connect(Clock::time_point deadline, const CancelToken* cancel) {
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    const auto results = resolver.resolve(endpoint_.host, endpoint_.port, ec);
    if (ec) return Fail(Broken("resolve " + endpoint_.host, ec));
    if (tls_ != nullptr) {
      secure_.emplace(ioc_, *tls_);
    } else {
      plain_.emplace(ioc_);
    }
    bool done = false;
    asio::async_connect(Lowest(), results, [&](beast::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    I8C_TRY(Wait(done, deadline, cancel));
    if (ec) return Fail(Broken("connect " + endpoint_.host + ":" + endpoint_.port, ec));
    if (secure_) {
      SSL* handle = secure_->native_handle();
      beast::error_code address_ec;
      asio::ip::make_address(endpoint_.host, address_ec);
      if (address_ec) {
        // SSL_set_tlsext_host_name, without the macro's C cast.
        SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(endpoint_.host.c_str()));
        SSL_set1_host(handle, endpoint_.host.c_str());
      } else {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), endpoint_.host.c_str());
      }
      done = false;
      secure_->async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
        ec = e;
        done = true;
      });
      I8C_TRY(Wait(done, deadline, cancel));
      if (ec) return Fail(Broken("TLS handshake with the API server", ec));
    }
    return {};
  }

  Status Write(http::request<http::string_body>& request, Clock::time_point deadline,
               const CancelToken* cancel) {
    bool done = false;
    beast::error_code ec;
    auto handler = [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    };
    if (secure_) {
      http::async_write(*secure_, request, handler);
    } else {
      http::async_write(*plain_, request, handler);
    }
    I8C_TRY(Wait(done, deadline, cancel));
    if (ec) return Fail(Broken("send", ec));
    return {};
  }

  // Reads the whole response.
  Result<http::response<http::string_body>> ReadResponse(Clock::time_point deadline,
                                                         const CancelToken* cancel) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    bool done = false;
    beast::error_code ec;
    auto handler = [&](beast::error_code e, std::size_t n) {
      ec = e;
      received_ += n;
      done = true;
    };
    if (secure_) {
      http::async_read(*secure_, buffer_, parser, handler);
    } else {
      http::async_read(*plain_, buffer_, parser, handler);
    }
    I8C_TRY(Wait(done, deadline, cancel));
    if (ec) return Fail(Broken("read the response", ec));
    return parser.release();
  }

  Status ReadHeader(Clock::time_point deadline, const CancelToken* cancel) {
    parser_.emplace();
    parser_->body_limit(boost::none);
    bool done = false;
    beast::error_code ec;
    auto handler = [&](beast::error_code e, std::size_t n) {
      ec = e;
      received_ += n;
      done = true;
    };
    if (secure_) {
      http::async_read_header(*secure_, buffer_, *parser_, handler);
    } else {
      http::async_read_header(*plain_, buffer_, *parser_, handler);
    }
    I8C_TRY(Wait(done, deadline, cancel));
    if (ec) return Fail(Broken("read the response header", ec));
    return {};
  }

  unsigned HeaderStatus() const { return parser_->get().result_int(); }

  Result<KubeStream::ReadState> ReadBody(std::chrono::milliseconds wait, std::string& out) {
    if (!parser_->get().body().empty() || parser_->is_done()) {
      out += std::move(parser_->get().body());
      parser_->get().body().clear();
      if (!out.empty()) return KubeStream::ReadState::kData;
      return KubeStream::ReadState::kEnd;
    }
    if (!pending_) {
      pending_ = true;
      read_done_ = false;
      auto handler = [this](beast::error_code e, std::size_t n) {
        read_ec_ = e;
        received_ += n;
        read_done_ = true;
      };
      if (secure_) {
        http::async_read_some(*secure_, buffer_, *parser_, handler);
      } else {
        http::async_read_some(*plain_, buffer_, *parser_, handler);
      }
    }
    const auto until = Clock::now() + wait;
    while (!read_done_ && Clock::now() < until) {
      ioc_.restart();
      ioc_.run_one_until(until);
    }
    if (!read_done_) return KubeStream::ReadState::kIdle;
    pending_ = false;
    out += std::move(parser_->get().body());
    parser_->get().body().clear();
    if (read_ec_ == http::error::end_of_stream || read_ec_ == asio::error::eof ||
        read_ec_ == ssl::error::stream_truncated) {
      return out.empty() ? KubeStream::ReadState::kEnd : KubeStream::ReadState::kData;
    }
    if (read_ec_) return Fail(Broken("read the stream", read_ec_));
    if (!out.empty()) return KubeStream::ReadState::kData;
    return parser_->is_done() ? KubeStream::ReadState::kEnd : KubeStream::ReadState::kIdle;
  }

 private:
  tcp::socket& Lowest() {
    return secure_ ? beast::get_lowest_layer(*secure_).socket()
                   : beast::get_lowest_layer(*plain_).socket();
  }

  void Close() {
    beast::error_code ignored;
    Lowest().close(ignored);
  }

  // Runs the io_context until the operation is done; on a deadline or cancellation,
  // closes the socket (which completes the operation with an error) and says why.
  Status Wait(bool& done, Clock::time_point deadline, const CancelToken* cancel) {
    while (!done) {
      ioc_.restart();
      ioc_.run_one_for(kSlice);
      if (done) break;
      const bool cancelled = cancel != nullptr && cancel->Cancelled();
      if (cancelled || Clock::now() >= deadline) {
        Close();
        ioc_.restart();
        while (!done && ioc_.run_one_for(kSlice) > 0) {
        }
        return Fail(MakeError(ErrorCode::kUnavailable, cancelled ? "cancelled" : "timeout",
                              cancelled ? "cancelled" : "the API server did not answer in time"));
      }
    }
    return {};
  }

  Endpoint endpoint_;
  ssl::context* tls_;
  std::atomic<std::uint64_t>& received_;
  asio::io_context ioc_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool pending_ = false;
  bool read_done_ = false;
  beast::error_code read_ec_;
};

class BeastStream final : public KubeStream {
 public:
  explicit BeastStream(std::unique_ptr<Connection> connection)
      : connection_(std::move(connection)) {}
  unsigned HttpStatus() const override { return connection_->HeaderStatus(); }
  Result<ReadState> Read(std::chrono::milliseconds wait, std::string& out) override {
    return connection_->ReadBody(wait, out);
  }

 private:
  std::unique_ptr<Connection> connection_;
};

bool Retryable(const KubeResponse& response) {
  if (response.status == 429 || response.status == 500 || response.status == 502 ||
      response.status == 503 || response.status == 504) {
    return true;
  }
  // 409 means two things: AlreadyExists on a create (an answer) and Conflict on a
  // write that raced another (worth trying again).
  return response.status == 409 && response.body.find("\"Conflict\"") != std::string::npos;
}

class BeastKubeClient final : public KubeClient {
 public:
  BeastKubeClient(KubeClientOptions options, Endpoint endpoint, std::unique_ptr<ssl::context> tls)
      : options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        tls_(std::move(tls)),
        token_(options_.token_file) {}

  Result<KubeResponse> Call(std::string_view verb, std::string_view target, std::string_view body,
                            const CancelToken* cancel) override {
    bool token_retried = false;
    Error last = MakeError(ErrorCode::kUnavailable, "no attempt");
    for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
      std::chrono::milliseconds retry_after{0};
      auto token = I8C_TRY_VALUE(token_.Get(false));
      auto answer = Once(verb, target, body, token, cancel);
      if (answer) {
        if (answer->response.status == 401 && !token_retried) {
          // The token may have rotated between our read and the server's check.
          token_retried = true;
          I8C_TRY(token_.Get(true));
          --attempt;
          continue;
        }
        if (!Retryable(answer->response) || attempt + 1 == options_.max_attempts)
          return std::move(answer->response);
        retry_after = answer->retry_after;
        last = MakeError(ErrorCode::kUnavailable,
                         fmt::format("HTTP {} from the API server", answer->response.status));
      } else {
        if (answer.error().reason == "cancelled") return Fail(answer.error());
        last = std::move(answer.error());
      }
      if (!Backoff(attempt, retry_after, cancel)) break;
    }
    return Fail(std::move(last).WithContext(fmt::format("{} {}", verb, target)));
  }

  Result<std::unique_ptr<KubeStream>> Open(std::string_view target,
                                           const CancelToken* cancel) override {
    Error last = MakeError(ErrorCode::kUnavailable, "no attempt");
    bool token_retried = false;
    for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
      auto token = I8C_TRY_VALUE(token_.Get(false));
      const auto deadline = Clock::now() + options_.request_timeout;
      auto connection = std::make_unique<Connection>(endpoint_, tls_.get(), received_);
      auto request = MakeRequest("GET", target, "", token);
      Status sent = connection->Connect(deadline, cancel);
      if (sent) sent = connection->Write(request, deadline, cancel);
      if (sent) sent = connection->ReadHeader(deadline, cancel);
      if (sent) {
        const unsigned status = connection->HeaderStatus();
        if (status == 401 && !token_retried) {
          token_retried = true;
          I8C_TRY(token_.Get(true));
          --attempt;
          continue;
        }
        const bool retry = status == 429 || status >= 500;
        if (!retry || attempt + 1 == options_.max_attempts)
          return std::unique_ptr<KubeStream>(std::make_unique<BeastStream>(std::move(connection)));
        last =
            MakeError(ErrorCode::kUnavailable, fmt::format("HTTP {} from the API server", status));
      } else {
        if (sent.error().reason == "cancelled") return Fail(sent.error());
        last = std::move(sent.error());
      }
      if (!Backoff(attempt, std::chrono::milliseconds(0), cancel)) break;
    }
    return Fail(std::move(last).WithContext(fmt::format("GET {}", target)));
  }

  KubeTraffic Traffic() const override {
    return {requests_.load(), sent_.load(), received_.load()};
  }

 private:
  struct Answer {
    KubeResponse response;
    std::chrono::milliseconds retry_after{0};
  };

  http::request<http::string_body> MakeRequest(std::string_view verb, std::string_view target,
                                               std::string_view body, const std::string& token) {
    http::request<http::string_body> request(http::string_to_verb(verb), target, 11);
    request.set(http::field::host, endpoint_.host);
    request.set(http::field::user_agent, "integr8scode");
    request.set(http::field::accept, "application/json");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    if (!body.empty() || verb == "POST" || verb == "PUT" || verb == "PATCH") {
      request.set(http::field::content_type, "application/json");
      request.body() = std::string(body);
    }
    request.keep_alive(false);
    request.prepare_payload();
    std::ostringstream header;
    header << request.base();
    requests_ += 1;
    sent_ += header.str().size() + request.body().size();
    return request;
  }

  Result<Answer> Once(std::string_view verb, std::string_view target, std::string_view body,
                      const std::string& token, const CancelToken* cancel) {
    const auto deadline = Clock::now() + options_.request_timeout;
    Connection connection(endpoint_, tls_.get(), received_);
    auto request = MakeRequest(verb, target, body, token);
    I8C_TRY(connection.Connect(deadline, cancel));
    I8C_TRY(connection.Write(request, deadline, cancel));
    auto response = I8C_TRY_VALUE(connection.ReadResponse(deadline, cancel));
    Answer answer;
    answer.response.status = response.result_int();
    answer.response.body = std::move(response.body());
    const auto retry_after = response[http::field::retry_after];
    if (!retry_after.empty()) {
      int seconds = 0;
      const auto [end, ec] =
          std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
      if (ec == std::errc() && seconds > 0) {
        answer.retry_after = std::chrono::milliseconds(std::min(seconds, 5) * 1000);
      }
    }
    return answer;
  }

  // Waits before the next attempt; false when cancelled.
  bool Backoff(int attempt, std::chrono::milliseconds retry_after, const CancelToken* cancel) {
    auto wait = options_.first_backoff * (1 << std::min(attempt, 5));
    wait = std::min(wait, std::chrono::milliseconds(2000));
    {
      std::lock_guard lock(random_mutex_);
      wait += std::chrono::milliseconds(
          std::uniform_int_distribution<int>(0, static_cast<int>(wait.count() / 4))(random_));
    }
    wait = std::max(wait, retry_after);
    const auto until = Clock::now() + wait;
    while (Clock::now() < until) {
      if (cancel != nullptr && cancel->Cancelled()) return false;
      std::this_thread::sleep_for(kSlice);
    }
    return true;
  }

  KubeClientOptions options_;
  Endpoint endpoint_;
  std::unique_ptr<ssl::context> tls_;
  TokenSource token_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> received_{0};
  std::mutex random_mutex_;
  std::minstd_rand random_{std::random_device{}()};
};

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  beast::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

Result<std::unique_ptr<KubeClient>> KubeClient::Create(KubeClientOptions options) {
  auto endpoint = I8C_TRY_VALUE(ParseApiUrl(options.api_url));
  std::unique_ptr<ssl::context> tls;
  if (endpoint.tls) {
    tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    tls->set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (options.ca_file.empty()) {
      tls->set_default_verify_paths(ec);
    } else {
      tls->load_verify_file(options.ca_file.string(), ec);
    }
    if (ec) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("kubernetes.ca_file '{}': {}",
                                                           options.ca_file.string(), ec.message()));
    }
    tls->set_verify_mode(ssl::verify_peer);
  }
  return std::unique_ptr<KubeClient>(
      std::make_unique<BeastKubeClient>(std::move(options), std::move(endpoint), std::move(tls)));
}

}  // namespace integr8scode
