// The TLS instantiation of the session template (see http_server_state.hpp).
#include "api/http_session.hpp"

namespace integr8scode::http_detail {

void StartTlsSession(std::shared_ptr<ServerState> state, std::uint64_t id, std::string peer,
                     tcp::socket socket, const SessionRegistrar& registrar) {
  ssl::context& tls = *state->tls;
  auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
      std::move(state), id, std::move(peer), std::move(socket), tls);
  registrar(session);
  session->Run();
}

}  // namespace integr8scode::http_detail
