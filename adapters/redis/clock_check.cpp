#include "adapters/redis/clock_check.hpp"

#include "actors/clock.hpp"
#include "actors/decimal.hpp"

#include <chrono>
#include <cstdlib>

namespace psp::redis {

namespace {

constexpr int64_t warn_above_ms = 1'000;

} // namespace

std::optional<clock_offset> measure_clock_offset(connection& conn) {
  auto before_us = system_now_us();
  auto reply = conn.query({"TIME"});
  auto after_us = system_now_us();
  if (!reply || !reply->is_array() || reply->elements.size() != 2) {
    return std::nullopt;
  }
  auto redis_us = time_reply_us(reply->elements[0], reply->elements[1]);
  if (!redis_us) {
    return std::nullopt;
  }
  auto middle_us = before_us + (after_us - before_us) / 2;
  return clock_offset{(middle_us - *redis_us) / 1'000,
                      (after_us - before_us) / 2'000};
}

std::optional<int64_t> time_reply_us(const value& seconds,
                                     const value& micros) {
  auto s = parse_integer(seconds.text());
  auto us = parse_integer(micros.text());
  if (!s || !us) {
    return std::nullopt;
  }
  return *s * 1'000'000 + *us;
}

std::optional<int64_t> redis_time_s(connection& conn) {
  auto reply = conn.query({"TIME"});
  if (!reply || !reply->is_array() || reply->elements.size() != 2) {
    return std::nullopt;
  }
  return parse_integer(reply->elements[0].text());
}

clock_verdict judge_clock_offset(const clock_offset& measured,
                                 int64_t shortest_lease_ms) {
  auto surely = std::llabs(measured.offset_ms) - measured.uncertainty_ms;
  if (surely > shortest_lease_ms / 4) {
    return clock_verdict::refuse;
  }
  return surely > warn_above_ms ? clock_verdict::warn : clock_verdict::fine;
}

} // namespace psp::redis
