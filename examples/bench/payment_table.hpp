// What the pay phase and the webhook receiver share: one slot per checkout
// session (when its card was confirmed, when its webhook arrived) and a gate
// that bounds how many confirmed payments may await their webhook at once.
#pragma once

#include "psp_calls.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace bench {

/// A counting semaphore with a deadline: at most `max` holders.
class slot_gate {
public:
  explicit slot_gate(int max) : max_(max) {}
  /// Waits until a slot is free; false when `deadline_ns` (mono) passed.
  bool acquire(int64_t deadline_ns);
  void release();

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  int in_use_ = 0;
  int max_;
};

/// webhook_ns markers besides a time: never set, or given up by the client.
constexpr int64_t not_yet = 0;
constexpr int64_t abandoned = -1;

struct payment_slot {
  std::atomic<int64_t> confirm_ns{not_yet}; ///< mono time the POST started
  std::atomic<int64_t> webhook_ns{not_yet}; ///< mono time the webhook came
};

class payment_table {
public:
  payment_table(const std::vector<session_ref>& sessions, slot_gate& gate);

  size_t size() const { return size_; }
  payment_slot& at(size_t i) { return slots_[i]; }
  /// The slot of a payment intent; nullptr if not in this table.
  payment_slot* find(const std::string& intent_id);

  /// First webhook of a slot: records the time and frees its gate slot.
  /// False for a repeat (at-least-once delivery) or an abandoned slot.
  bool complete(payment_slot& slot, int64_t now_ns);
  /// A confirm that failed: frees the gate slot unless the webhook came.
  void abandon(payment_slot& slot);

  uint64_t completed() const { return completed_; }
  int64_t last_webhook_ns() const { return last_webhook_ns_; }

private:
  size_t size_;
  std::unique_ptr<payment_slot[]> slots_;
  std::unordered_map<std::string, size_t> index_;
  slot_gate& gate_;
  std::atomic<uint64_t> completed_{0};
  std::atomic<int64_t> last_webhook_ns_{0};
};

} // namespace bench
