#pragma once

// The HTTP adapter: a cpp-httplib server with the merchant API, the hosted
// page and the operations routes, tuned per ../shared/baselines.md
// (TCP_NODELAY, body cap, keep-alive, a thread pool sized for blocking
// Redis calls).

#include "adapters/http/api_context.hpp"

#include <memory>
#include <string>

namespace httplib {
class Server;
}

namespace psp::http {

class tuned_server;

struct server_settings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  size_t threads = 32;
};

class api_server {
public:
  api_server(api_context& ctx, server_settings cfg);
  ~api_server();

  /// Binds the port; false with a reason when it is in use or invalid.
  bool bind(std::string& err);
  /// Serves until stop(); run it on its own thread.
  void serve();
  void stop();
  uint16_t port() const { return port_; }

private:
  api_context& ctx_;
  server_settings cfg_;
  std::unique_ptr<tuned_server> srv_;
  uint16_t port_ = 0;
};

} // namespace psp::http
