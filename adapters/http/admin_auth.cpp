#include "adapters/http/admin_auth.hpp"

#include "adapters/crypto/digest.hpp"
#include "adapters/http/api_errors.hpp"

#include <httplib.h>

namespace psp::http {

bool admin_allowed(api_context& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  auto& token = ctx.settings.admin_token;
  auto header = req.get_header_value("Authorization");
  const std::string bearer = "Bearer ";
  if (token.empty() || header.compare(0, bearer.size(), bearer) != 0
      || !crypto::constant_time_equal(header.substr(bearer.size()), token)) {
    api_error e;
    e.status = 401;
    e.message = token.empty() ? "The admin API is disabled (no admin token "
                                "configured)."
                              : "Invalid admin token.";
    write_error(res, e);
    return false;
  }
  return true;
}

} // namespace psp::http
