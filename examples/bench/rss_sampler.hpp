// What /proc says about the processes under test: resident set size (VmRSS
// in /proc/<pid>/status), CPU time used (/proc/<pid>/stat), and a background
// sampler that keeps the largest RSS seen while a phase runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace bench {

/// VmRSS of `pid` in KiB; -1 when the process is gone or unreadable.
int64_t rss_kib(int pid);

struct cpu_times {
  double user_s = 0;
  double system_s = 0; ///< in the kernel: syscalls, network stack
};

/// CPU seconds `pid` has used (all threads); negative if unknown.
cpu_times cpu_of(int pid);

/// User + system CPU seconds of this process.
double own_cpu_s();

/// CPU seconds of the whole machine since boot (first line of /proc/stat):
/// busy (everything but idle and iowait) and total, summed over all cores;
/// and the context switches of all its CPUs since boot (`ctxt`).
struct machine_cpu {
  double busy_s = 0;
  double total_s = 0;
  double context_switches = 0;
};

machine_cpu machine_cpu_now();

class rss_sampler {
public:
  explicit rss_sampler(std::vector<int> pids);
  ~rss_sampler();

  /// Current RSS of every pid, in the order given.
  std::vector<int64_t> now() const;
  /// Starts sampling every `period_ms`; resets the maxima.
  void start(int period_ms = 200);
  /// Stops sampling; returns the maxima since start().
  std::vector<int64_t> stop();

private:
  std::vector<int> pids_;
  std::vector<int64_t> max_;
  mutable std::mutex mtx_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

} // namespace bench
