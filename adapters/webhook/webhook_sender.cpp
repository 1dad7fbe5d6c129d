#include "adapters/webhook/webhook_sender.hpp"

#include "actors/clock.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/crypto/webhook_signature.hpp"

#include "adapters/http_client/answer_to_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>


namespace psp::webhook {

namespace {

/// An endpoint's answer, brought back from the HTTP client's thread.
using answer_atom = caf::atom_constant<caf::atom("hookanswer")>;

struct sender_state {
  static inline const char* name = "psp.webhook_sender";
  http_client::open_requests<caf::typed_response_promise<delivery_attempt>>
    open_sends;
  /// Last member: destroyed first, so no answer outlives the rest.
  std::unique_ptr<http_client::multi_client> http;
};

bool is_http_url(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

caf::behavior sender_actor(caf::stateful_actor<sender_state>* self,
                           sender_settings cfg) {
  http_client::client_limits limits;
  limits.connections_per_host = cfg.connections_per_endpoint;
  limits.keep_body = false;
  limits.public_addresses_only = !cfg.private_addresses_allowed;
  limits.thread_name = "psp.webhook";
  self->state.http = std::make_unique<http_client::multi_client>(limits);
  return {
    [=](send_atom, const webhook_delivery& d) -> caf::result<delivery_attempt> {
      if (!is_http_url(d.url)) {
        return delivery_attempt{false, 0, "unsupported endpoint URL"};
      }
      auto ts = unix_now_s();
      http_client::post_request post;
      post.url = d.url;
      post.body = d.body;
      post.connect_timeout_ms = cfg.connect_timeout_ms;
      post.timeout_ms = cfg.read_timeout_ms;
      post.wait_max_ms = cfg.wait_max_ms;
      post.headers = {
        {"Stripe-Signature",
         crypto::stripe_signature_header(d.secret, ts, d.body)},
        {"webhook-id", d.event_id},
        {"webhook-timestamp", std::to_string(ts)},
        {"User-Agent", "psp-webhooks/1.0"},
      };
      if (auto standard = crypto::standard_webhook_signature(
            d.secret, d.event_id, ts, d.body)) {
        post.headers.emplace_back("webhook-signature", *standard);
      }
      auto& s = self->state;
      auto promise = self->make_response_promise<delivery_attempt>();
      auto ticket = s.open_sends.add(promise);
      s.http->post(std::move(post), http_client::answer_to_actor<answer_atom>(
                                      self->address(), ticket));
      return promise;
    },
    [=](answer_atom, uint64_t ticket, int32_t status, std::string&,
        std::string& error) { // the body is dropped (keep_body = false)
      auto promise = self->state.open_sends.take(ticket);
      if (!promise) {
        return;
      }
      if (status == 0) {
        promise->deliver(delivery_attempt{false, 0, std::move(error)});
        return;
      }
      bool ok = status >= 200 && status < 300;
      if (ok) {
        crash_point("after_webhook_sent");
      }
      promise->deliver(delivery_attempt{
        ok, status, ok ? "" : "HTTP " + std::to_string(status)});
    },
  };
}

} // namespace

webhook_sender spawn_webhook_sender(caf::actor_system& sys,
                                    const sender_settings& cfg) {
  return caf::actor_cast<webhook_sender>(sys.spawn(sender_actor, cfg));
}

} // namespace psp::webhook
