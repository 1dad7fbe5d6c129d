#include "runtime/balance_reader.hpp"

#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"

#include <algorithm>
#include <charconv>

namespace psp::reports {

namespace {

/// Commands per pipelined round trip.
constexpr size_t pipeline_batch_max = 500;

} // namespace

report_failure redis_failure(redis::connection& conn,
                             const std::string& what) {
  return {report_failure::kind::redis,
          "cannot read " + what + " from Redis: " + conn.last_error()};
}

std::variant<std::vector<std::string>, report_failure>
read_merchants(redis::connection& conn) {
  auto reply = conn.query({"SMEMBERS", keys::merchants});
  if (!reply) {
    return redis_failure(conn, keys::merchants);
  }
  std::vector<std::string> out;
  for (auto& e : reply->elements) {
    out.push_back(e.text());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::variant<std::vector<hash_fields>, report_failure>
read_hashes(redis::connection& conn, const std::vector<std::string>& keys) {
  std::vector<hash_fields> out;
  out.reserve(keys.size());
  for (size_t at = 0; at < keys.size(); at += pipeline_batch_max) {
    auto end = std::min(keys.size(), at + pipeline_batch_max);
    std::vector<std::string> batch(keys.begin() + static_cast<long>(at),
                                   keys.begin() + static_cast<long>(end));
    // A paid charge's balance transaction is archived after a while.
    auto read = redis::read_objects(conn, batch);
    if (!read) {
      return redis_failure(conn, "hashes such as " + keys[at]);
    }
    for (auto& fields : *read) {
      out.emplace_back(fields.begin(), fields.end());
    }
  }
  return out;
}

std::variant<std::vector<hash_fields>, report_failure>
read_balance_transactions(redis::connection& conn,
                          const std::string& merchant_id,
                          const recon::period& p) {
  auto key = keys::merchant_balance_transactions(merchant_id);
  // "(" makes the upper bound exclusive: the period is half-open.
  auto ids = conn.query({"ZRANGEBYSCORE", key, std::to_string(p.from_s * 1000),
                         "(" + std::to_string(p.to_s * 1000), "LIMIT", "0",
                         std::to_string(balance_transactions_max + 1)});
  if (!ids) {
    return redis_failure(conn, key);
  }
  if (ids->elements.size() > balance_transactions_max) {
    return report_failure{report_failure::kind::too_large,
                          key + " holds more than "
                            + std::to_string(balance_transactions_max)
                            + " transactions in the period"};
  }
  std::vector<std::string> hash_keys;
  for (auto& id : ids->elements) {
    hash_keys.push_back(keys::balance_transaction(id.text()));
  }
  return read_hashes(conn, hash_keys);
}

std::optional<int64_t> int_field(const hash_fields& f,
                                 const std::string& key) {
  auto it = f.find(key);
  if (it == f.end() || it->second.empty()) {
    return std::nullopt;
  }
  int64_t out = 0;
  auto& text = it->second;
  auto end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return out;
}

std::string text_field(const hash_fields& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? std::string{} : it->second;
}

} // namespace psp::reports
