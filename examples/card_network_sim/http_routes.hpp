#pragma once

// Binds the simulator's components to cpp-httplib routes: thin handlers that
// apply fault injection around the payment flows and serve admin reads.

namespace httplib {
class Server;
} // namespace httplib

namespace psp::sim {

class fault_injector;
class idempotency_table;
class ledger_book;
class payment_service;
struct sim_stats;

/// The components the routes talk to; all outlive the server.
struct sim_components {
  ledger_book& ledger;
  idempotency_table& keys;
  payment_service& payments;
  fault_injector& faults;
  sim_stats& stats;
};

/// Registers every route plus JSON error and exception handlers.
void install_routes(httplib::Server& server, sim_components& sim);

} // namespace psp::sim
