#pragma once

// Binds the simulator's components to cpp-httplib routes: thin handlers that
// apply fault injection around the payment flows (here) and serve the admin
// reads and knobs (admin_routes).

namespace httplib {
class Server;
} // namespace httplib

namespace psp::sim {

class authorization_service;
class fault_injector;
class idempotency_table;
class ledger_book;
class payment_service;
class settlement_fault_table;
class sim_journal;
struct sim_stats;

/// The components the routes talk to; all outlive the server.
struct sim_components {
  ledger_book& ledger;
  idempotency_table& keys;
  payment_service& payments;
  authorization_service& authorizations;
  fault_injector& faults;
  settlement_fault_table& settlement_faults;
  sim_stats& stats;
  /// Null when the simulator keeps everything in memory only.
  sim_journal* journal = nullptr;
};

/// Registers every route plus JSON error and exception handlers.
void install_routes(httplib::Server& server, sim_components& sim);

} // namespace psp::sim
