#pragma once

// Ids of objects created by a request. Under an Idempotency-Key they are
// derived from the key (HMAC with a cluster-wide secret, so still
// unguessable): if the request runs again because its stored answer was
// lost (a crash between the write and the store, a claim that expired), it
// names the same objects, finds them, and answers with them instead of
// creating a second session. Without a key they are random.

#include <string>

namespace psp::http {

/// While alive, object_id() derives from `seed` (merchant + key).
class derived_ids_scope {
public:
  derived_ids_scope(const std::string& secret, const std::string& seed);
  ~derived_ids_scope();
  derived_ids_scope(const derived_ids_scope&) = delete;
  derived_ids_scope& operator=(const derived_ids_scope&) = delete;
};

/// prefix + 24 base62 characters: derived inside a scope, else random.
std::string object_id(const std::string& prefix);

/// True while a derived_ids_scope is active on this thread.
bool ids_are_derived();

/// A typed card (hosted page, payment_method_data) becomes a PaymentMethod
/// named after the attempt that carries it: `pa_X` -> `pm_X`, so retrieving
/// it needs no index of its own (docs/decisions.md 32).
std::string card_payment_method_id(const std::string& attempt_id);

/// The attempt behind such a PaymentMethod id; "" when `id` is not one.
std::string attempt_of_payment_method(const std::string& id);

} // namespace psp::http
