#include "redis_probe.hpp"

#include "bench_clock.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <string_view>
#include <thread>

namespace bench {

redis_probe::redis_probe(std::string where) : where_(std::move(where)) {
}

redis_probe::~redis_probe() {
  drop();
}

void redis_probe::drop() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

bool redis_probe::connect() {
  if (ctx_ != nullptr) {
    return true;
  }
  auto colon = where_.rfind(':');
  auto host = where_.substr(0, colon);
  int port = std::atoi(where_.c_str() + colon + 1);
  timeval tv{2, 0};
  ctx_ = redisConnectWithTimeout(host.c_str(), port, tv);
  if (ctx_ == nullptr || ctx_->err != 0) {
    last_error_ = "redis " + where_ + ": "
                  + (ctx_ != nullptr ? ctx_->errstr : "out of memory");
    drop();
    return false;
  }
  redisSetTimeout(ctx_, tv);
  return true;
}

namespace {

/// MEMORY STATS' `db.<n>` entries: the sum of their overhead.hashtable.*
/// (the key table and the expiry table of each database).
int64_t key_table_bytes(const redisReply& stats) {
  int64_t bytes = 0;
  if (stats.type != REDIS_REPLY_ARRAY) {
    return 0;
  }
  for (size_t i = 0; i + 1 < stats.elements; i += 2) {
    auto* name = stats.element[i];
    auto* db = stats.element[i + 1];
    if (name->type != REDIS_REPLY_STRING
        || std::string_view{name->str, name->len}.rfind("db.", 0) != 0
        || db->type != REDIS_REPLY_ARRAY) {
      continue;
    }
    for (size_t k = 0; k + 1 < db->elements; k += 2) {
      if (db->element[k]->type == REDIS_REPLY_STRING
          && db->element[k + 1]->type == REDIS_REPLY_INTEGER
          && std::string_view{db->element[k]->str, db->element[k]->len}
                 .rfind("overhead.hashtable", 0)
               == 0) {
        bytes += db->element[k + 1]->integer;
      }
    }
  }
  return bytes;
}

} // namespace

std::optional<redis_snapshot> redis_probe::snapshot() {
  if (!connect()) {
    return std::nullopt;
  }
  const char* sections[] = {"stats", "commandstats", "memory", "cpu",
                            "keyspace"};
  for (auto* s : sections) {
    redisAppendCommand(ctx_, "INFO %s", s);
  }
  redisAppendCommand(ctx_, "MEMORY STATS");
  std::string texts[5];
  int64_t tables = 0;
  for (size_t i = 0; i < 6; ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      last_error_ = "redis " + where_ + ": " + ctx_->errstr;
      drop();
      return std::nullopt;
    }
    auto* reply = static_cast<redisReply*>(raw);
    if (i < 5 && reply->type == REDIS_REPLY_STRING) {
      texts[i].assign(reply->str, reply->len);
    } else if (i == 5) {
      tables = key_table_bytes(*reply);
    }
    freeReplyObject(reply);
  }
  auto snap = make_snapshot(texts[0], texts[1], texts[2], texts[3], unix_s());
  snap.keys = parse_keyspace_keys(texts[4]);
  snap.key_table_bytes = tables;
  return snap;
}

namespace {

/// The text of a string reply to `command`, nullopt on failure.
std::optional<std::string> string_reply(redisContext* ctx,
                                        const char* command) {
  auto* reply = static_cast<redisReply*>(redisCommand(ctx, command));
  if (reply == nullptr) {
    return std::nullopt;
  }
  std::optional<std::string> text;
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS
      || reply->type == REDIS_REPLY_ERROR) {
    text = std::string(reply->str, reply->len);
  }
  freeReplyObject(reply);
  return text;
}

} // namespace

std::optional<std::map<std::string, std::string>> redis_probe::persistence() {
  if (!connect()) {
    return std::nullopt;
  }
  auto text = string_reply(ctx_, "INFO persistence");
  if (!text) {
    last_error_ = "redis " + where_ + ": " + ctx_->errstr;
    drop();
    return std::nullopt;
  }
  return parse_info(*text);
}

std::optional<uint64_t> redis_probe::aof_rewrites() {
  auto info = persistence();
  if (!info) {
    return std::nullopt;
  }
  return std::strtoull((*info)["aof_rewrites"].c_str(), nullptr, 10);
}

std::optional<uint64_t> redis_probe::compact_aof(int timeout_s) {
  if (!connect()) {
    return std::nullopt;
  }
  // Started, scheduled, or "already in progress": all end the same way.
  if (!string_reply(ctx_, "BGREWRITEAOF")) {
    last_error_ = "redis " + where_ + ": " + ctx_->errstr;
    drop();
    return std::nullopt;
  }
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::seconds{timeout_s};
  while (std::chrono::steady_clock::now() < deadline) {
    auto info = persistence();
    if (!info) {
      return std::nullopt;
    }
    if ((*info)["aof_rewrite_in_progress"] == "0"
        && (*info)["aof_rewrite_scheduled"] == "0") {
      return std::strtoull((*info)["aof_rewrites"].c_str(), nullptr, 10);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  last_error_ = "redis " + where_ + ": AOF rewrite still running after "
                + std::to_string(timeout_s) + " s";
  return std::nullopt;
}

} // namespace bench
