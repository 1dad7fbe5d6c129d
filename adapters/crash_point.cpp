#include "adapters/crash_point.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <unistd.h>

namespace psp {

namespace {

const char* armed_point() {
  static const char* point = std::getenv("PSP_TEST_CRASH_AT");
  return point;
}

} // namespace

void crash_point(const char* name) {
  auto* armed = armed_point();
  if (armed == nullptr || std::strcmp(armed, name) != 0) {
    return;
  }
  std::fprintf(stderr, "event=crash_point point=%s pid=%d\n", name,
               static_cast<int>(::getpid()));
  std::fflush(stderr);
  ::kill(::getpid(), SIGKILL);
}

void pause_point(const char* name) {
  static const char* armed = std::getenv("PSP_TEST_PAUSE_AT");
  static std::atomic<bool> paused{false};
  if (armed == nullptr) {
    return;
  }
  auto len = std::strlen(name);
  if (std::strncmp(armed, name, len) != 0 || armed[len] != ':'
      || paused.exchange(true)) {
    return;
  }
  auto ms = std::strtol(armed + len + 1, nullptr, 10);
  std::fprintf(stderr, "event=pause_point point=%s ms=%ld\n", name, ms);
  std::fflush(stderr);
  std::this_thread::sleep_for(std::chrono::milliseconds{ms});
}

bool fail_point(const char* name) {
  static const char* armed = std::getenv("PSP_TEST_FAIL_AT");
  return armed != nullptr && std::strcmp(armed, name) == 0;
}

} // namespace psp
