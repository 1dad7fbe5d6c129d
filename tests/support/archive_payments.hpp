#pragma once

// A paid payment's ids and hashes as the node's commit step leaves them
// (modelled on adapters/archive/archive_dictionary.cpp), for the archive's
// tests: deterministic, so two runs build the same bytes.

#include "adapters/archive/archive_codec.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace psp::test {

/// `length` characters of the ids' alphabet, the same for the same seed
/// (xorshift: no randomness between runs).
std::string token(uint64_t seed, size_t length);

/// The ids of one paid checkout, shaped as the node makes them.
struct payment_ids {
  std::string merchant;
  std::string intent;   ///< pi_...
  std::string session;  ///< cs_test_..., "" for an intent made by the API
  std::string suffix;   ///< the attempt's random part (24 chars)
  std::string charge;   ///< ch_...
  std::string endpoint = "we_nRP31HOGhWe0nNOiRKvXiXgZ";

  std::string attempt() const { return "pa_" + suffix; }
  std::string archive_key() const;
  std::string succeeded_event() const { return "evt:evt_" + suffix + "S"; }
};

inline const std::string default_merchant = "acct_XQKg6TWuucSEdiar7cwFve7q";

/// The `n`th payment's ids.
payment_ids ids_for(uint64_t n, const std::string& merchant = default_merchant);

/// A paid checkout's objects in payment_keys() order (intent, attempt,
/// session, events, balance transaction, charge index). The intent's
/// metadata holds a NUL byte and non-ASCII: binary-safe all the way.
std::vector<archive::stored_object>
paid_payment(const payment_ids& p, const std::string& amount = "2500");

/// A finished refund of `p`'s charge (refund_keys() order: refund, op
/// record, balance transaction, refund.created, refund.updated,
/// charge.refunded), its id `re_<suffix>`; a failed one has no balance
/// transaction and no charge.refunded, and a refund.failed as its "U".
std::vector<archive::stored_object>
finished_refund(const payment_ids& p, const std::string& suffix,
                const std::string& amount = "1000",
                const std::string& status = "succeeded");

/// `p`'s session expired unpaid (session_keys() order: session, its
/// checkout.session.expired event, its intent's payment_intent.canceled,
/// the canceled intent; never tried, so the intent names no attempt).
std::vector<archive::stored_object> expired_session(const payment_ids& p);

/// A declined card attempt on `p`'s intent (attempt_keys() order: op
/// record, its payment_intent.payment_failed event), id `pa_<suffix>`.
std::vector<archive::stored_object>
declined_attempt(const payment_ids& p, const std::string& suffix);

} // namespace psp::test
