#include "adapters/http/stored_event.hpp"

#include "adapters/http/request_support.hpp"

namespace psp::http {

namespace {

/// Stripe's pending_webhooks: the event's deliveries not (yet) delivered,
/// from their records in the event's hash (`wh:<endpoint>` =
/// `status|attempts|...`, decision 21); a dead-lettered one counts until a
/// replay delivers it, a dropped one (its endpoint deleted or disabled)
/// never will be and does not.
int64_t undelivered_webhooks(const render::fields& f) {
  int64_t n = 0;
  for (auto& [field, record] : f) {
    auto status = record.substr(0, record.find('|'));
    if (field.rfind("wh:", 0) == 0 && status != "delivered"
        && status != "dropped") {
      ++n;
    }
  }
  return n;
}

} // namespace

nlohmann::json render_stored_event(const std::string& id, render::fields& f) {
  auto out = render::event(id, f["type"],
                           parse_count(f["created"]).value_or(0), f["object"],
                           f["snapshot"]);
  out["pending_webhooks"] = undelivered_webhooks(f);
  return out;
}

} // namespace psp::http
