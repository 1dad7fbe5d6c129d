#pragma once

// Which of a payment's objects the archive takes, and whether the payment
// may be archived now. Pure: the archiver (adapters/redis/archive_store.cpp)
// reads the objects atomically, asks here, and writes only if nothing
// changed since that read.

#include "adapters/archive/archive_codec.hpp"

#include <optional>
#include <string>
#include <vector>

namespace psp::archive {

/// What the intent says about its objects (HMGET of these fields).
struct intent_refs {
  std::string status;
  std::string attempt;
  std::string session;        ///< "" for an intent made through the API
  std::string latest_charge;
};
inline const std::vector<std::string> intent_ref_fields{
  "status", "attempt", "session", "latest_charge"};

/// The Redis keys of a paid charge's objects, the intent first: intent,
/// attempt, session (if any), its two events, balance transaction, charge
/// index. nullopt when the intent is not a paid charge (nothing to take).
std::optional<std::vector<std::string>>
payment_keys(const std::string& intent_id, const intent_refs& refs);

enum class readiness {
  ready,
  /// A webhook of its events is still pending: ask again later.
  later,
  /// Not a plain paid charge (refunded or refunding, manual capture, an
  /// object missing): it stays as it is.
  never,
};

/// `objects` as read for `keys` (payment_keys of the intent; an object that
/// does not exist has no fields). Never when the intent as read names other
/// objects than `keys`.
readiness judge(const std::string& intent_id,
                const std::vector<std::string>& keys,
                const std::vector<stored_object>& objects);

} // namespace psp::archive
