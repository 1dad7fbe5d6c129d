#include "idempotency_table.hpp"

#include "sim_assert.hpp"

#include <utility>

namespace psp::sim {

idempotency_table::idempotency_table(size_t keys_max,
                                     std::chrono::milliseconds wait_max)
    : keys_max_(keys_max), wait_max_(wait_max) {
  SIM_ASSERT(keys_max_ > 0);
}

key_claim idempotency_table::claim(const std::string& key,
                                   const request_fingerprint& fp) {
  auto deadline = std::chrono::steady_clock::now() + wait_max_;
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      if (entries_.size() >= keys_max_) {
        return {claim_kind::capacity, 0, {}};
      }
      auto ticket = next_ticket_++;
      entries_.emplace(key, entry{fp, ticket, false, {}});
      return {claim_kind::owner, ticket, {}};
    }
    auto& found = it->second;
    if (!(found.fingerprint == fp)) {
      return {claim_kind::conflict, 0, {}};
    }
    if (found.done) {
      return {claim_kind::replay, 0, found.response};
    }
    // The owner is still executing: wait, then look again (the entry may
    // have been completed, released or cleared meanwhile).
    if (done_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return {claim_kind::busy, 0, {}};
    }
  }
}

void idempotency_table::complete(const std::string& key, uint64_t ticket,
                                 stored_response response) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.ticket != ticket) {
      return; // cleared by a reset while executing
    }
    SIM_ASSERT(!it->second.done);
    it->second.done = true;
    it->second.response = std::move(response);
  }
  done_cv_.notify_all();
}

void idempotency_table::release(const std::string& key, uint64_t ticket) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.ticket != ticket) {
      return;
    }
    SIM_ASSERT(!it->second.done);
    entries_.erase(it);
  }
  done_cv_.notify_all();
}

void idempotency_table::restore(const std::string& key,
                                const request_fingerprint& fp,
                                stored_response response) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = entries_[key];
  e.fingerprint = fp;
  e.ticket = 0;
  e.done = true;
  e.response = std::move(response);
}

size_t idempotency_table::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.size();
}

void idempotency_table::clear() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    entries_.clear();
  }
  done_cv_.notify_all();
}

} // namespace psp::sim
