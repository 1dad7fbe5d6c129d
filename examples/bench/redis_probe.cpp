#include "redis_probe.hpp"

#include "bench_clock.hpp"

#include <hiredis/hiredis.h>

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

std::optional<redis_snapshot> redis_probe::snapshot() {
  if (!connect()) {
    return std::nullopt;
  }
  const char* sections[] = {"stats", "commandstats", "memory", "cpu"};
  for (auto* s : sections) {
    redisAppendCommand(ctx_, "INFO %s", s);
  }
  std::string texts[4];
  for (auto& text : texts) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      last_error_ = "redis " + where_ + ": " + ctx_->errstr;
      drop();
      return std::nullopt;
    }
    auto* reply = static_cast<redisReply*>(raw);
    if (reply->type == REDIS_REPLY_STRING) {
      text.assign(reply->str, reply->len);
    }
    freeReplyObject(reply);
  }
  return make_snapshot(texts[0], texts[1], texts[2], texts[3], unix_s());
}

} // namespace bench
