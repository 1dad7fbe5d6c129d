#include "runtime/admin_archive.hpp"

#include "actors/clock.hpp"
#include "adapters/redis/archive_store.hpp"
#include "runtime/admin_flags.hpp"
#include "runtime/admin_reports.hpp"

#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <iostream>

namespace psp::admin {

namespace {

double own_cpu_s() {
  rusage use{};
  getrusage(RUSAGE_SELF, &use);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(use.ru_utime) + s(use.ru_stime);
}

} // namespace

int archive_command(redis::connection& conn,
                    const std::map<std::string, std::string>& opts) {
  // Ten years: more archives nothing a PSP still holds live, and keeps the
  // milliseconds below well inside 64 bits.
  auto after = whole_number("--after-s", opts.at("--after-s"),
                            {0, 315'360'000, "a whole number of seconds"});
  if (auto* why = std::get_if<std::string>(&after)) {
    std::cerr << "psp-admin: " << *why << '\n';
    return exit_usage;
  }
  auto after_s = std::get<int64_t>(after);
  auto started = std::chrono::steady_clock::now();
  auto cpu_at_start = own_cpu_s();
  redis::archive_pass total;
  // A pass ends when a round finds nothing due; entries it queued again
  // (a webhook still pending) are due only after --after-s.
  auto now_ms = unix_now_ms();
  redis::dictionary_cache dictionaries;
  for (;;) {
    auto round = redis::archive_due_payments(conn, now_ms, after_s * 1000,
                                             redis::archive_batch, dictionaries);
    if (round.failed) {
      std::cerr << "psp-admin: archive failed: " << conn.last_error() << '\n';
      return exit_unreachable;
    }
    total.taken += round.taken;
    total.archived += round.archived;
    total.later += round.later;
    total.skipped += round.skipped;
    total.packed_bytes += round.packed_bytes;
    if (round.taken < redis::archive_batch) {
      break;
    }
  }
  std::chrono::duration<double> elapsed =
    std::chrono::steady_clock::now() - started;
  std::cout << nlohmann::json{{"archived", total.archived},
                              {"later", total.later},
                              {"skipped", total.skipped},
                              {"packed_bytes", total.packed_bytes},
                              {"elapsed_s", elapsed.count()},
                              {"cpu_s", own_cpu_s() - cpu_at_start}}
                 .dump()
            << '\n';
  return 0;
}

} // namespace psp::admin
