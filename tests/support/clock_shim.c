/* An LD_PRELOAD library for tests: moves a process's wall clock
 * (CLOCK_REALTIME, gettimeofday, time) by the milliseconds written in the
 * file PSP_TEST_CLOCK_FILE names, re-read at most every 100 ms, so a test
 * can step a running node's clock as NTP or a resumed VM would. The
 * monotonic clock is left alone (an NTP step does not move it). The real
 * clock is read by system call, not through the next library's symbol:
 * looking that up may allocate, and jemalloc reads the clock. */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long offset_ms;
static long long checked_at_ms = -1000000;

static void real_clock(clockid_t id, struct timespec* ts) {
  syscall(SYS_clock_gettime, id, ts);
}

static long long current_offset_ms(void) {
  struct timespec mono;
  real_clock(CLOCK_MONOTONIC, &mono);
  long long mono_ms = (long long)mono.tv_sec * 1000 + mono.tv_nsec / 1000000;
  if (mono_ms - checked_at_ms < 100) {
    return __atomic_load_n(&offset_ms, __ATOMIC_RELAXED);
  }
  checked_at_ms = mono_ms;
  const char* path = getenv("PSP_TEST_CLOCK_FILE");
  if (path == NULL) {
    return 0;
  }
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    return __atomic_load_n(&offset_ms, __ATOMIC_RELAXED);
  }
  char text[32] = {0};
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n > 0) {
    __atomic_store_n(&offset_ms, strtoll(text, NULL, 10), __ATOMIC_RELAXED);
  }
  return __atomic_load_n(&offset_ms, __ATOMIC_RELAXED);
}

static void shift(struct timespec* ts) {
  long long ns = (long long)ts->tv_nsec + current_offset_ms() * 1000000LL;
  long long sec = ts->tv_sec + ns / 1000000000LL;
  ns %= 1000000000LL;
  if (ns < 0) {
    ns += 1000000000LL;
    sec -= 1;
  }
  ts->tv_sec = (time_t)sec;
  ts->tv_nsec = (long)ns;
}

int clock_gettime(clockid_t id, struct timespec* ts) {
  real_clock(id, ts);
  if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) {
    shift(ts);
  }
  return 0;
}

int gettimeofday(struct timeval* tv, void* tz) {
  (void)tz;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tv->tv_sec = ts.tv_sec;
  tv->tv_usec = ts.tv_nsec / 1000;
  return 0;
}

time_t time(time_t* out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out != NULL) {
    *out = ts.tv_sec;
  }
  return ts.tv_sec;
}
