#pragma once

// The simulator's memory across restarts: an append-only file with one JSON
// line per executed operation (its idempotency key, fingerprint, stored
// answer and the ledger change it made). A real card network does not
// forget a charge because it restarted; without this, a retry after a
// restart would charge again and a reconciliation of an earlier period
// would find nothing at the network.

#include "idempotency_table.hpp"
#include "types.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace psp::sim {

class ledger_book;

/// Ledger changes as journal effects (api_response::effect).
std::string charge_effect(const charge_record& charge);
std::string refund_effect(const refund_record& refund);
std::string capture_effect(const std::string& charge_id,
                           std::optional<int64_t> amount_minor, int64_t now_s);
std::string void_effect(const std::string& charge_id);

class sim_journal {
public:
  /// Opens (creating) `path` for appending; nullptr with `error` set when
  /// it cannot.
  static std::unique_ptr<sim_journal> open(const std::string& path,
                                           std::string& error);
  ~sim_journal();
  sim_journal(const sim_journal&) = delete;
  sim_journal& operator=(const sim_journal&) = delete;

  /// Held across an operation's execution and its append, so the journal's
  /// order is the order the ledger saw (a refund never lands before the
  /// capture it needs).
  std::unique_lock<std::mutex> lock() { return std::unique_lock{mtx_}; }

  /// Appends one operation as a single write(2), under lock(). A process
  /// killed mid-write leaves at most a torn last line, which replay drops.
  /// False when the write failed.
  bool append(const std::string& key, const request_fingerprint& fp,
              const api_response& answer);

  /// Forgets everything (the admin reset), under lock().
  bool clear();

  const std::string& path() const { return path_; }

private:
  sim_journal(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  std::mutex mtx_;
};

/// What replaying a journal found.
struct replay_result {
  size_t operations = 0;
  /// A torn last line (a crash mid-write) was dropped and cut off the file.
  bool torn_tail_dropped = false;
  /// Empty on success; otherwise why the journal cannot be trusted.
  std::string error;
};

/// Re-applies every operation of the journal at `path` (absent: nothing)
/// to an empty ledger and key table, in order.
replay_result replay_journal(const std::string& path, ledger_book& ledger,
                             idempotency_table& keys);

} // namespace psp::sim
