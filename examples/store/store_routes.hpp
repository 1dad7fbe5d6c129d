// The store's HTTP routes: thin handlers that read the request, call the
// order book / verifier / PSP client, and render a page or JSON.
#pragma once

#include "order_book.hpp"
#include "psp_client.hpp"
#include "webhook_faults.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace httplib {
class Server;
} // namespace httplib

namespace store {

/// Counters behind GET /admin/stats.
struct webhook_stats {
  std::atomic<uint64_t> received{0}; ///< every POST /webhook
  std::atomic<uint64_t> verified{0}; ///< both signatures held
  std::atomic<uint64_t> rejected{0}; ///< refused with 400
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> faulted{0}; ///< failed on purpose by the fault knob
};

/// The webhook secret, known only once registration at the PSP succeeded.
class webhook_secret {
public:
  void set(std::string secret);
  std::string get() const;

private:
  mutable std::mutex mtx_;
  std::string secret_;
};

/// Everything the handlers share. Outlives the server.
struct store_state {
  /// `log` (the journal; may be null) must outlive the state.
  explicit store_state(psp_api& psp_api_ref, order_log* log = nullptr)
      : psp(psp_api_ref), orders({}, log) {}

  psp_api& psp;
  order_book orders;
  webhook_faults faults;
  webhook_stats stats;
  webhook_secret secret;
  /// Base URL for success/cancel/webhook URLs; set before serving starts.
  std::string public_url;
  /// Set on shutdown so injected delays end early.
  std::atomic<bool> stopping{false};
};

/// Registers every route on `server`. `state` must outlive the server.
void install_routes(httplib::Server& server, store_state& state);

/// POST /webhook, GET /admin/stats and /admin/webhook_faults; called by
/// install_routes, kept apart because it is the security-relevant part.
void install_webhook_routes(httplib::Server& server, store_state& state);

/// Seconds since the Unix epoch, the clock webhooks are checked against.
int64_t unix_now_s();

} // namespace store
