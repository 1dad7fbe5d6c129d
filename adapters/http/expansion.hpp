#pragma once

// `expand[]` on retrieves and on the POSTs that answer the same objects, as
// Stripe's clients send it (`expand[]=x`, `expand[0]=x`; in a POST's form
// body): an id in the answer replaced by its object, along a
// dotted path (`latest_charge.balance_transaction`). Only the paths
// integrations commonly ask for; any other is a 400 naming it, never
// silently left an id (a client that expanded it reads an object).

#include "adapters/http/api_context.hpp"
#include "adapters/http/api_errors.hpp"
#include "adapters/render/objects.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}

namespace psp::http {

/// The object types a retrieve answers with, as expansion knows them.
enum class expandable { payment_intent, charge, refund, checkout_session };

/// The paths `req` asks to expand on an answer of type `type` (none when
/// it asks for none); a 400 (`param: expand`) for one that cannot be.
std::variant<std::vector<std::string>, api_error>
expand_paths(const httplib::Request& req, expandable type);

/// Replaces the ids at `paths` in `body` (an answer of type `type`,
/// rendered from `fields`) with their objects. The objects named are the
/// same merchant's by construction (an intent's charge, a session's
/// intent, a refund's intent); an error when Redis could not be read.
std::optional<api_error> expand(api_context& ctx, expandable type,
                                const render::fields& fields,
                                nlohmann::json& body,
                                const std::vector<std::string>& paths);

/// A 400 for a GET that asks to expand (any parameter spelled `expand…`)
/// where nothing expands: every GET but the four retrieves above (lists
/// and other objects' retrieves would otherwise answer ids silently).
std::optional<api_error> expand_elsewhere(const httplib::Request& req);

/// Answers `body` (rendered from `fields`) with the paths `req` asks
/// expanded: 200, or the 400 of a path that cannot be, or a 503.
void write_expanded(api_context& ctx, const httplib::Request& req,
                    httplib::Response& res, expandable type,
                    const render::fields& fields, nlohmann::json body);

/// Runs a POST whose answer is a `type` with the `expand[]` of its form
/// body: the paths are checked before `run` (a bad one is a 400 and
/// nothing runs), and a 200 answer, fresh or replayed under its
/// Idempotency-Key, comes back with them expanded from what Redis holds
/// now (a 503 to retry with the same key if that read fails).
void run_expanding(api_context& ctx, expandable type,
                   const httplib::Request& req, httplib::Response& res,
                   const std::function<void()>& run);

} // namespace psp::http
