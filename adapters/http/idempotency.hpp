#pragma once

// Stripe's Idempotency-Key semantics for POST requests, per merchant: the
// first request claims the key atomically with a fingerprint of its method,
// path and parameters; its answer is stored for replay (byte for byte, with
// `Idempotent-Replayed: true`). A different request under the same key is a
// 400 idempotency_error; a concurrent one a 409. Validation failures are not
// stored, so a corrected retry with the same key runs. A claim is a lease:
// after a crash it expires and a retry runs again.

#include "adapters/http/api_context.hpp"
#include "adapters/http/api_errors.hpp"

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace httplib {
struct Request;
struct Response;
class Server;
} // namespace httplib

namespace psp::redis {
struct value;
} // namespace psp::redis

namespace psp::http {

using route_handler
  = std::function<void(const httplib::Request&, httplib::Response&)>;

/// Registers a POST route whose answers honour Idempotency-Key.
void post_idempotent(httplib::Server& srv, api_context& ctx,
                     const std::string& pattern, route_handler handler);

/// The same for a route answering an object `expand[]` knows (expansion.hpp:
/// an enum of it, declared here to keep that header out of this one).
enum class expandable;
void post_idempotent(httplib::Server& srv, api_context& ctx,
                     const std::string& pattern, expandable answers,
                     route_handler handler);

/// Whether an answer with this status is stored for replay.
bool stores_answer(int status);

/// What a handler's answer is to the Idempotency-Key layer where its status
/// alone does not say. Set on the handler's thread (mark_answer), read when
/// the handler returns; without a key it has no effect.
enum class answer_kind {
  by_status, ///< stored or not as stores_answer(status) says
  executed,  ///< the request ran its network step: stored, even as a 4xx,
             ///< so a retry learns the outcome instead of the state after it
  pending,   ///< the outcome is not known yet (the wait for the network ran
             ///< out): not stored, and the key keeps its seed, so a retry
             ///< finds the step this run queued and answers its outcome
};
void mark_answer(answer_kind kind);

/// An idempotent request whose handler stores the answer in the same Redis
/// step as its writes (create-checkout): no claim, so one round trip, and no
/// window in which objects exist without their stored answer.
struct idempotent_write {
  std::string key;       ///< the Idempotency-Key header; empty: none sent
  std::string redis_key; ///< where the answer is stored
  std::string fingerprint;
};

/// The request's key for `merchant_id`, fingerprinted under `secret` over
/// its decoded parameters; an error when the key is too long.
std::variant<idempotent_write, api_error>
idempotent_write_for(std::string_view secret, const httplib::Request& req,
                     const std::string& merchant_id,
                     const nlohmann::json& params);

/// Answers a key found in use: {'replay', status, body, content type},
/// {'replay_ref', status, ref, as_created, the object's fields now} (an
/// answer stored by reference, adapters/http/stored_reference.hpp),
/// {'mismatch'} or {'in_use'}. False for any other reply.
bool answer_stored_verdict(const redis::value& reply, const std::string& key,
                           httplib::Response& res);

/// For a request refused before its Redis step (a validation error that
/// depends on time, say): replays the key's stored answer, or refuses a key
/// used with other parameters, as a claim would have done first. False when
/// the key holds nothing finished (then the refusal stands).
bool answer_if_key_used(api_context& ctx, const idempotent_write& w,
                        httplib::Response& res);

/// The key of request fingerprints, derived from the vault key every node
/// of a Redis shares (decision 43), so any node recognises a retry.
std::string fingerprint_secret(std::string_view vault_key);

/// Fingerprint of a request: HMAC-SHA256 under `secret` over method, path
/// and its parameters in canonical order (reordered form fields are the
/// same request), without a card's `cvc`. It is kept in Redis for a day beside
/// the answer, and a request may carry a card: an unkeyed hash of a card
/// number and CVC is found again by trying the few numbers a BIN, last4
/// and expiry leave (a security audit did it in 272 tries), and a CVC may
/// not be kept in any form once the payment is authorised.
std::string request_fingerprint(std::string_view secret,
                                const std::string& method,
                                const std::string& path,
                                const std::string& body);
std::string request_fingerprint(std::string_view secret,
                                const std::string& method,
                                const std::string& path,
                                const nlohmann::json& params);

} // namespace psp::http
