#pragma once

// What the card network's HTTP answer means for a payment op: approved,
// declined for good, or unknown (transient: the op is asked again under the
// same idempotency key, never guessed). Pure, so that every shape the
// network may send, malformed ones included, is unit-tested.

#include "actors/messages.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace psp::card {

/// An unknown outcome, with why.
charge_result transient_answer(std::string why);

/// `status` 0 means no answer arrived (`transport_error` says why). A field
/// of the wrong type (a null `decline_code`, a numeric `id`) reads as absent:
/// the network's answer never throws here.
charge_result interpret_network_answer(int32_t status, std::string_view body,
                                       std::string_view transport_error,
                                       payment_op op);

} // namespace psp::card
