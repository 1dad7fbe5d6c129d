// card-network-sim: a stand-in card network for the PSP's payment workers.
// It charges (or only authorises, then captures or voids) and refunds
// Stripe-style test cards over HTTP with idempotency keys, injects faults on
// demand and exposes reconciliation reads; see README.md for the API.

#include "authorization_service.hpp"
#include "faults.hpp"
#include "http_routes.hpp"
#include "idempotency_table.hpp"
#include "journal.hpp"
#include "ledger_book.hpp"
#include "payment_service.hpp"
#include "settlement_faults.hpp"
#include "sim_options.hpp"
#include "sim_server.hpp"
#include "sim_stats.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace {

using namespace psp::sim;

/// Stored keys and stored charges plus refunds are each capped here.
constexpr size_t records_max = 2'000'000;

/// How long a request waits for a concurrent one with the same key.
constexpr std::chrono::milliseconds same_key_wait_max{10'000};

/// How long shutdown may take before the process gives up on a clean exit.
constexpr int stop_attempts_max = 500; // x 20 ms = 10 s

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Blocks SIGTERM/SIGINT in every thread (so only sigwait sees them) and
// ignores SIGPIPE (writes to dropped connections must not kill us).
void setup_signals() {
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

// Waits for a stop signal, then stops the server once it runs: stop() is a
// no-op before listen starts, and httplib asserts when called twice.
void stop_on_signal(sim_http_server& server, fault_injector& faults,
                    const std::atomic<bool>& listen_done) {
  auto set = stop_signals();
  int sig = 0;
  sigwait(&set, &sig);
  faults.shutdown();
  bool stop_sent = false;
  for (int i = 0; i < stop_attempts_max && !listen_done; ++i) {
    if (!stop_sent && server.is_running()) {
      server.stop();
      stop_sent = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  if (!listen_done) {
    std::cerr << "card-network-sim: shutdown timed out\n";
    std::_Exit(1);
  }
}

fault_knobs initial_knobs(const sim_options& options) {
  fault_knobs knobs;
  knobs.latency_ms = options.latency_ms;
  knobs.error_rate = options.error_rate;
  return knobs;
}

int run(const sim_options& options) {
  ledger_book ledger{records_max};
  idempotency_table keys{records_max, same_key_wait_max};
  std::unique_ptr<sim_journal> journal;
  if (!options.journal_path.empty()) {
    auto replayed = replay_journal(options.journal_path, ledger, keys);
    if (!replayed.error.empty()) {
      std::cerr << "card-network-sim: " << replayed.error << "\n";
      return 1;
    }
    std::string error;
    journal = sim_journal::open(options.journal_path, error);
    if (!journal) {
      std::cerr << "card-network-sim: " << error << "\n";
      return 1;
    }
    std::cout << "card-network-sim: replayed " << replayed.operations
              << " operations from " << options.journal_path
              << (replayed.torn_tail_dropped ? " (dropped a torn last line)"
                                             : "")
              << std::endl;
  }
  sim_stats stats;
  payment_service payments{ledger, keys, stats, journal.get()};
  authorization_service authorizations{ledger, keys, stats, journal.get()};
  fault_injector faults{initial_knobs(options), options.seed};
  settlement_fault_table settlement_faults;
  sim_components sim{ledger,         keys,  payments,     authorizations,
                     faults,         settlement_faults, stats,
                     journal.get()};
  sim_http_server server;
  configure_server(server, options);
  install_routes(server, sim);
  int port = bind_server(server, options);
  if (port <= 0) {
    std::cerr << "card-network-sim: cannot listen on " << options.host << ":"
              << options.port << "\n";
    return 1;
  }
  std::cout << "card-network-sim listening on " << options.host << ":" << port
            << std::endl;
  std::atomic<bool> listen_done{false};
  std::thread stopper{[&] { stop_on_signal(server, faults, listen_done); }};
  // True after stop(); false when accept() failed.
  bool clean = server.listen_after_bind();
  listen_done = true;
  // Wake the stopper in case the server ended on its own.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  return clean ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_sim_options(argc, argv);
  if (parsed.options.help) {
    std::cout << sim_usage();
    return 0;
  }
  if (!parsed.error.empty()) {
    std::cerr << "card-network-sim: " << parsed.error << "\n" << sim_usage();
    return 2;
  }
  setup_signals();
  return run(parsed.options);
}
