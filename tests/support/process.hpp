#pragma once

// Real processes on loopback for integration tests: spawn a binary, wait for
// its port, stop it. Every wait is bounded.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace psp::test {

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

/// Polls until something accepts connections on 127.0.0.1:port.
bool wait_for_port(uint16_t port, std::chrono::milliseconds timeout);

/// A child process; SIGKILLed (after a SIGTERM grace period) on destruction.
class child_process {
public:
  child_process() = default;
  /// Starts `argv[0]` with arguments; stdout and stderr go to `log_path`
  /// (appended) when given, else are inherited.
  child_process(std::vector<std::string> argv, std::string log_path = {},
                std::vector<std::string> extra_env = {});
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  pid_t pid() const { return pid_; }
  bool running();
  /// The exit code once running() found the child exited on its own;
  /// nullopt while it runs or when a signal ended it.
  std::optional<int> exit_code() const { return exit_code_; }
  /// Sends `sig` to the child (SIGSTOP, SIGCONT, SIGKILL ...).
  void signal(int sig);
  /// SIGTERM, waits up to `grace`, then SIGKILL. Returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds{3000});

private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

/// A fresh temporary directory, removed with its contents on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

} // namespace psp::test
