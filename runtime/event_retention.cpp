#include "runtime/event_retention.hpp"

#include "actors/clock.hpp"
#include "adapters/redis/keys.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <vector>

namespace psp {

namespace {

/// Merchants trimmed in one pipeline.
constexpr size_t merchants_per_batch = 500;

} // namespace

event_retention::event_retention(event_retention_settings cfg)
  : cfg_(std::move(cfg)),
    conn_(cfg_.where, cfg_.redis_timeout_ms),
    thread_("psp.retention", cfg_.interval_ms, [this] { round(); }) {
}

void event_retention::round() {
  auto merchants = conn_.query({"SMEMBERS", keys::merchants});
  if (!merchants || !merchants->is_array()) {
    // Nothing is lost: the next round trims what this one did not.
    spdlog::warn("event=event_retention_failed error=\"{}\"",
                 conn_.last_error());
    return;
  }
  // Scores are the events' creation in ms.
  auto oldest_kept_ms = unix_now_ms()
                        - int64_t{cfg_.retention_days} * 86'400'000;
  auto below = "(" + std::to_string(oldest_kept_ms);
  int64_t dropped = 0;
  auto& ids = merchants->elements;
  for (size_t at = 0; at < ids.size() && !thread_.stopping();
       at += merchants_per_batch) {
    std::vector<std::vector<std::string>> trims;
    for (size_t i = at; i < ids.size() && i < at + merchants_per_batch; ++i) {
      trims.push_back({"ZREMRANGEBYSCORE",
                       keys::merchant_events(ids[i].text()), "-inf", below});
    }
    auto replies = conn_.query_all(trims);
    if (!replies) {
      spdlog::warn("event=event_retention_failed error=\"{}\"",
                   conn_.last_error());
      return;
    }
    for (auto& r : *replies) {
      dropped += r.integer;
    }
  }
  if (dropped > 0) {
    spdlog::info("event=events_trimmed count={} retention_days={}", dropped,
                 cfg_.retention_days);
  }
}

} // namespace psp
