// The merchant side of the benchmark: an HTTP endpoint on 127.0.0.1 that
// receives the PSP's webhooks, verifies each `Stripe-Signature` with the
// endpoint secret, and marks the payment of a `payment_intent.succeeded`
// event complete in the current phase's payment_table.
#pragma once

#include "payment_table.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace bench {

struct receiver_counts {
  uint64_t received = 0;      ///< every POST
  uint64_t verified = 0;      ///< good signature
  uint64_t bad_signature = 0; ///< answered 400
  uint64_t other_type = 0;    ///< verified, not payment_intent.succeeded
  uint64_t unknown = 0;       ///< an intent not in the current table
  uint64_t repeats = 0;       ///< a second delivery of a completed payment
};

class webhook_receiver {
public:
  explicit webhook_receiver(int threads);
  ~webhook_receiver();

  /// Listens on 127.0.0.1 (any free port); false with `err` on failure.
  bool start(std::string& err);
  void stop();
  /// Where the PSP should POST: http://127.0.0.1:<port>/webhook.
  std::string url() const;

  void set_secret(const std::string& secret);
  /// The table payments are completed in from now on (nullptr: none).
  void track(std::shared_ptr<payment_table> table);

  receiver_counts counts() const;

private:
  void on_webhook(const std::string& signature, const std::string& body,
                  int& status);

  std::unique_ptr<httplib::Server> srv_;
  std::thread thread_;
  int threads_;
  int port_ = 0;
  mutable std::mutex mtx_; ///< guards secret_ and table_
  std::string secret_;
  std::shared_ptr<payment_table> table_;
  std::atomic<uint64_t> received_{0}, verified_{0}, bad_signature_{0},
    other_type_{0}, unknown_{0}, repeats_{0};
};

} // namespace bench
