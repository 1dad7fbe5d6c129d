#include "adapters/http/claim_janitor.hpp"

#include "actors/clock.hpp"
#include "adapters/redis/connection_pool.hpp"
#include "adapters/thread_name.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace psp::http {

namespace {

/// The first retry comes soon (Redis often answers again within a second);
/// later ones at most this far apart, which bounds how long a retry after
/// Redis resumed can still meet the abandoned claim.
constexpr int64_t first_interval_ms = 200;
constexpr int64_t interval_max_ms = 1'000;
/// Entries tried per wake-up, so a long queue cannot hold the connection
/// (and the thread) for long.
constexpr size_t tries_per_round_max = 256;
constexpr int64_t idle_wait_ms = 60'000;

} // namespace

claim_janitor::claim_janitor(redis::connection_pool& pool) : pool_(pool) {
  thread_ = std::thread{[this] { run(); }};
}

claim_janitor::~claim_janitor() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool claim_janitor::add(pending_key_write write) {
  auto key = write.keys.empty() ? std::string{} : write.keys.front();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (queue_.size() < queue_max) {
      queue_.push_back(entry{std::move(write),
                             unix_now_ms() + first_interval_ms,
                             first_interval_ms});
      cv_.notify_all();
      return true;
    }
  }
  spdlog::warn("event=idempotency_settle_dropped key={} reason=\"queue "
               "full\"",
               key);
  return false;
}

size_t claim_janitor::pending() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return queue_.size();
}

void claim_janitor::run() {
  name_this_thread("psp.idem");
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stop_) {
    int64_t wait_ms = idle_wait_ms;
    if (!queue_.empty()) {
      guard.unlock();
      wait_ms = try_due(unix_now_ms());
      guard.lock();
    }
    if (stop_) {
      break;
    }
    cv_.wait_for(guard, std::chrono::milliseconds{std::max<int64_t>(wait_ms,
                                                                    1)});
  }
}

int64_t claim_janitor::try_due(int64_t now_ms) {
  // Take the due entries out, try them without the lock, put back the ones
  // still open: add() never waits on Redis.
  std::vector<entry> due;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = queue_.begin();
         it != queue_.end() && due.size() < tries_per_round_max;) {
      if (it->next_try_ms <= now_ms) {
        due.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::vector<entry> open;
  if (!due.empty()) {
    auto conn = pool_.acquire();
    bool redis_answers = true;
    for (auto& e : due) {
      // One timeout says Redis is still away: the others wait for the next
      // round instead of a timeout each (and a stop waits for one at most).
      if (!redis_answers || stopping()) {
        e.next_try_ms = now_ms + e.interval_ms;
        open.push_back(std::move(e));
        continue;
      }
      auto outcome = try_one(*conn, e, now_ms);
      redis_answers = outcome != try_outcome::no_answer;
      if (outcome != try_outcome::done) {
        open.push_back(std::move(e));
      }
    }
  }
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& e : open) {
    queue_.push_back(std::move(e));
  }
  int64_t next_ms = idle_wait_ms;
  for (auto& e : queue_) {
    next_ms = std::min(next_ms, e.next_try_ms - now_ms);
  }
  return next_ms;
}

bool claim_janitor::stopping() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stop_;
}

claim_janitor::try_outcome claim_janitor::try_one(redis::connection& conn,
                                                  entry& e, int64_t now_ms) {
  auto& w = e.write;
  std::string key = w.keys.empty() ? w.script->name : w.keys.front();
  if (now_ms >= w.give_up_at_ms) {
    spdlog::warn("event=idempotency_settle_gave_up key={} script={}", key,
                 w.script->name);
    return try_outcome::done;
  }
  auto reply = redis::eval(conn, *w.script, w.keys, w.args);
  bool settled = reply && !reply->is_error()
                 && !(w.may_wait && reply->text() == "wait");
  if (settled) {
    spdlog::info("event=idempotency_settled key={} script={} reply={}", key,
                 w.script->name, reply->text());
    return try_outcome::done;
  }
  e.interval_ms = std::min(e.interval_ms * 2, interval_max_ms);
  e.next_try_ms = now_ms + e.interval_ms;
  return reply ? try_outcome::again : try_outcome::no_answer;
}

} // namespace psp::http
