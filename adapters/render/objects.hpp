#pragma once

// Stripe-shaped JSON for the objects stored as Redis hashes. The one renderer
// for API answers, event payloads and webhook bodies, so the three agree
// byte for byte.

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace psp::render {

/// A Redis hash as field -> value.
using fields = std::unordered_map<std::string, std::string>;

/// The API version string our objects follow.
inline constexpr const char* api_version = "2024-06-20";

nlohmann::json checkout_session(const fields& cs);
nlohmann::json payment_intent(const fields& pi);

/// Stripe's `decline_code` for a network's decline reason: the network's
/// generic `card_declined` is Stripe's `generic_decline`; the rest
/// (`insufficient_funds`, `lost_card`, `expired_card`, ...) keep their name.
std::string stripe_decline_code(const std::string& network_code);
/// The intent's charge (we keep no separate charge records: one charge per
/// intent, its fields live on the intent).
nlohmann::json charge(const fields& pi);
nlohmann::json refund(const fields& re);
/// A card PaymentMethod's fields besides its id, named as payment_method
/// reads them and as the attempt record keeps them (what the API keeps of a
/// card: never the number or the CVC). The commit step's `$declined_card`
/// copies them in this order.
inline constexpr std::array<const char*, 5> card_keys{
  "brand", "last4", "exp_month", "exp_year", "created"};

/// A card PaymentMethod from `id`, the card_keys fields and, when given,
/// `billing_details` (compact JSON).
nlohmann::json payment_method(const fields& card);
nlohmann::json balance_transaction(const fields& txn);
nlohmann::json webhook_endpoint(const fields& we, bool with_secret);

/// An event whose object snapshot is a JSON array of alternating hash
/// fields and values (what the commit step stored). Snapshots leave out the
/// bookkeeping fields listed in adapters/redis/lua_events.cpp: a renderer
/// that starts to use one must take it off that list.
nlohmann::json event(const std::string& id, const std::string& type,
                     int64_t created_s, const std::string& object_kind,
                     const std::string& snapshot_json);

/// event(...) serialized: the webhook body.
std::string event_body(const std::string& id, const std::string& type,
                       int64_t created_s, const std::string& object_kind,
                       const std::string& snapshot_json);

} // namespace psp::render
