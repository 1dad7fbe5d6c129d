#include "tests/support/redis_server.hpp"

#include <csignal>
#include <stdexcept>

namespace psp::test {

redis_server::redis_server() : port_(free_port()) {
  start();
}

void redis_server::start() {
  proc_ = child_process({"redis-server", "--port", std::to_string(port_),
                         "--bind", "127.0.0.1", "--dir", dir_.path(),
                         "--appendonly", "yes", "--appendfsync", "always",
                         "--save", "", "--daemonize", "no",
                         // as run.sh: small hashes stay compact listpacks
                         "--hash-max-listpack-value", "1024",
                         "--hash-max-listpack-entries", "512"},
                        dir_.path() + "/redis.log");
  if (!wait_for_port(port_, std::chrono::seconds{10})) {
    throw std::runtime_error("redis-server did not start on port "
                             + std::to_string(port_));
  }
}

void redis_server::restart_after_kill(const std::function<void()>& while_down) {
  proc_.signal(SIGKILL);
  proc_.stop();
  if (while_down) {
    while_down();
  }
  start();
}

} // namespace psp::test
