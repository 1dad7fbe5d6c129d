#pragma once

// A private redis-server for one test: free port, temp dir, AOF with
// appendfsync always (as in production), stopped on destruction.

#include "tests/support/process.hpp"

#include <functional>
#include <string>

namespace psp::test {

class redis_server {
public:
  redis_server();
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_.path(); }
  /// SIGKILL and start again on the same port and data (crash tests);
  /// `while_down` runs in between (e.g. to put an older backup in place).
  void restart_after_kill(const std::function<void()>& while_down = {});
  child_process& process() { return proc_; }

private:
  void start();
  temp_dir dir_;
  uint16_t port_;
  child_process proc_;
};

} // namespace psp::test
