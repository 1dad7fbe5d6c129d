#pragma once

// In-memory fakes of the payment ports for deterministic actor tests: they
// record what the actors asked and answer from a script.

#include "actors/ports.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <memory>
#include <vector>

namespace psp::test {

struct fake_world {
  // card network
  std::deque<charge_result> network_script;  ///< empty: approve
  std::vector<charge_request> charges;
  // payment store
  std::vector<payment_commit> commits;
  int commit_failures_left = 0;
  std::string fenced_token;  ///< commits stamped with it fail (FENCED)
  attempt_status load_answer = attempt_status::pending;
  std::vector<std::string> loads;
  std::vector<std::string> acks;
  std::vector<dead_letter_record> buried;
  // deliveries
  std::deque<std::vector<webhook_delivery>> due_script;
  std::vector<webhook_delivery> sent;
  std::deque<delivery_attempt> send_script;  ///< empty: delivered
  std::vector<delivery_report> reports;
  int record_failures_left = 0;
  int record_calls = 0;
  std::vector<std::string> released;  ///< nodes whose claims were freed
};

using world_ptr = std::shared_ptr<fake_world>;

inline charge_result approved(std::string id = "ch_1") {
  return {charge_outcome::approved, std::move(id), "", ""};
}

inline charge_result declined(std::string code) {
  return {charge_outcome::declined, "ch_d", std::move(code), "declined"};
}

inline charge_result unknown_outcome() {
  return {charge_outcome::transient, "", "", "HTTP 503"};
}

inline card_network spawn_fake_network(caf::actor_system& sys, world_ptr w) {
  return sys.spawn([w]() -> card_network::behavior_type {
    return {[w](charge_atom, const charge_request& req) {
      w->charges.push_back(req);
      if (w->network_script.empty()) {
        return approved("ch_" + req.attempt_id);
      }
      auto r = w->network_script.front();
      w->network_script.pop_front();
      return r;
    }};
  });
}

inline payment_store spawn_fake_store(caf::actor_system& sys, world_ptr w) {
  return sys.spawn([w]() -> payment_store::behavior_type {
    return {
      [w](load_atom, const std::string&, const std::string& attempt) {
        w->loads.push_back(attempt);
        return w->load_answer;
      },
      [w](commit_atom, const payment_commit& c) -> caf::result<bool> {
        if (w->commit_failures_left > 0) {
          --w->commit_failures_left;
          return caf::make_error(caf::sec::runtime_error);
        }
        if (!w->fenced_token.empty() && c.job.fence_token == w->fenced_token) {
          return caf::make_error(caf::sec::runtime_error);
        }
        w->commits.push_back(c);
        return true;
      },
      [w](ack_atom, const std::string&, const std::string& entry) {
        w->acks.push_back(entry);
        return true;
      },
      [w](dead_atom, const dead_letter_record& rec) {
        w->buried.push_back(rec);
        return true;
      },
    };
  });
}

inline delivery_store spawn_fake_deliveries(caf::actor_system& sys,
                                            world_ptr w) {
  return sys.spawn([w]() -> delivery_store::behavior_type {
    return {
      [w](claim_atom, uint32_t) {
        if (w->due_script.empty()) {
          return std::vector<webhook_delivery>{};
        }
        auto due = w->due_script.front();
        w->due_script.pop_front();
        return due;
      },
      [w](record_atom,
          const std::vector<delivery_report>& reps) -> caf::result<bool> {
        ++w->record_calls;
        if (w->record_failures_left > 0) {
          --w->record_failures_left;
          return caf::make_error(caf::sec::runtime_error);
        }
        w->reports.insert(w->reports.end(), reps.begin(), reps.end());
        return true;
      },
      [w](release_atom, const std::string& node) {
        w->released.push_back(node);
        return uint64_t{0};
      },
    };
  });
}

inline webhook_sender spawn_fake_sender(caf::actor_system& sys, world_ptr w) {
  return sys.spawn([w]() -> webhook_sender::behavior_type {
    return {[w](send_atom, const webhook_delivery& d) {
      w->sent.push_back(d);
      if (w->send_script.empty()) {
        return delivery_attempt{true, 200, ""};
      }
      auto r = w->send_script.front();
      w->send_script.pop_front();
      return r;
    }};
  });
}

inline payment_job sample_job(std::string attempt = "pa_A1",
                              uint32_t delivery_count = 1) {
  payment_job j;
  j.entry_id = "1-0";
  j.intent_id = "pi_P1";
  j.attempt_id = std::move(attempt);
  j.merchant_id = "acct_M1";
  j.session_id = "cs_test_S1";
  j.amount_minor = 2000;
  j.currency = "usd";
  j.fee_bps = 290;
  j.fee_fixed_minor = 30;
  j.sealed_card = "sealed";
  j.delivery_count = delivery_count;
  return j;
}

} // namespace psp::test
