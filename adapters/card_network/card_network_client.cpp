#include "adapters/card_network/card_network_client.hpp"

#include "adapters/crash_point.hpp"
#include "adapters/crypto/card_vault.hpp"
#include "adapters/crypto/random_id.hpp"

#include <cstdlib>

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace psp::card {

namespace {

using json = nlohmann::json;

struct client_state {
  static inline const char* name = "psp.card_network_client";
  std::unique_ptr<httplib::Client> http;
  std::unique_ptr<crypto::card_vault> vault;
};

bool break_network_idempotency() {
  static const bool broken = [] {
    const char* v = std::getenv("PSP_TEST_BREAK");
    return v != nullptr && std::string{v} == "network_idempotency";
  }();
  return broken;
}

charge_result transient(std::string why) {
  charge_result out;
  out.outcome = charge_outcome::transient;
  out.message = std::move(why);
  return out;
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

charge_result interpret(const httplib::Result& res, payment_op op) {
  if (!res) {
    return transient("card network: " + httplib::to_string(res.error()));
  }
  auto body = json::parse(res->body, nullptr, false);
  bool follow_up = op == payment_op::capture || op == payment_op::void_auth
                   || op == payment_op::refund;
  if (follow_up && (res->status == 400 || res->status == 404)
      && body.is_object() && body["error"].is_object()) {
    // A capture, void or refund the network refuses for good (already
    // captured, voided, over the refundable amount): a final answer.
    charge_result out;
    out.outcome = charge_outcome::declined;
    out.decline_code = body["error"].value("code", "network_refused");
    out.message = body["error"].value("message", "The card network refused.");
    return out;
  }
  if (res->status == 200 && body.is_object()) {
    charge_result out;
    out.outcome = charge_outcome::approved;
    out.charge_id = body.value("id", "");
    return out;
  }
  if (res->status == 402 && body.is_object()) {
    charge_result out;
    out.outcome = charge_outcome::declined;
    out.charge_id = body.value("id", "");
    out.decline_code = body.value("decline_code", "card_declined");
    out.message = body.value("message", "Your card was declined.");
    return out;
  }
  // 5xx, 409 and anything unexpected: the outcome is unknown, never guessed.
  return transient("card network answered HTTP " + std::to_string(res->status));
}

/// Capture, void or refund of an earlier charge at the network.
charge_result follow_up(httplib::Client& http, const httplib::Headers& headers,
                        const charge_request& req) {
  std::string path;
  json body = json::object();
  switch (req.op) {
    case payment_op::capture:
      path = "/v1/charges/" + req.network_ref + "/capture";
      body["amount"] = req.amount_minor;
      break;
    case payment_op::void_auth:
      path = "/v1/charges/" + req.network_ref + "/void";
      break;
    default:
      path = "/v1/refunds";
      body["charge"] = req.network_ref;
      body["amount"] = req.amount_minor;
      break;
  }
  auto res = http.Post(path, headers, body.dump(), "application/json");
  crash_point("after_network_answer");
  return interpret(res, req.op);
}

card_network::behavior_type
client_worker(card_network::stateful_pointer<client_state> self,
              client_settings cfg, crypto::card_vault vault) {
  auto& st = self->state;
  st.http = std::make_unique<httplib::Client>(cfg.base_url);
  st.http->set_tcp_nodelay(true);
  st.http->set_keep_alive(true);
  st.http->set_connection_timeout(std::chrono::milliseconds{cfg.connect_timeout_ms});
  st.http->set_read_timeout(std::chrono::milliseconds{cfg.read_timeout_ms});
  st.http->set_write_timeout(std::chrono::milliseconds{cfg.read_timeout_ms});
  st.vault = std::make_unique<crypto::card_vault>(std::move(vault));
  return {
    [=](charge_atom, const charge_request& req) -> charge_result {
      auto& s = self->state;
      // PSP_TEST_BREAK=network_idempotency sends a fresh key per try: a
      // deliberately broken guarantee that the fault checker must catch.
      httplib::Headers headers{
        {"Idempotency-Key", break_network_idempotency()
                              ? req.attempt_id + "-" + crypto::random_base62(8)
                              : req.attempt_id}};
      if (req.op == payment_op::capture || req.op == payment_op::void_auth
          || req.op == payment_op::refund) {
        return follow_up(*s.http, headers, req);
      }
      auto plain = s.vault->open(req.sealed_card, req.attempt_id);
      std::string pan;
      int month = 0;
      int year = 0;
      if (!plain || !split_card(*plain, pan, month, year)) {
        spdlog::error("event=card_unsealable attempt={}", req.attempt_id);
        return transient("sealed card cannot be opened");
      }
      json body{{"amount", req.amount_minor}, {"currency", req.currency},
                {"card_number", pan},          {"exp_month", month},
                {"exp_year", year},            {"merchant", req.merchant_id},
                {"reference", req.intent_id},
                {"capture", req.op != payment_op::authorize}};
      auto res = s.http->Post("/v1/charges", headers, body.dump(),
                              "application/json");
      crash_point("after_network_answer");
      return interpret(res, req.op);
    },
  };
}

} // namespace

std::string card_plaintext(const std::string& pan, int exp_month,
                           int exp_year) {
  return pan + "|" + std::to_string(exp_month) + "|" + std::to_string(exp_year);
}

card_network spawn_card_network_client(caf::actor_system& sys,
                                       const client_settings& cfg,
                                       const crypto::card_vault& vault,
                                       size_t workers) {
  auto factory = [&sys, cfg, vault] {
    return caf::actor_cast<caf::actor>(
      sys.spawn<caf::detached>(client_worker, cfg, vault));
  };
  auto pool = caf::actor_pool::make(sys.dummy_execution_unit(), workers,
                                    factory, caf::actor_pool::round_robin());
  return caf::actor_cast<card_network>(pool);
}

} // namespace psp::card
