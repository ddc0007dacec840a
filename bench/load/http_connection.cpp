#include "load/http_connection.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace integr8scode {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kTupleAwaitable = asio::as_tuple(asio::use_awaitable);
// The largest answer read: an execution object carries at most 1 MiB of stdout and of
// stderr each, escaped as JSON.
constexpr std::uint64_t kMaxReplyBytes = 16ull << 20;

Error TransportError(std::string_view phase, const boost::system::error_code& ec) {
  const bool timed_out = ec == beast::error::timeout;
  Error error = MakeError(ErrorCode::kUnavailable, std::string(timed_out ? "timeout" : phase),
                          fmt::format("{}: {}", phase, ec.message()));
  return error;
}

}  // namespace

struct HttpConnection::Impl {
  Impl(asio::any_io_executor executor, const LoopbackEndpoint& where)
      : stream(std::move(executor)),
        endpoint(asio::ip::make_address(where.address), where.port),
        host_header(where.host_header) {}

  void Close() {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    open = false;
  }

  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  tcp::endpoint endpoint;
  std::string host_header;
  bool open = false;
  std::uint64_t connects = 0;
};

HttpConnection::HttpConnection(asio::any_io_executor executor, const LoopbackEndpoint& endpoint)
    : impl_(std::make_unique<Impl>(std::move(executor), endpoint)) {}

HttpConnection::~HttpConnection() = default;

std::uint64_t HttpConnection::Connects() const { return impl_->connects; }

asio::awaitable<Result<HttpReply>> HttpConnection::Send(HttpMethod method, std::string target,
                                                        std::string body,
                                                        std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  impl.stream.expires_after(timeout);
  if (!impl.open) {
    auto [ec] = co_await impl.stream.async_connect(impl.endpoint, kTupleAwaitable);
    if (ec) {
      impl.Close();
      co_return Fail(TransportError("connect", ec));
    }
    // Small requests answered at once: Nagle's delay would be measured as latency.
    impl.stream.socket().set_option(tcp::no_delay(true), ec);
    impl.open = true;
    ++impl.connects;
  }

  http::request<http::string_body> request(
      method == HttpMethod::kGet ? http::verb::get : http::verb::post, target, 11);
  request.set(http::field::host, impl.host_header);
  request.set(http::field::user_agent, "integr8scode-load");
  request.set(http::field::accept, "application/json");
  if (!body.empty()) request.set(http::field::content_type, "application/json");
  request.keep_alive(true);
  request.body() = std::move(body);
  request.prepare_payload();

  auto [write_ec, written] = co_await http::async_write(impl.stream, request, kTupleAwaitable);
  (void)written;
  if (write_ec) {
    impl.Close();
    co_return Fail(TransportError("write", write_ec));
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  auto [read_ec, read] =
      co_await http::async_read(impl.stream, impl.buffer, parser, kTupleAwaitable);
  (void)read;
  if (read_ec) {
    impl.Close();
    co_return Fail(TransportError("read", read_ec));
  }
  impl.stream.expires_never();

  http::response<http::string_body> response = parser.release();
  if (!response.keep_alive()) impl.Close();
  co_return HttpReply{static_cast<int>(response.result_int()), std::move(response.body())};
}

}  // namespace integr8scode
