#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include "adapters/redis/keys.hpp"

#include <httplib.h>

namespace psp::http {

void add_payment_intent_routes(httplib::Server& srv, api_context& ctx) {
  srv.Get(R"(/v1/payment_intents/([A-Za-z0-9_]+))",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            auto who = authenticate(ctx, req);
            if (auto* err = std::get_if<api_error>(&who)) {
              return write_error(res, *err);
            }
            std::string id = req.matches[1];
            auto conn = ctx.redis.acquire();
            auto reply = conn->query({"HGETALL", keys::intent(id)});
            if (!reply) {
              return write_error(res, unavailable("Reading payment intents"));
            }
            auto f = to_fields(*reply);
            if (f.empty() || f["merchant"] != std::get<merchant_info>(who).id) {
              return write_error(res, not_found("payment_intent", id));
            }
            write_json(res, render::payment_intent(f).dump());
          });
}

} // namespace psp::http
