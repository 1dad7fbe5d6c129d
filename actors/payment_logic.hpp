#pragma once

// Pure decisions of the payment flow, unit-tested without an actor system:
// what a final network answer commits, how long to back off, when a webhook
// is tried next.

#include "actors/messages.hpp"
#include "actors/money.hpp"

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace psp {

/// Stable event id for an event caused by an attempt: the same attempt always
/// yields the same id, so a redelivered step cannot mint a second event.
std::string event_id_for(const std::string& attempt_id, const std::string& tag);

/// Ledger account names: one account per currency, never mixed
/// (docs/architecture.md lists them).
std::string merchant_pending_account(const std::string& merchant_id,
                                     const std::string& currency);
std::string receivable_account(const std::string& currency);
std::string fee_revenue_account(const std::string& currency);
/// Authorisation holds (memo accounts: a hold is not money moved yet).
std::string network_holds_account(const std::string& currency);
std::string merchant_held_account(const std::string& merchant_id,
                                  const std::string& currency);

/// The commit for a final (approved or declined) network answer to any
/// payment op: the record fields to set, the balanced postings, the balance
/// transaction and the events (docs/ledger.md has the postings of each flow).
/// A declined charge posts nothing; a refused capture, void or refund posts
/// nothing and leaves the intent as it was. Returns nullopt for a transient
/// answer or arithmetic overflow.
std::optional<payment_commit> build_commit(const payment_job& job,
                                           const charge_result& charge);

/// Stripe's error `code` for a network decline: the specific code for
/// expired_card, incorrect_cvc, incorrect_number and processing_error,
/// otherwise card_declined (with the reason in decline_code).
std::string decline_error_code(const std::string& decline_code);

/// Stripe's refund `failure_reason` for the network's refusal code: one of
/// its documented values (declined, expired_or_canceled_card,
/// insufficient_funds, lost_or_stolen_card, unknown), never the network's
/// own code, which the refund's op keeps as decline_code.
std::string refund_failure_reason(const std::string& decline_code);

/// True when a capture or void was refused because the network holds no
/// such authorisation any more: voided there, or unknown to it (lapsed, as
/// authorisations do after days).
bool authorization_gone(const std::string& decline_code);

/// True when the postings balance (debits == credits) and none is negative.
bool postings_balanced(const std::vector<ledger_posting>& postings);

/// Exponential backoff with full jitter: uniform in [base/2, min(max, base *
/// 2^retry)], `retry` counting from 0.
uint32_t backoff_ms(uint32_t retry, uint32_t base_ms, uint32_t max_ms,
                    std::minstd_rand& rng);

/// When a webhook delivery is tried next after `attempts` failed tries, given
/// the schedule of delays (ms) between tries; -1 once the schedule is used up
/// (the delivery goes to the dead-letter stream).
int64_t next_delivery_ms(int64_t now_ms, uint32_t attempts,
                         const std::vector<int64_t>& schedule_ms);

/// Standard Webhooks' schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
/// 10 h, 14 h, 20 h, 24 h (delays between consecutive tries).
std::vector<int64_t> default_webhook_schedule_ms();

} // namespace psp
