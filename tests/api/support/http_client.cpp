#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

namespace integr8scode::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string HttpResult::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

std::vector<std::string> HttpResult::AllHeaders(std::string_view lower_name) const {
  std::vector<std::string> values;
  for (const auto& [name, value] : headers) {
    if (name == lower_name) values.push_back(value);
  }
  return values;
}

boost::json::value HttpResult::Json() const {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  return ec ? boost::json::value(nullptr) : value;
}

std::string HttpResult::Describe() const {
  if (status == 0) return "request failed: " + error;
  return "status " + std::to_string(status) + ": " + body.substr(0, 2000);
}

struct HttpClient::Connection {
  net::io_context io;
  net::ssl::context tls_context{net::ssl::context::tls_client};
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::uint16_t port, bool tls) : port_(port), tls_(tls) {}
HttpClient::~HttpClient() = default;

HttpResult HttpClient::Request(std::string_view method, std::string_view target,
                               std::string_view body, const Headers& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    HttpResult result;
    try {
      if (!connection_) {
        connection_ = std::make_unique<Connection>();
        connection_->tls_context.set_verify_mode(net::ssl::verify_none);
        const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port_);
        if (tls_) {
          connection_->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(
              connection_->io, connection_->tls_context);
          beast::get_lowest_layer(*connection_->secure).connect(endpoint);
          connection_->secure->handshake(net::ssl::stream_base::client);
        } else {
          connection_->plain = std::make_unique<beast::tcp_stream>(connection_->io);
          connection_->plain->connect(endpoint);
        }
        ++connections_;
      }
      http::request<http::string_body> request;
      request.method_string(std::string(method));
      request.target(std::string(target));
      request.version(11);
      request.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
      for (const auto& [name, value] : headers) request.set(name, value);
      request.body() = std::string(body);
      if (!body.empty() || method == "POST" || method == "PUT") request.prepare_payload();
      http::response_parser<http::string_body> parser;
      parser.body_limit(256ull << 20);
      if (method == "HEAD") parser.skip(true);
      if (tls_) {
        beast::get_lowest_layer(*connection_->secure).expires_after(std::chrono::seconds(120));
        http::write(*connection_->secure, request);
        http::read(*connection_->secure, connection_->buffer, parser);
      } else {
        connection_->plain->expires_after(std::chrono::seconds(120));
        http::write(*connection_->plain, request);
        http::read(*connection_->plain, connection_->buffer, parser);
      }
      auto response = parser.release();
      result.status = static_cast<int>(response.result_int());
      for (const auto& field : response) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        result.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      result.body = std::move(response.body());
      if (!response.keep_alive()) connection_.reset();
      return result;
    } catch (const std::exception& error) {
      const bool reused = connection_ != nullptr;
      connection_.reset();
      result.error = error.what();
      // A kept-alive connection the server closed meanwhile: one fresh try.
      if (attempt == 0 && reused &&
          (std::string_view(error.what()).find("end of stream") != std::string_view::npos ||
           std::string_view(error.what()).find("reset") != std::string_view::npos ||
           std::string_view(error.what()).find("Broken pipe") != std::string_view::npos)) {
        continue;
      }
      return result;
    }
  }
  return {};
}

HttpResult HttpClient::PostJson(std::string_view target, const boost::json::value& body,
                                const Headers& headers) {
  Headers all = headers;
  all.emplace_back("Content-Type", "application/json");
  return Request("POST", target, boost::json::serialize(body), all);
}

HttpResult HttpClient::PutJson(std::string_view target, const boost::json::value& body,
                               const Headers& headers) {
  Headers all = headers;
  all.emplace_back("Content-Type", "application/json");
  return Request("PUT", target, boost::json::serialize(body), all);
}

RawConnection::RawConnection(std::uint16_t port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (receive_buffer > 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
    closed_ = true;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void RawConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

std::string RawConnection::ReadSome(std::chrono::milliseconds timeout) {
  if (fd_ < 0 || closed_) return {};
  pollfd item{fd_, POLLIN, 0};
  if (::poll(&item, 1, static_cast<int>(timeout.count())) <= 0) return {};
  char buffer[65536];
  const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
  if (n <= 0) {
    closed_ = true;
    return {};
  }
  received_.append(buffer, static_cast<std::size_t>(n));
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::string RawConnection::ReadUntil(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.find(needle) == std::string::npos && !closed_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    ReadSome(left);
  }
  return received_;
}

}  // namespace integr8scode::testing
