#include "api/http_framing.hpp"

#include "api/http_message.hpp"

namespace integr8scode {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// A Host value is one authority (RFC 9110 §7.2): a list, whitespace inside, or a path
// means two parsers along the way may route the request to different places.
bool PlausibleHost(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (c == ',' || c == ' ' || c == '\t' || c == '/' || c == '\\' || c == '@' || c == '?' ||
        c == '#')
      return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> FramingProblem(
    unsigned version, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t hosts = 0;
  std::size_t transfer_encodings = 0;
  bool content_length = false;
  std::string_view host;
  std::string_view transfer_encoding;
  for (const auto& [name, value] : fields) {
    if (name == "host") {
      ++hosts;
      host = Trim(value);
    } else if (name == "transfer-encoding") {
      ++transfer_encodings;
      transfer_encoding = Trim(value);
    } else if (name == "content-length") {
      content_length = true;
    }
  }
  if (transfer_encodings > 0) {
    // RFC 9112 §6.1: HTTP/1.0 has no transfer codings, a Content-Length beside one is a
    // smuggling attempt, and a final coding other than chunked leaves the body's end
    // unknown. Only a lone "chunked" is a framing both sides read alike.
    if (version < 11) {
      return "Transfer-Encoding is not allowed in an HTTP/1.0 request; send Content-Length.";
    }
    if (content_length) {
      return "The request has both Transfer-Encoding and Content-Length; send only one of them.";
    }
    if (transfer_encodings > 1 || !EqualsIgnoreCase(transfer_encoding, "chunked")) {
      return "The only transfer coding accepted is 'Transfer-Encoding: chunked' (one field, "
             "one coding).";
    }
  }
  if (hosts > 1) return "The request has more than one Host header; send exactly one.";
  if (version >= 11 && hosts == 0) {
    return "An HTTP/1.1 request needs a Host header (RFC 9112 §3.2).";
  }
  if (hosts == 1 && !PlausibleHost(host)) {
    return "The Host header must name one host (and port), nothing else.";
  }
  return std::nullopt;
}

}  // namespace integr8scode
