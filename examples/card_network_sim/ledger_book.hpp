#pragma once

// The network's in-memory book of charges and refunds: thread-safe, bounded,
// and the source of every admin/reconciliation read.

#include "types.hpp"

#include <cstddef>
#include <map>
#include <mutex>
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

/// Stores charges (succeeded and declined) and refunds. All methods are safe
/// to call from any thread.
class ledger_book {
public:
  /// `records_max` bounds charges plus refunds.
  explicit ledger_book(size_t records_max);

  /// Records a charge; false when the book is full.
  bool record_charge(charge_record charge);

  /// Records `refund` against `refund.charge_id` if the charge has at least
  /// `refund.amount_minor` captured and not yet refunded. Fills in the
  /// refund's reference and currency from the charge.
  refund_outcome record_refund(refund_record& refund);

  /// All charges in the order they were recorded.
  std::vector<charge_record> charges() const;

  /// All refunds in the order they were recorded.
  std::vector<refund_record> refunds() const;

  /// Number of succeeded charges per reference (references with none are
  /// absent).
  std::map<std::string, uint64_t> succeeded_counts() const;

  /// Forgets everything.
  void clear();

private:
  size_t records_max_;
  mutable std::mutex mtx_;
  std::vector<charge_record> charges_;
  std::unordered_map<std::string, size_t> charge_index_;
  std::vector<refund_record> refunds_;
  std::unordered_map<std::string, uint64_t> succeeded_by_reference_;
};

} // namespace psp::sim
