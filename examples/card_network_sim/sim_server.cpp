#include "sim_server.hpp"

#include <sys/socket.h>

namespace psp::sim {

bool sim_http_server::widen_backlog(int backlog) {
  return ::listen(svr_sock_, backlog) == 0;
}

void configure_server(sim_http_server& server, const sim_options& options) {
  auto threads = static_cast<size_t>(options.threads);
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  server.set_tcp_nodelay(true);
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, with which
  // a second simulator started on a taken port would share it silently
  // (each would see half of the charges).
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.set_payload_max_length(payload_length_max);
  server.set_keep_alive_max_count(keep_alive_requests_max);
  server.set_keep_alive_timeout(keep_alive_idle_s);
  server.set_read_timeout(socket_timeout_s, 0);
  server.set_write_timeout(socket_timeout_s, 0);
}

int bind_server(sim_http_server& server, const sim_options& options) {
  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
  } else if (!server.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port > 0) {
    server.widen_backlog(listen_backlog);
  }
  return port;
}

} // namespace psp::sim
