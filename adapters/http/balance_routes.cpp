#include "adapters/http/expansion.hpp"
#include "adapters/http/list_pagination.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"
#include "adapters/http/text_checks.hpp"

#include "actors/currency.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"

#include <httplib.h>

#include <map>
#include <set>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// Stripe's balance from the ledger: per currency, the merchant's pending
/// account (credit-normal, so the stored debit-minus-credit is negated).
/// Nothing is ever paid out or made available here, so `available` is 0.
void retrieve_balance(api_context& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto& merchant = std::get<merchant_info>(who);
  auto conn = ctx.redis.acquire();
  auto reply = conn->query({"HGETALL", keys::merchant_balances(merchant.id)});
  if (!reply) {
    return write_error(res, unavailable("Reading the balance"));
  }
  auto prefix = "merchant:" + merchant.id + ":pending:";
  std::map<std::string, int64_t> pending;
  for (auto& [account, value] : to_fields(*reply)) {
    if (account.rfind(prefix, 0) == 0) {
      pending[account.substr(prefix.size())] = -std::stoll(value);
    }
  }
  auto available = json::array();
  auto pending_out = json::array();
  for (auto& [currency, amount] : pending) {
    available.push_back({{"amount", 0},
                         {"currency", currency},
                         {"source_types", {{"card", 0}}}});
    pending_out.push_back({{"amount", amount},
                           {"currency", currency},
                           {"source_types", {{"card", amount}}}});
  }
  write_json(res, json{{"object", "balance"},
                       {"available", available},
                       {"livemode", false},
                       {"pending", pending_out}}
                    .dump());
}

void retrieve_balance_transaction(api_context& ctx,
                                  const httplib::Request& req,
                                  httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  std::string id = req.matches[1];
  auto f = read_owned(ctx, std::get<merchant_info>(who),
                      keys::balance_transaction(id), "balance_transaction", id,
                      "balance transactions");
  if (auto* err = std::get_if<api_error>(&f)) {
    return write_error(res, *err);
  }
  write_json(res,
             render::balance_transaction(std::get<render::fields>(f)).dump());
}

/// Stripe's balance transaction types: a type we never write is a valid
/// filter with an empty answer; anything else is a typo the caller
/// should hear about rather than get an empty list.
bool known_balance_transaction_type(const std::string& type) {
  static const std::set<std::string> types = {
    "adjustment", "advance", "advance_funding", "anticipation_repayment",
    "application_fee", "application_fee_refund", "charge",
    "climate_order_purchase", "climate_order_refund",
    "connect_collection_transfer", "contribution",
    "issuing_authorization_hold", "issuing_authorization_release",
    "issuing_dispute", "issuing_transaction", "obligation_outbound",
    "obligation_reversal_inbound", "payment", "payment_failure_refund",
    "payment_network_reserve_hold", "payment_network_reserve_release",
    "payment_refund", "payment_reversal", "payment_unreconciled", "payout",
    "payout_cancel", "payout_failure", "payout_minimum_balance_hold",
    "payout_minimum_balance_release", "refund", "refund_failure",
    "reserve_transaction", "reserved_funds", "stripe_fee", "stripe_fx_fee",
    "tax_fee", "topup", "topup_reversal", "transfer", "transfer_cancel",
    "transfer_failure", "transfer_refund"};
  return types.count(type) != 0;
}

void list_balance_transactions(api_context& ctx, const httplib::Request& req,
                               httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto& merchant = std::get<merchant_info>(who);
  auto query = parse_list_query(req, {"type", "source", "currency"});
  if (auto* err = std::get_if<api_error>(&query)) {
    return write_error(res, *err);
  }
  auto& q = std::get<list_query>(query);
  if (req.has_param("type") &&
      !known_balance_transaction_type(req.get_param_value("type"))) {
    return write_error(
      res, invalid_param("type", "Invalid type: must be one of Stripe's "
                                 "balance transaction types (this PSP "
                                 "writes charge and refund)."));
  }
  std::map<std::string, std::string> wanted;
  for (auto* key : {"type", "source", "currency"}) {
    if (req.has_param(key)) {
      wanted[key] = req.get_param_value(key);
    }
  }
  if (wanted.count("currency") != 0) {
    wanted["currency"] = ascii_lower(wanted["currency"]); // stored lower
    if (!is_supported_currency(wanted["currency"])) {
      // A typo is told, not answered with an empty list.
      return write_error(
        res, invalid_param("currency",
                           "Invalid currency: "
                             + req.get_param_value("currency").substr(0, 16)
                             + ". Use a supported ISO 4217 code."));
    }
  }
  id_filter filter;
  if (!wanted.empty() || q.filters_created()) {
    filter = [wanted, q](redis::connection& c,
                         const std::vector<std::string>& ids)
      -> std::optional<std::vector<bool>> {
      std::vector<std::vector<std::string>> reads;
      for (auto& id : ids) {
        reads.push_back({"HMGET", keys::balance_transaction(id), "type",
                         "source", "currency", "created"});
      }
      auto rows = redis::query_fields(c, reads); // archived ones too
      if (!rows) {
        return std::nullopt;
      }
      std::vector<bool> keep;
      for (auto& row : *rows) {
        if (!row.is_array() || row.elements.size() != 4) {
          keep.push_back(false);
          continue;
        }
        bool ok = true;
        int i = 0;
        for (auto* key : {"type", "source", "currency"}) {
          auto w = wanted.find(key);
          ok = ok && (w == wanted.end() || row.elements[i].text() == w->second);
          ++i;
        }
        auto created = parse_count(row.elements[3].text()).value_or(0);
        ok = ok && created >= q.created_min_s && created <= q.created_max_s;
        keep.push_back(ok);
      }
      return keep;
    };
  }
  auto conn = ctx.redis.acquire();
  // Scored by the commit's ms clock, read apart from its `created` second.
  list_source src{keys::merchant_balance_transactions(merchant.id),
                  "balance_transaction", 1000, 1000};
  auto page = collect_page(*conn, src, q, filter);
  if (auto* err = std::get_if<api_error>(&page)) {
    return write_error(res, *err);
  }
  auto& p = std::get<list_page>(page);
  auto data = render_rows(
    *conn, p.ids, keys::balance_transaction,
    [](const std::string&, render::fields& f) {
      return render::balance_transaction(f);
    });
  if (!data) {
    return write_error(res, unavailable("Listing balance transactions"));
  }
  write_json(res, list_body(std::move(*data), p.has_more,
                            "/v1/balance_transactions")
                    .dump());
}

/// A charge is rendered from its intent (one charge per intent here).
void retrieve_charge(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  std::string id = req.matches[1];
  auto conn = ctx.redis.acquire();
  auto index = redis::read_object(*conn, "charge:" + id); // maybe archived
  if (!index) {
    return write_error(res, unavailable("Reading charges"));
  }
  auto intent = index->find("intent");
  if (intent == index->end()) {
    return write_error(res, not_found("charge", id));
  }
  auto read = redis::read_object(*conn, keys::intent(intent->second));
  if (!read) {
    return write_error(res, unavailable("Reading charges"));
  }
  auto& f = *read;
  if (f.empty() || f["merchant"] != std::get<merchant_info>(who).id
      || f["latest_charge"] != id) {
    return write_error(res, not_found("charge", id));
  }
  write_expanded(ctx, req, res, expandable::charge, f, render::charge(f));
}

} // namespace

void add_balance_routes(httplib::Server& srv, api_context& ctx) {
  srv.Get("/v1/balance",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_balance(ctx, req, res);
          });
  srv.Get("/v1/balance_transactions",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            list_balance_transactions(ctx, req, res);
          });
  srv.Get(R"(/v1/balance_transactions/([A-Za-z0-9_]+))",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_balance_transaction(ctx, req, res);
          });
  srv.Get(R"(/v1/charges/([A-Za-z0-9_]+))",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_charge(ctx, req, res);
          });
}

} // namespace psp::http
