#include "idempotent_runner.hpp"

#include "idempotency_table.hpp"
#include "journal.hpp"
#include "json_codec.hpp"
#include "request_parsing.hpp"
#include "sim_stats.hpp"

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <utility>

namespace psp::sim {

namespace {

// Releases a claimed key unless the owner stored an answer, so an exception
// or a capacity failure never leaves the key stuck "in flight".
class key_owner {
public:
  key_owner(idempotency_table& keys, const std::string& key, uint64_t ticket)
      : keys_(keys), key_(key), ticket_(ticket) {
    // nop
  }
  ~key_owner() {
    if (!completed_) {
      keys_.release(key_, ticket_);
    }
  }
  void complete(const api_response& out) {
    keys_.complete(key_, ticket_, {out.status, out.body});
    completed_ = true;
  }

private:
  idempotency_table& keys_;
  const std::string& key_;
  uint64_t ticket_;
  bool completed_ = false;
};

} // namespace

api_response check_idempotency_key(const std::string& key) {
  if (key.empty()) {
    return error_response(400, "missing_idempotency_key",
                          "An Idempotency-Key header is required.");
  }
  if (!valid_idempotency_key(key)) {
    return error_response(400, "invalid_request",
                          "Idempotency-Key must be 1 to 255 printable "
                          "characters without spaces.");
  }
  return {};
}

api_response capacity_response() {
  return error_response(503, "capacity",
                        "The simulator stores no more keys or charges.");
}

api_response executed(api_response out) {
  out.processed = true;
  return out;
}

idempotent_runner::idempotent_runner(idempotency_table& keys, sim_stats& stats,
                                     sim_journal* journal)
    : keys_(keys), stats_(stats), journal_(journal) {
  // nop
}

api_response idempotent_runner::run_once(const std::string& key,
                                         const request_fingerprint& fp,
                                         const execute_fn& execute) {
  auto claim = keys_.claim(key, fp);
  switch (claim.kind) {
  case claim_kind::replay:
    ++stats_.replays;
    return {claim.response.status, std::move(claim.response.body), true, false};
  case claim_kind::conflict:
    return error_response(409, "idempotency_key_reused",
                          "This Idempotency-Key was used with different "
                          "parameters.");
  case claim_kind::capacity:
    return capacity_response();
  case claim_kind::busy:
    return error_response(409, "idempotency_key_in_use",
                          "A request with this Idempotency-Key is still "
                          "being processed.");
  case claim_kind::owner:
    break;
  }
  key_owner owner{keys_, key, claim.ticket};
  std::unique_lock<std::mutex> in_order;
  if (journal_ != nullptr) {
    in_order = journal_->lock();
  }
  auto out = execute();
  if (out.processed) {
    if (journal_ != nullptr && !journal_->append(key, fp, out)) {
      // The ledger already changed in memory but could not be made durable:
      // answering would promise what a restart forgets, so stop instead.
      std::cerr << "card-network-sim: cannot write " << journal_->path()
                << "; stopping\n";
      std::_Exit(3);
    }
    owner.complete(out);
  }
  return out;
}

} // namespace psp::sim
