#include "runtime/caf_thread_names.hpp"

#include "adapters/thread_name.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace psp {

void name_caf_workers(caf::actor_system& sys) {
  // Any thread of a process may rename another through /proc: every thread
  // called after the multiplexer is renamed, then the multiplexer's own
  // thread (the one that runs what is posted to it) takes its name back.
  std::error_code ec;
  for (auto& task : std::filesystem::directory_iterator{"/proc/self/task", ec}) {
    auto comm = task.path() / "comm";
    std::string name;
    std::getline(std::ifstream{comm}, name);
    if (name == "caf.multiplexer") {
      std::ofstream{comm} << "caf.worker";
    }
  }
  if (sys.has_middleman()) {
    sys.middleman().backend().post(
      [] { name_this_thread("caf.multiplexer"); });
  }
}

} // namespace psp
