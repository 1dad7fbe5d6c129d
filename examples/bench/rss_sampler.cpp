#include "rss_sampler.hpp"

#include "thread_groups.hpp"

#include <chrono>
#include <fstream>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

namespace bench {

int64_t rss_kib(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      try {
        return std::stoll(line.substr(6)); // "   12345 kB"
      } catch (const std::exception&) {
        return -1;
      }
    }
  }
  return -1;
}

cpu_times cpu_of(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  auto ticks = std::getline(in, line) ? parse_stat_ticks(line) : std::nullopt;
  if (!ticks) {
    return cpu_times{-1, -1};
  }
  auto hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  return cpu_times{ticks->user / hz, ticks->system / hz};
}

double own_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
  };
  return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

machine_cpu machine_cpu_now() {
  machine_cpu out;
  std::ifstream in{"/proc/stat"};
  std::string label;
  in >> label; // "cpu": the sum over all cores
  auto hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  // user nice system idle iowait irq softirq steal (guest is inside user)
  for (int i = 0; i < 8; ++i) {
    double ticks = 0;
    if (!(in >> ticks)) {
      break;
    }
    out.total_s += ticks / hz;
    if (i != 3 && i != 4) {
      out.busy_s += ticks / hz;
    }
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("ctxt ", 0) == 0) {
      out.context_switches = std::stod(line.substr(5));
      break;
    }
  }
  return out;
}

rss_sampler::rss_sampler(std::vector<int> pids)
  : pids_(std::move(pids)), max_(pids_.size(), -1) {
}

rss_sampler::~rss_sampler() {
  stop();
}

std::vector<int64_t> rss_sampler::now() const {
  std::vector<int64_t> out;
  for (int pid : pids_) {
    out.push_back(rss_kib(pid));
  }
  return out;
}

void rss_sampler::start(int period_ms) {
  stop();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    max_.assign(pids_.size(), -1);
  }
  running_ = true;
  thread_ = std::thread{[this, period_ms] {
    while (running_) {
      auto current = now();
      {
        std::lock_guard<std::mutex> guard{mtx_};
        for (size_t i = 0; i < current.size(); ++i) {
          max_[i] = std::max(max_[i], current[i]);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{period_ms});
    }
  }};
}

std::vector<int64_t> rss_sampler::stop() {
  running_ = false;
  if (thread_.joinable()) {
    thread_.join();
  }
  std::lock_guard<std::mutex> guard{mtx_};
  return max_;
}

} // namespace bench
