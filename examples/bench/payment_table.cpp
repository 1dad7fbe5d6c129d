#include "payment_table.hpp"

#include <chrono>

namespace bench {

bool slot_gate::acquire(int64_t deadline_ns) {
  std::unique_lock<std::mutex> guard{mtx_};
  auto deadline = std::chrono::steady_clock::time_point{
    std::chrono::nanoseconds{deadline_ns}};
  if (!cv_.wait_until(guard, deadline, [this] { return in_use_ < max_; })) {
    return false;
  }
  ++in_use_;
  return true;
}

void slot_gate::release() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    --in_use_;
  }
  cv_.notify_one();
}

payment_table::payment_table(const std::vector<session_ref>& sessions,
                             slot_gate& gate)
  : size_(sessions.size()),
    slots_(std::make_unique<payment_slot[]>(sessions.size())),
    gate_(gate) {
  index_.reserve(sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    index_.emplace(sessions[i].intent_id, i);
  }
}

payment_slot* payment_table::find(const std::string& intent_id) {
  auto i = index_.find(intent_id);
  return i == index_.end() ? nullptr : &slots_[i->second];
}

bool payment_table::complete(payment_slot& slot, int64_t now_ns) {
  int64_t expected = not_yet;
  if (!slot.webhook_ns.compare_exchange_strong(expected, now_ns)) {
    return false;
  }
  ++completed_;
  auto last = last_webhook_ns_.load();
  while (last < now_ns && !last_webhook_ns_.compare_exchange_weak(last, now_ns)) {
  }
  gate_.release();
  return true;
}

void payment_table::abandon(payment_slot& slot) {
  int64_t expected = not_yet;
  if (slot.webhook_ns.compare_exchange_strong(expected, abandoned)) {
    gate_.release();
  }
}

} // namespace bench
