#include "adapters/http/admin_auth.hpp"

#include "adapters/crypto/digest.hpp"
#include "adapters/http/api_errors.hpp"
#include "adapters/http/auth_failure_log.hpp"
#include "adapters/http/text_checks.hpp"

#include <httplib.h>

#include <optional>
#include <string_view>

namespace psp::http {

namespace {

/// The token of `Authorization: Bearer <token>` (the scheme's name in any
/// case, RFC 9110 11.1); nullopt for another scheme.
std::optional<std::string> bearer_token(const std::string& header) {
  constexpr std::string_view bearer = "bearer ";
  if (!starts_with_ignoring_case(header, bearer)) {
    return std::nullopt;
  }
  return header.substr(bearer.size());
}

/// Why the request is refused, or nullopt when it carries the token. Each
/// case says what to change: a missing header is not a wrong token.
std::optional<std::string> refusal(const std::string& token,
                                   const std::string& header) {
  if (token.empty()) {
    return "The admin API is disabled (no admin token configured).";
  }
  if (header.empty()) {
    return "You did not provide an admin token. Send it in the "
           "Authorization header, using Bearer auth (e.g. 'Authorization: "
           "Bearer YOUR_ADMIN_TOKEN'); it is the node's --psp.admin-token "
           "(or PSP_ADMIN_TOKEN).";
  }
  auto given = bearer_token(header);
  if (!given) {
    return "Invalid authorization header: the admin API takes Bearer auth "
           "(Authorization: Bearer YOUR_ADMIN_TOKEN).";
  }
  if (crypto::constant_time_equal(*given, token)) {
    return std::nullopt;
  }
  if (given->rfind("sk_", 0) == 0) {
    return "Invalid admin token: a merchant's secret key is not the admin "
           "token.";
  }
  return "Invalid admin token.";
}

} // namespace

bool admin_allowed(api_context& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  auto why = refusal(ctx.settings.admin_token,
                     req.get_header_value("Authorization"));
  if (!why) {
    return true;
  }
  // The token is never shown, not even in part: it has no public prefix.
  log_auth_failure("admin",
                   req.get_header_value("Authorization").empty()
                     ? "no_token"
                     : "wrong_token",
                   "", req.remote_addr);
  api_error e;
  e.status = 401;
  e.message = *why;
  write_error(res, e);
  return false;
}

} // namespace psp::http
