#pragma once

// Idempotency keys: the first request with a key executes and its answer is
// stored; later requests with the key get that answer back. Requests that
// share a key are serialized; different keys never wait for each other.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace psp::sim {

/// What must match for a repeated key to count as the same request.
struct request_fingerprint {
  /// "charge", "refund", "capture" or "void": a key used on one endpoint is
  /// not valid on another.
  std::string endpoint;
  /// The charge's reference, or the refunded, captured or voided charge id.
  std::string target;
  /// 0 for "not given" (a capture without an amount, a void).
  int64_t amount_minor = 0;
  std::string currency;
  /// A charge's `capture` flag: authorising and charging are different
  /// requests even with the same amount.
  bool capture = true;
  /// A charge's card as "brand last4 mm/yyyy" (never the number): the same key
  /// with another card is another request, as a real network sees it.
  /// Empty for other endpoints, and in journal lines written before it.
  std::string card{};

  bool operator==(const request_fingerprint& other) const {
    return endpoint == other.endpoint && target == other.target &&
           amount_minor == other.amount_minor && currency == other.currency &&
           capture == other.capture && card == other.card;
  }
};

/// A stored answer: the exact status and body to replay.
struct stored_response {
  int status = 0;
  std::string body;
};

/// How a request relates to its key.
enum class claim_kind {
  /// First of its key: execute, then `complete` or `release`.
  owner,
  /// The key already has an answer: replay `response`.
  replay,
  /// The key was used with different parameters.
  conflict,
  /// The table is full.
  capacity,
  /// Another request with this key is still executing after `wait_max`.
  busy,
};

/// Result of `idempotency_table::claim`.
struct key_claim {
  claim_kind kind = claim_kind::owner;
  /// Identifies the owner; pass it back to `complete` / `release`.
  uint64_t ticket = 0;
  /// Set for `claim_kind::replay`.
  stored_response response;
};

/// Thread-safe, bounded table of idempotency keys.
class idempotency_table {
public:
  /// `keys_max` bounds stored keys; `wait_max` bounds how long a request
  /// waits for a concurrent request with the same key.
  idempotency_table(size_t keys_max, std::chrono::milliseconds wait_max);

  /// Claims `key` for a request with fingerprint `fp`, waiting while another
  /// request with the same key executes.
  key_claim claim(const std::string& key, const request_fingerprint& fp);

  /// Stores the owner's answer and wakes the waiters.
  void complete(const std::string& key, uint64_t ticket,
                stored_response response);

  /// Gives the key up unanswered (nothing was executed), so a later request
  /// may execute it.
  void release(const std::string& key, uint64_t ticket);

  /// Stores an answered key read back from the journal after a restart.
  void restore(const std::string& key, const request_fingerprint& fp,
               stored_response response);

  /// Number of stored keys, including in-flight ones.
  size_t size() const;

  /// Forgets every key; in-flight owners' later `complete` calls are ignored.
  void clear();

private:
  struct entry {
    request_fingerprint fingerprint;
    uint64_t ticket = 0;
    bool done = false;
    stored_response response;
  };

  size_t keys_max_;
  std::chrono::milliseconds wait_max_;
  mutable std::mutex mtx_;
  std::condition_variable done_cv_;
  uint64_t next_ticket_ = 1;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace psp::sim
