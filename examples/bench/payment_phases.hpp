// The two measured phases of payment-bench, each run by `concurrency`
// client threads with one keep-alive connection per node (opened before the
// clock starts and kept across phases: a burst of new connections against
// cpp-httplib's listen backlog of 5 loses SYNs, which costs 1 s each):
//   create  POST /v1/checkout/sessions (unique Idempotency-Key each), sessions
//           spread round-robin over the nodes;
//   pay     POST /pay/<session> with a card on the node that created it; the
//           payment counts as complete when its signed webhook arrives.
// A phase stops at its count or its duration, whichever comes first.
#pragma once

#include "latency_stats.hpp"
#include "psp_calls.hpp"
#include "webhook_receiver.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace httplib {
class Client;
}

namespace bench {

/// One keep-alive client per load-generator thread. Thread w talks to node
/// w mod nodes only, so 1 and 3 nodes see the same 16 connections in total,
/// like a load balancer's upstream pool. (A client per thread and node made
/// three times as many connections for three nodes, each a third as busy,
/// and cpp-httplib's server wakes every ~11 ms per idle keep-alive
/// connection: that cost the nodes ~0.2 ms of CPU per payment that the
/// cluster itself does not; docs/performance-log.md, the 2026-11-29 18:04 run.)
using client_set = std::vector<std::unique_ptr<httplib::Client>>;

/// `threads` clients spread round-robin over the nodes, not yet connected.
client_set make_clients(const std::vector<std::string>& node_urls,
                        int threads);

/// Opens (or refreshes) every connection with GET /healthz, in parallel;
/// returns how many requests failed.
uint64_t connect_all(client_set& clients);

struct phase_settings {
  std::vector<std::string> node_urls;
  std::string api_key;
  std::string run_id;      ///< makes idempotency keys and nonces unique
  uint64_t count_max = 0;  ///< items to do at most
  double duration_s = 10;  ///< stop starting new items after this long
};

struct create_result {
  std::vector<session_ref> sessions;
  uint64_t errors = 0;
  std::string first_error;
  double elapsed_s = 0;
  double start_unix = 0;
  double end_unix = 0;
  latency_summary latency;
};

/// Runs with one thread per entry of `clients`.
create_result run_create_phase(const phase_settings& cfg, client_set& clients);

struct pay_settings {
  int outstanding_max = 64;   ///< confirmed payments awaiting a webhook
  int stall_timeout_s = 10;   ///< no free slot for this long: stop
  int drain_timeout_s = 30;   ///< wait for the last webhooks
};

struct pay_result {
  uint64_t confirmed = 0;      ///< card form accepted (303)
  uint64_t confirm_errors = 0;
  uint64_t completed = 0;      ///< first verified webhook arrived
  uint64_t missing = 0;        ///< confirmed, no webhook by the deadline
  uint64_t stalls = 0;         ///< workers that waited stall_timeout_s
  std::string first_error;
  double issue_s = 0;          ///< first confirm to last confirm started
  /// Every created session was paid before duration_s ran out: the rate
  /// still holds (completed over elapsed), over a shorter window.
  bool ran_out = false;
  double elapsed_s = 0;        ///< first confirm to last webhook
  double per_s = 0;            ///< completed / elapsed_s
  double start_unix = 0;
  double end_unix = 0;
  latency_summary confirm_http; ///< POST /pay answer time
  latency_summary to_webhook;   ///< POST /pay start to webhook arrival
};

/// Pays `sessions` (in order) until count_max / duration_s.
pay_result run_pay_phase(const phase_settings& cfg, const pay_settings& pay,
                         const std::vector<session_ref>& sessions,
                         webhook_receiver& receiver, client_set& clients);

nlohmann::json to_json(const create_result& r);
nlohmann::json to_json(const pay_result& r);

} // namespace bench
