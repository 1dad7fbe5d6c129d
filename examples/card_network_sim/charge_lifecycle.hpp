#pragma once

// The charge state machine as pure functions on a charge_record: approve or
// decline, capture once (fully or partly), void, and how much is refundable.
// The ledger applies them under its lock; tests call them directly.
//
//   declined (final)
//   authorized --capture--> succeeded      authorized --void--> voided
//   (auto-capture goes straight to succeeded when the charge is recorded)

#include "types.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace psp::sim {

/// Why a capture or void was refused (`applied` when it was not).
enum class charge_change {
  applied,
  charge_declined,
  already_captured,
  already_voided,
  amount_too_large,
};

/// "declined", "authorized", "succeeded" or "voided".
std::string_view status_name(charge_status status);

/// Sets the initial status from `decline_code` and `auto_capture`; an
/// auto-captured charge captures its full amount at `created_s`.
void open_charge(charge_record& charge);

/// Captures `amount_minor` (the full authorised amount when absent) at
/// `now_s`. Only one capture per authorisation: a partial capture releases
/// the rest, as Stripe does.
charge_change capture_charge(charge_record& charge,
                             std::optional<int64_t> amount_minor,
                             int64_t now_s);

/// Releases an authorisation.
charge_change void_charge(charge_record& charge);

/// Captured and not yet refunded; 0 for anything not captured.
int64_t refundable_minor(const charge_record& charge);

} // namespace psp::sim
