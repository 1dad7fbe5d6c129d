#include "ledger_book.hpp"

#include "sim_assert.hpp"

#include <utility>

namespace psp::sim {

ledger_book::ledger_book(size_t records_max) : records_max_(records_max) {
  SIM_ASSERT(records_max_ > 0);
}

bool ledger_book::record_charge(charge_record charge) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (charges_.size() + refunds_.size() >= records_max_) {
    return false;
  }
  if (charge.succeeded()) {
    ++succeeded_by_reference_[charge.reference];
  }
  charge_index_.emplace(charge.id, charges_.size());
  charges_.push_back(std::move(charge));
  return true;
}

refund_outcome ledger_book::record_refund(refund_record& refund) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = charge_index_.find(refund.charge_id);
  if (it == charge_index_.end()) {
    return refund_outcome::charge_not_found;
  }
  auto& charge = charges_[it->second];
  refund.reference = charge.reference;
  refund.currency = charge.currency;
  // A declined charge captured nothing, so any refund of it is too large.
  auto captured = charge.succeeded() ? charge.amount_minor : 0;
  if (refund.amount_minor > captured - charge.refunded_minor) {
    return refund_outcome::amount_too_large;
  }
  if (charges_.size() + refunds_.size() >= records_max_) {
    return refund_outcome::capacity;
  }
  charge.refunded_minor += refund.amount_minor;
  SIM_ASSERT(charge.refunded_minor <= charge.amount_minor);
  refunds_.push_back(refund);
  return refund_outcome::recorded;
}

std::vector<charge_record> ledger_book::charges() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return charges_;
}

std::vector<refund_record> ledger_book::refunds() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return refunds_;
}

std::map<std::string, uint64_t> ledger_book::succeeded_counts() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return {succeeded_by_reference_.begin(), succeeded_by_reference_.end()};
}

void ledger_book::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  charges_.clear();
  charge_index_.clear();
  refunds_.clear();
  succeeded_by_reference_.clear();
}

} // namespace psp::sim
