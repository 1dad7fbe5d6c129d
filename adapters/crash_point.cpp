#include "adapters/crash_point.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

bool fail_point(const char* name) {
  static const char* armed = std::getenv("PSP_TEST_FAIL_AT");
  return armed != nullptr && std::strcmp(armed, name) == 0;
}

} // namespace psp
