#include "adapters/webhook/webhook_sender.hpp"

#include "actors/clock.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/crypto/webhook_signature.hpp"

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <httplib.h>

#include <map>

namespace psp::webhook {

namespace {

struct sender_state {
  static inline const char* name = "psp.webhook_sender";
  /// Keep-alive clients per origin ("http://host:port"), bounded.
  std::map<std::string, std::unique_ptr<httplib::Client>> clients;
};

constexpr size_t clients_max = 256;

/// Splits a URL into origin and path ("http://h:1/a?b" -> "http://h:1",
/// "/a?b"); false when it is not http(s).
bool split_url(const std::string& url, std::string& origin,
               std::string& path) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return false;
  }
  auto scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return false;
  }
  auto path_start = url.find('/', scheme_end + 3);
  origin = url.substr(0, path_start);
  path = path_start == std::string::npos ? "/" : url.substr(path_start);
  return true;
}

httplib::Client& client_for(sender_state& st, const sender_settings& cfg,
                            const std::string& origin) {
  auto i = st.clients.find(origin);
  if (i != st.clients.end()) {
    return *i->second;
  }
  if (st.clients.size() >= clients_max) {
    st.clients.erase(st.clients.begin());
  }
  auto cli = std::make_unique<httplib::Client>(origin);
  cli->set_tcp_nodelay(true);
  cli->set_keep_alive(true);
  cli->set_connection_timeout(std::chrono::milliseconds{cfg.connect_timeout_ms});
  cli->set_read_timeout(std::chrono::milliseconds{cfg.read_timeout_ms});
  cli->set_write_timeout(std::chrono::milliseconds{cfg.read_timeout_ms});
  return *st.clients.emplace(origin, std::move(cli)).first->second;
}

webhook_sender::behavior_type
sender_worker(webhook_sender::stateful_pointer<sender_state> self,
              sender_settings cfg) {
  return {
    [=](send_atom, const webhook_delivery& d) -> delivery_attempt {
      std::string origin;
      std::string path;
      if (!split_url(d.url, origin, path)) {
        return {false, 0, "unsupported endpoint URL"};
      }
      auto ts = unix_now_s();
      auto standard = crypto::standard_webhook_signature(d.secret, d.event_id,
                                                         ts, d.body);
      httplib::Headers headers{
        {"Stripe-Signature",
         crypto::stripe_signature_header(d.secret, ts, d.body)},
        {"webhook-id", d.event_id},
        {"webhook-timestamp", std::to_string(ts)},
        {"User-Agent", "psp-webhooks/1.0"},
      };
      if (standard) {
        headers.emplace("webhook-signature", *standard);
      }
      auto& cli = client_for(self->state, cfg, origin);
      auto res = cli.Post(path.c_str(), headers, d.body, "application/json");
      if (!res) {
        self->state.clients.erase(origin); // reconnect next time
        return {false, 0, httplib::to_string(res.error())};
      }
      bool ok = res->status >= 200 && res->status < 300;
      if (ok) {
        crash_point("after_webhook_sent");
      }
      return {ok, res->status, ok ? "" : "HTTP " + std::to_string(res->status)};
    },
  };
}

} // namespace

webhook_sender spawn_webhook_sender(caf::actor_system& sys,
                                    const sender_settings& cfg,
                                    size_t workers) {
  auto factory = [&sys, cfg] {
    return caf::actor_cast<caf::actor>(
      sys.spawn<caf::detached>(sender_worker, cfg));
  };
  auto pool = caf::actor_pool::make(sys.dummy_execution_unit(), workers,
                                    factory, caf::actor_pool::round_robin());
  return caf::actor_cast<webhook_sender>(pool);
}

} // namespace psp::webhook
