#pragma once

// An Idempotency-Key answer stored by reference (docs/decisions.md 22):
// instead of the answer's bytes, the key of the object it rendered and the
// values its mutable fields had then. A replay renders the object as it is
// now with those values set back, which is the answer as first given as
// long as every field that changes after creation is listed here.

#include "adapters/render/objects.hpp"

#include <optional>
#include <string>

namespace psp::http {

/// The mutable fields of a checkout session as created: their values in a
/// fixed order joined by `|` (empty for one the session did not have), or
/// a JSON object (null for one it did not have) when a value is empty or
/// holds a `|` or `{`. render_stored_reference reads both.
std::string session_as_created(const render::fields& created);

/// The answer stored as `ref` (a Redis key) and `as_created`, rendered from
/// the object's fields `now`; nullopt when the object is gone or `ref` names
/// a kind without a renderer here.
std::optional<std::string> render_stored_reference(
  const std::string& ref, render::fields now, const std::string& as_created);

} // namespace psp::http
