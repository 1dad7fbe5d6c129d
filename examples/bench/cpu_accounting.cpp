#include "cpu_accounting.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

namespace bench {

namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in{p};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// Adds every thread of `pid` to `into` (threads that end meanwhile are
/// skipped).
void add_threads_of(int pid, thread_groups& into) {
  auto hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::error_code ec;
  std::filesystem::directory_iterator tasks{
    "/proc/" + std::to_string(pid) + "/task", ec};
  for (auto& task : tasks) {
    auto name = read_all(task.path() / "comm");
    if (!name.empty() && name.back() == '\n') {
      name.pop_back();
    }
    auto stat = read_all(task.path() / "stat");
    auto status = read_all(task.path() / "status");
    add_thread(into, name, stat, status, hz);
  }
}

} // namespace

cpu_mark cpu_now(const std::vector<int>& node_pids, int sim_pid) {
  cpu_mark m;
  m.machine = machine_cpu_now();
  for (int pid : node_pids) {
    auto t = cpu_of(pid);
    m.nodes_user += std::max(0.0, t.user_s);
    m.nodes_system += std::max(0.0, t.system_s);
    add_threads_of(pid, m.node_threads);
  }
  if (sim_pid > 0) {
    auto t = cpu_of(sim_pid);
    m.card_network = std::max(0.0, t.user_s + t.system_s);
  }
  m.driver = own_cpu_s();
  return m;
}

nlohmann::json cpu_per_item(const cpu_mark& a, const cpu_mark& b,
                            double redis_cpu_s, uint64_t items) {
  auto n = static_cast<double>(std::max<uint64_t>(items, 1));
  auto per = [n](double seconds) { return seconds * 1e3 / n; };
  double user = b.nodes_user - a.nodes_user;
  double system = b.nodes_system - a.nodes_system;
  double total = user + system + (b.card_network - a.card_network)
                 + (b.driver - a.driver) + redis_cpu_s;
  // Whatever else ran on the machine meanwhile (other builds, tests): the
  // figures above hold per payment, but the rates are then not the stack's.
  double machine_busy = b.machine.busy_s - a.machine.busy_s;
  double machine_total = std::max(1e-9, b.machine.total_s - a.machine.total_s);
  double others = std::max(0.0, machine_busy - total);
  return {{"nodes", per(user + system)},
          {"machine_busy_fraction", machine_busy / machine_total},
          {"others_fraction", others / machine_total},
          // Every process's switches, ours and any foreign ones alike.
          {"machine_context_switches",
           (b.machine.context_switches - a.machine.context_switches) / n},
          {"nodes_user", per(user)},
          {"nodes_system", per(system)},
          {"redis", per(redis_cpu_s)},
          {"card_network", per(b.card_network - a.card_network)},
          {"driver", per(b.driver - a.driver)},
          {"total", per(total)},
          {"node_threads",
           thread_groups_per_item(a.node_threads, b.node_threads, items)}};
}

} // namespace bench
