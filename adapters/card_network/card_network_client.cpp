#include "adapters/card_network/card_network_client.hpp"

#include "adapters/card_network/network_answer.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/crypto/card_vault.hpp"
#include "adapters/crypto/random_id.hpp"

#include "adapters/http_client/answer_to_actor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace psp::card {

namespace {

using json = nlohmann::json;

/// The network's answer, brought back from the HTTP client's thread.
using answer_atom = caf::atom_constant<caf::atom("netanswer")>;

struct open_call {
  payment_op op;
  caf::typed_response_promise<charge_result> promise;
  std::string attempt_id; ///< for the log line of a failed call
  std::string intent_id;
  std::chrono::steady_clock::time_point sent;
  std::string idempotency_key; ///< for the log line of a key conflict
};

struct client_state {
  static inline const char* name = "psp.card_network_client";
  std::unique_ptr<crypto::card_vault> vault;
  std::shared_ptr<network_counters> counters; ///< may be null
  http_client::open_requests<open_call> open_calls;
  /// Last member: destroyed first, so no answer outlives the rest.
  std::unique_ptr<http_client::multi_client> http;
};

bool break_network_idempotency() {
  static const bool broken = [] {
    const char* v = std::getenv("PSP_TEST_BREAK");
    return v != nullptr && std::string{v} == "network_idempotency";
  }();
  return broken;
}


/// Splits "pan|mm|yyyy"; false if malformed.
bool split_card(const std::string& plain, std::string& pan, int& month,
                int& year) {
  auto a = plain.find('|');
  auto b = plain.find('|', a == std::string::npos ? a : a + 1);
  if (a == std::string::npos || b == std::string::npos) {
    return false;
  }
  pan = plain.substr(0, a);
  try {
    month = std::stoi(plain.substr(a + 1, b - a - 1));
    year = std::stoi(plain.substr(b + 1));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

/// Path and body of a capture, void or refund of an earlier charge.
void describe_follow_up(const charge_request& req,
                        http_client::post_request& post) {
  json body = json::object();
  switch (req.op) {
    case payment_op::capture:
      post.url += "/v1/charges/" + req.network_ref + "/capture";
      body["amount"] = req.amount_minor;
      break;
    case payment_op::void_auth:
      post.url += "/v1/charges/" + req.network_ref + "/void";
      break;
    default:
      post.url += "/v1/refunds";
      body["charge"] = req.network_ref;
      body["amount"] = req.amount_minor;
      break;
  }
  // Strings from a decoded job: replace invalid UTF-8 rather than throw in
  // the actor's handler (which would end the card client).
  post.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Path and body of a charge or authorisation; false if the sealed card
/// cannot be opened.
bool describe_charge(const crypto::card_vault& vault,
                     const charge_request& req,
                     http_client::post_request& post) {
  auto plain = vault.open(req.sealed_card, req.attempt_id);
  std::string pan;
  int month = 0;
  int year = 0;
  if (!plain || !split_card(*plain, pan, month, year)) {
    return false;
  }
  json body{{"amount", req.amount_minor}, {"currency", req.currency},
            {"card_number", pan},          {"exp_month", month},
            {"exp_year", year},            {"merchant", req.merchant_id},
            {"reference", req.intent_id},
            {"capture", req.op != payment_op::authorize}};
  post.url += "/v1/charges";
  post.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return true;
}

static_assert(static_cast<size_t>(payment_op::refund) + 1
                == network_counters::ops);
static_assert(static_cast<size_t>(charge_outcome::transient) + 1
                == network_counters::outcomes);

/// Counts the answer, and logs a call that brought no final one: the
/// payment retries it, and without a line an outage of the network shows
/// nowhere until payments are dead-lettered (the on-call audit).
void account_for(client_state& st, const open_call& call,
                 const charge_result& answer) {
  if (st.counters) {
    auto& c = *st.counters;
    c.count(static_cast<size_t>(call.op), static_cast<size_t>(answer.outcome));
    c.call_us_total += static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - call.sent)
        .count());
    if (answer.key_conflict) {
      ++c.key_conflicts;
    }
  }
  if (answer.key_conflict) {
    // Nothing else says that Redis lost a payment nobody saw go (decision
    // 70): the network names it by its key.
    spdlog::error("event=network_key_conflict attempt={} intent={} op={} "
                  "key={} action={} hint=\"the network holds another "
                  "request under this key: a payment Redis lost? reconcile "
                  "(docs/faults.md)\"",
                  call.attempt_id, call.intent_id, to_string(call.op),
                  call.idempotency_key,
                  answer.outcome == charge_outcome::declined
                    ? "declined_checkout_closed"
                    : "dead_lettered");
    return;
  }
  bool follow_up = call.op == payment_op::capture
                   || call.op == payment_op::void_auth
                   || call.op == payment_op::refund;
  if (follow_up && answer.outcome == charge_outcome::declined
      && (answer.decline_code == "charge_already_captured"
          || answer.decline_code == "amount_too_large")) {
    // The node checked the intent before asking, so the network's charge
    // is ahead of Redis: a capture or refund Redis lost (decision 70).
    spdlog::error("event=network_charge_ahead attempt={} intent={} op={} "
                  "decline_code={} hint=\"the network's charge has moved on "
                  "from what Redis holds: a capture or refund Redis lost? "
                  "reconcile (docs/faults.md)\"",
                  call.attempt_id, call.intent_id, to_string(call.op),
                  answer.decline_code);
  }
  if (answer.outcome == charge_outcome::transient) {
    spdlog::warn("event=card_network_call_failed attempt={} intent={} op={} "
                 "error=\"{}\"",
                 call.attempt_id, call.intent_id, to_string(call.op),
                 answer.message);
  }
}

caf::behavior client_actor(caf::stateful_actor<client_state>* self,
                           client_settings cfg, crypto::card_vault vault,
                           std::shared_ptr<network_counters> counters) {
  auto& st = self->state;
  st.vault = std::make_unique<crypto::card_vault>(std::move(vault));
  st.counters = std::move(counters);
  http_client::client_limits limits;
  limits.connections_per_host = cfg.connections;
  limits.connections_cached = cfg.connections;
  // As many as the network's latency needs, not always the most it may get.
  limits.connections_min = std::min(cfg.connections_min, cfg.connections);
  limits.thread_name = "psp.card";
  st.http = std::make_unique<http_client::multi_client>(limits);
  return {
    [=](charge_atom, const charge_request& req)
      -> caf::result<charge_result> {
      auto& s = self->state;
      http_client::post_request post;
      post.url = cfg.base_url;
      post.connect_timeout_ms = cfg.connect_timeout_ms;
      post.timeout_ms = cfg.read_timeout_ms;
      // PSP_TEST_BREAK=network_idempotency sends a fresh key per try: a
      // deliberately broken guarantee that the fault checker must catch.
      post.headers.emplace_back(
        "Idempotency-Key",
        break_network_idempotency()
          ? req.idempotency_key + "-" + crypto::random_base62(8)
          : req.idempotency_key);
      if (req.op == payment_op::capture || req.op == payment_op::void_auth
          || req.op == payment_op::refund) {
        describe_follow_up(req, post);
      } else if (!describe_charge(*s.vault, req, post)) {
        spdlog::error("event=card_unsealable attempt={}", req.attempt_id);
        return transient_answer("sealed card cannot be opened");
      }
      auto promise = self->make_response_promise<charge_result>();
      auto ticket = s.open_calls.add(open_call{req.op, promise, req.attempt_id,
                                               req.intent_id,
                                               std::chrono::steady_clock::now(),
                                               req.idempotency_key});
      s.http->post(std::move(post), http_client::answer_to_actor<answer_atom>(
                                      self->address(), ticket));
      return promise;
    },
    [=](answer_atom, uint64_t ticket, int32_t status, std::string& body,
        std::string& error) {
      auto call = self->state.open_calls.take(ticket);
      if (!call) {
        return;
      }
      crash_point("after_network_answer");
      http_client::post_response res{status, std::move(body), std::move(error)};
      auto answer =
        interpret_network_answer(res.status, res.body, res.error, call->op);
      account_for(self->state, *call, answer);
      call->promise.deliver(std::move(answer));
    },
  };
}

} // namespace

std::string card_plaintext(const std::string& pan, int exp_month,
                           int exp_year) {
  return pan + "|" + std::to_string(exp_month) + "|" + std::to_string(exp_year);
}

card_network spawn_card_network_client(
  caf::actor_system& sys, const client_settings& cfg,
  const crypto::card_vault& vault, std::shared_ptr<network_counters> counters) {
  return caf::actor_cast<card_network>(
    sys.spawn(client_actor, cfg, vault, std::move(counters)));
}

} // namespace psp::card
