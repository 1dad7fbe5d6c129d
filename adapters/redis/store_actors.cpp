#include "adapters/redis/store_actors.hpp"

#include "actors/clock.hpp"
#include "actors/decimal.hpp"
#include "actors/errors.hpp"
#include "actors/ledger_account_names.hpp"
#include "actors/payment_logic.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/cluster_registry.hpp"
#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"
#include "adapters/render/objects.hpp"
#include "adapters/thread_name.hpp"

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>

namespace psp::redis {

namespace {

/// Runs a script; a Redis error or I/O failure becomes a caf::error.
caf::expected<value> run_script(connection& conn, const script& s,
                                const std::vector<std::string>& keys,
                                const std::vector<std::string>& args) {
  auto out = eval(conn, s, keys, args);
  if (!out) {
    return make_error(errc::redis_unavailable, conn.last_error());
  }
  if (out->is_error()) {
    if (out->str.rfind("FENCED", 0) == 0) {
      // Expected after this node stalled past its registration: another
      // node owns the work now, and this step is refused as it should be.
      spdlog::warn("event=step_fenced script={}", s.name);
    } else {
      spdlog::error("event=redis_script_failed script={} error=\"{}\"",
                    s.name, out->str);
    }
    return make_error(errc::redis_rejected, out->str);
  }
  return std::move(*out);
}

/// Runs one store step; an exception (a reply no decoder expected) becomes
/// an error answer instead of ending the worker: CAF 0.17 ends an actor
/// whose handler throws, and an actor pool does not replace its workers, so
/// a few would leave the node without a Redis store while it still serves.
template <class Step>
auto without_throwing(const char* step, Step&& run) -> decltype(run()) {
  try {
    return run();
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", step, e.what());
    return make_error(errc::malformed, std::string{step} + ": " + e.what());
  }
}

// -- payment store ----------------------------------------------------------

struct store_state {
  static inline const char* name = "psp.redis.payment_store";
  std::unique_ptr<connection> conn;
};

std::string postings_json(const std::vector<ledger_posting>& postings,
                          const std::string& merchant_id) {
  auto arr = nlohmann::json::array();
  for (auto& p : postings) {
    arr.push_back({ledger_names::stored_account(p.account, merchant_id),
                   p.debit_minor, p.credit_minor});
  }
  return arr.dump();
}

std::string events_json(const std::vector<event_spec>& events) {
  auto arr = nlohmann::json::array();
  for (auto& e : events) {
    arr.push_back({e.event_id, e.type, e.object});
  }
  return arr.dump();
}

std::string updates_json(const std::vector<record_update>& updates) {
  auto arr = nlohmann::json::array();
  for (auto& u : updates) {
    arr.push_back({u.record, u.field, u.value});
  }
  return arr.dump();
}

std::string increments_json(const std::vector<intent_increment>& incs) {
  auto arr = nlohmann::json::array();
  for (auto& i : incs) {
    arr.push_back({i.field, i.delta_minor});
  }
  return arr.dump();
}

caf::expected<bool> commit(connection& conn, const payment_commit& c,
                           bool archive_paid) {
  auto& j = c.job;
  auto now_ms = unix_now_ms(); // one clock reading: created and scores agree
  std::vector<std::string> keys{
    keys::intent(j.intent_id),
    keys::attempt(j.attempt_id),
    keys::payment_stream_for(j.intent_id),
    keys::ledger_stream,
    keys::balances,
    keys::deliveries_due,
    keys::session(j.session_id),
    node_registration_key(j.fence_node),
    keys::refund(j.op == payment_op::refund ? j.attempt_id : "")};
  std::vector<std::string> args{keys::payment_group,
                                j.entry_id,
                                j.attempt_id,
                                to_string(j.op),
                                updates_json(c.updates),
                                increments_json(c.increments),
                                c.transaction_id,
                                postings_json(c.postings, j.merchant_id),
                                events_json(c.events),
                                std::to_string(now_ms / 1000),
                                std::to_string(now_ms),
                                j.merchant_id,
                                j.fence_token,
                                c.balance.type,
                                c.balance.source,
                                std::to_string(c.balance.amount_minor),
                                std::to_string(c.balance.fee_minor),
                                j.currency,
                                archive_paid ? "1" : ""};
  auto res = run_script(conn, commit_outcome_script(), keys, args);
  if (!res) {
    return res.error();
  }
  crash_point("after_commit");
  if (res->integer == 1 && spdlog::should_log(spdlog::level::info)) {
    // One line a payment step, once (a redelivered step that found it
    // final says nothing): what an operator greps an intent's id for. No
    // card data here: the job's card is sealed and not in the line.
    spdlog::info("event=payment_step_committed op={} outcome={} intent={} "
                 "attempt={} merchant={} amount_minor={} currency={} "
                 "charge={} decline_code={}",
                 to_string(j.op), to_string(c.charge.outcome), j.intent_id,
                 j.attempt_id, j.merchant_id, j.amount_minor, j.currency,
                 c.charge.charge_id.empty() ? "-" : c.charge.charge_id,
                 c.charge.decline_code.empty() ? "-" : c.charge.decline_code);
  }
  return res->integer == 1;
}

caf::expected<attempt_status> load(connection& conn,
                                   const std::string& intent_id,
                                   const std::string& attempt_id) {
  // A redelivered job of a payment archived since reads it there.
  auto res = query_fields(conn, {{"HGET", keys::intent(intent_id), "attempt"},
                                 {"HMGET", keys::attempt(attempt_id), "status",
                                  "kind"}});
  if (!res) {
    return make_error(errc::redis_unavailable, conn.last_error());
  }
  auto& current = (*res)[0];
  auto& record = (*res)[1];
  if (!record.is_array() || record.elements.size() < 2
      || record.elements[0].is_nil()) {
    return attempt_status::unknown;
  }
  auto status = record.elements[0].text();
  auto kind = record.elements[1].is_nil() ? std::string{"charge"}
                                          : record.elements[1].text();
  // Only a charge or authorisation attempt can be replaced by a newer one;
  // captures, voids and refunds stand on their own.
  bool attempt = kind == "charge" || kind == "authorize";
  if (attempt && current.text() != attempt_id) {
    return attempt_status::superseded;
  }
  return status == "pending" ? attempt_status::pending : attempt_status::final;
}

caf::expected<bool> ack(connection& conn, const std::string& intent_id,
                        const std::string& entry_id) {
  auto stream = keys::payment_stream_for(intent_id);
  auto res = conn.pipeline({{"XACK", stream, keys::payment_group, entry_id},
                            {"XDEL", stream, entry_id}});
  if (!res) {
    return make_error(errc::redis_unavailable, conn.last_error());
  }
  return true;
}

caf::expected<bool> bury(connection& conn, const dead_letter_record& rec) {
  if (rec.kind != "payment") {
    return make_error(errc::malformed, "payment store buries payments only");
  }
  auto res = run_script(
    conn, bury_payment_script(),
    {keys::payment_stream_for(rec.payload), keys::dead_letter_stream,
     keys::attempt(rec.ref), node_registration_key(rec.fence_node)},
    {keys::payment_group, rec.entry_id, rec.ref, rec.reason,
     std::to_string(unix_now_s()), rec.payload, rec.fence_token});
  if (!res) {
    return res.error();
  }
  spdlog::warn("event=payment_dead_lettered attempt={} intent={} reason=\"{}\"",
               rec.ref, rec.payload, rec.reason);
  return true;
}

payment_store::behavior_type
payment_store_worker(payment_store::stateful_pointer<store_state> self,
                     store_settings cfg) {
  name_this_thread("psp.store"); // a detached actor: its own thread
  self->state.conn = std::make_unique<connection>(cfg.where, cfg.timeout_ms);
  return {
    [=](load_atom, const std::string& intent_id,
        const std::string& attempt_id) -> caf::result<attempt_status> {
      return without_throwing("load", [&] {
        return load(*self->state.conn, intent_id, attempt_id);
      });
    },
    [=](commit_atom, const payment_commit& c) -> caf::result<bool> {
      return without_throwing("commit", [&] {
        return commit(*self->state.conn, c, cfg.archive_paid);
      });
    },
    [=](ack_atom, const std::string& intent_id,
        const std::string& entry_id) -> caf::result<bool> {
      return without_throwing("ack", [&] {
        return ack(*self->state.conn, intent_id, entry_id);
      });
    },
    [=](dead_atom, const dead_letter_record& rec) -> caf::result<bool> {
      return without_throwing("dead letter", [&] {
        return bury(*self->state.conn, rec);
      });
    },
  };
}

// -- delivery store ---------------------------------------------------------

struct delivery_state {
  static inline const char* name = "psp.redis.delivery_store";
  std::unique_ptr<connection> conn;
};

/// A decimal field of a claimed row, or `fallback` with a warning when Redis
/// holds something else (a hand-edited or half-migrated record): a throw
/// here would end the worker, and the batch it had leased would come back
/// to end the next one, on every node, after every restart.
int64_t integer_or(const std::string& text, int64_t fallback,
                   const char* field, const std::string& delivery_id) {
  auto out = parse_integer(text);
  if (!out) {
    spdlog::warn("delivery {}: {} is not an integer (\"{}\" in Redis); "
                 "taken as {}", delivery_id, field, text.substr(0, 32),
                 fallback);
    return fallback;
  }
  return *out;
}

caf::expected<std::vector<webhook_delivery>>
claim(connection& conn, const store_settings& cfg, uint32_t n) {
  auto now_ms = unix_now_ms();
  auto res = run_script(conn, claim_deliveries_script(),
                        {keys::deliveries_due, keys::delivery_claims},
                        {std::to_string(now_ms),
                         std::to_string(cfg.delivery_lease_ms),
                         std::to_string(n), cfg.consumer});
  if (!res) {
    return res.error();
  }
  std::vector<webhook_delivery> out;
  for (auto& row : res->elements) {
    auto& f = row.elements;
    if (f.size() < 10) {
      continue;
    }
    webhook_delivery d;
    d.lease_until_ms = now_ms + cfg.delivery_lease_ms;
    d.delivery_id = f[0].text();
    d.event_id = f[1].text();
    d.endpoint_id = f[2].text();
    auto attempts = f[3].text().empty()
                      ? 0
                      : integer_or(f[3].text(), 0, "attempts", d.delivery_id);
    d.attempts_before = static_cast<uint32_t>(
        std::clamp<int64_t>(attempts, 0, UINT32_MAX));
    d.url = f[4].text();
    d.secret = f[5].text();
    d.body = render::event_body(
        d.event_id, f[6].text(),
        integer_or(f[7].text(), 0, "the event's created", d.delivery_id),
        f[8].text(), f[9].text());
    out.push_back(std::move(d));
  }
  return out;
}

caf::expected<bool> record(connection& conn, const store_settings& cfg,
                           const std::vector<delivery_report>& reps) {
  std::vector<std::string> args{std::to_string(unix_now_s())};
  args.reserve(1 + reps.size() * 6);
  for (auto& rep : reps) {
    args.insert(args.end(),
                {rep.delivery_id, rep.delivered ? "1" : "0",
                 std::to_string(rep.attempts),
                 std::to_string(rep.next_attempt_ms), rep.last_error,
                 std::to_string(rep.lease_until_ms)});
  }
  auto res = run_script(conn, record_deliveries_script(),
                        {keys::deliveries_due, keys::dead_letter_stream,
                         keys::delivery_claims},
                        args);
  if (!res) {
    return res.error();
  }
  auto* counts = cfg.deliveries.get();
  for (auto& rep : reps) {
    if (rep.delivered) {
      if (counts) {
        ++counts->delivered;
      }
      continue;
    }
    if (counts) {
      ++counts->failed;
    }
    if (rep.next_attempt_ms < 0) {
      if (counts) {
        ++counts->dead_lettered;
      }
      spdlog::warn("event=webhook_dead_lettered delivery={} attempts={} "
                   "error=\"{}\"",
                   rep.delivery_id, rep.attempts, rep.last_error);
    } else {
      // Each failed try, so an endpoint that fails or answers slowly is
      // seen before its deliveries die (the error names no card data: a
      // status, or curl's words about the connection).
      spdlog::info("event=webhook_attempt_failed delivery={} attempt={} "
                   "next_in_ms={} error=\"{}\"",
                   rep.delivery_id, rep.attempts,
                   std::max<int64_t>(0, rep.next_attempt_ms
                                          - static_cast<int64_t>(
                                            unix_now_ms())),
                   rep.last_error);
    }
  }
  return true;
}

caf::expected<uint64_t> release(connection& conn, const std::string& node) {
  auto res = run_script(conn, release_deliveries_script(),
                        {keys::deliveries_due, keys::delivery_claims},
                        {std::to_string(unix_now_ms()), node});
  if (!res) {
    return res.error();
  }
  auto freed = static_cast<uint64_t>(std::max<int64_t>(0, res->integer));
  if (freed > 0) {
    spdlog::info("event=webhook_claims_released node={} deliveries={}", node,
                 freed);
  }
  return freed;
}

delivery_store::behavior_type
delivery_store_worker(delivery_store::stateful_pointer<delivery_state> self,
                      store_settings cfg) {
  name_this_thread("psp.delivery"); // a detached actor: its own thread
  self->state.conn = std::make_unique<connection>(cfg.where, cfg.timeout_ms);
  return {
    [=](claim_atom, uint32_t n) -> caf::result<std::vector<webhook_delivery>> {
      return without_throwing("claim deliveries", [&] {
        return claim(*self->state.conn, cfg, n);
      });
    },
    [=](record_atom,
        const std::vector<delivery_report>& reps) -> caf::result<bool> {
      return without_throwing("record deliveries", [&] {
        return record(*self->state.conn, cfg, reps);
      });
    },
    [=](release_atom, const std::string& node) -> caf::result<uint64_t> {
      return without_throwing("release claims", [&] {
        return release(*self->state.conn, node);
      });
    },
  };
}

template <class Handle, class Fun>
Handle make_pool(caf::actor_system& sys, size_t workers, Fun fun,
                 const store_settings& cfg) {
  auto factory = [&sys, fun, cfg] {
    return caf::actor_cast<caf::actor>(sys.spawn<caf::detached>(fun, cfg));
  };
  auto pool = caf::actor_pool::make(sys.dummy_execution_unit(), workers,
                                    factory, caf::actor_pool::round_robin());
  return caf::actor_cast<Handle>(pool);
}

} // namespace

payment_store spawn_payment_store(caf::actor_system& sys,
                                  const store_settings& cfg, size_t workers) {
  return make_pool<payment_store>(sys, workers, payment_store_worker, cfg);
}

delivery_store spawn_delivery_store(caf::actor_system& sys,
                                    const store_settings& cfg, size_t workers) {
  return make_pool<delivery_store>(sys, workers, delivery_store_worker, cfg);
}

} // namespace psp::redis
