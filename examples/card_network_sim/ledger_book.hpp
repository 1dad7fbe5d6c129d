#pragma once

// The network's in-memory book of charges, refunds and the settlement
// journal: thread-safe, bounded, and the source of every admin and
// reconciliation read. State changes go through charge_lifecycle.

#include "charge_lifecycle.hpp"
#include "types.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace psp::sim {

/// Outcome of asking the book to record a refund.
enum class refund_outcome {
  recorded,
  charge_not_found,
  amount_too_large,
  capacity,
};

/// Outcome of a capture or a void.
struct charge_update {
  bool found = false;
  /// Meaningful only when `found`.
  charge_change change = charge_change::applied;
  /// The charge after the attempt (unchanged when refused).
  charge_record charge;
};

/// Stores charges (in every status), refunds and the settlement journal.
/// All methods are safe to call from any thread.
class ledger_book {
public:
  /// `records_max` bounds charges plus refunds (and so the journal, which
  /// holds at most one line per charge and one per refund).
  explicit ledger_book(size_t records_max);

  /// Records a charge, deriving its status from `decline_code` and
  /// `auto_capture` (see `open_charge`). Returns the recorded charge, or
  /// nothing when the book is full.
  std::optional<charge_record> record_charge(charge_record charge);

  /// Captures an authorisation (see `capture_charge`).
  charge_update capture(const std::string& charge_id,
                        std::optional<int64_t> amount_minor, int64_t now_s);

  /// Releases an authorisation (see `void_charge`).
  charge_update void_authorization(const std::string& charge_id);

  /// Records `refund` against `refund.charge_id` if the charge has at least
  /// `refund.amount_minor` captured and not yet refunded. Fills in the
  /// refund's reference and currency from the charge.
  refund_outcome record_refund(refund_record& refund);

  /// All charges in the order they were recorded.
  std::vector<charge_record> charges() const;

  /// All refunds in the order they were recorded.
  std::vector<refund_record> refunds() const;

  /// Captures and refunds in the order they were recorded.
  std::vector<settlement_entry> settlement() const;

  /// Number of succeeded captures per reference (references with none are
  /// absent). An authorisation counts once it is captured, never twice.
  std::map<std::string, uint64_t> succeeded_counts() const;

  /// Forgets everything.
  void clear();

private:
  bool full() const;
  charge_record* find(const std::string& charge_id);
  void note_capture(const charge_record& charge);

  size_t records_max_;
  mutable std::mutex mtx_;
  std::vector<charge_record> charges_;
  std::unordered_map<std::string, size_t> charge_index_;
  std::vector<refund_record> refunds_;
  std::vector<settlement_entry> settlement_;
  std::unordered_map<std::string, uint64_t> succeeded_by_reference_;
};

} // namespace psp::sim
