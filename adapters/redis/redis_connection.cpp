#include "adapters/redis/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <cerrno>
#include <cstdlib>
#include <charconv>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace psp::redis {

namespace {

value convert(const redisReply* r) {
  value out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = value::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = value::kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = value::kind::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = value::kind::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = value::kind::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(convert(r->element[i]));
      }
      break;
    default:
      break;
  }
  return out;
}

timeval to_timeval(uint32_t ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

} // namespace

const std::string& value::text() const {
  static const std::string empty;
  return (type == kind::string || type == kind::status) ? str : empty;
}

std::optional<endpoint> parse_endpoint(std::string_view text) {
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, scheme.size()) == scheme) {
    text.remove_prefix(scheme.size());
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0
      || text.find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  endpoint ep;
  ep.host = std::string{text.substr(0, colon)};
  auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(),
                                   port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || ptr != port_text.data() + port_text.size()
      || port == 0 || port > 65535) {
    return std::nullopt;
  }
  ep.port = static_cast<uint16_t>(port);
  return ep;
}

void credentials_from_env(endpoint& ep) {
  if (const char* user = std::getenv("PSP_REDIS_USER");
      user != nullptr && ep.user.empty()) {
    ep.user = user;
  }
  if (const char* password = std::getenv("PSP_REDIS_PASSWORD");
      password != nullptr && ep.password.empty()) {
    ep.password = password;
  }
}

connection::connection(endpoint ep, uint32_t timeout_ms)
  : ep_(std::move(ep)), timeout_ms_(timeout_ms) {
}

connection::~connection() {
  drop();
}

void connection::drop() {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

void connection::set_timeout(uint32_t ms) {
  redisSetTimeout(ctx_, to_timeval(ms));
}

namespace {

// Set while other threads' connections may be connecting: swapped whole.
std::shared_ptr<const connect_check>& connect_check_slot() {
  static std::shared_ptr<const connect_check> check;
  return check;
}

} // namespace

void set_connect_check(connect_check check) {
  std::atomic_store(&connect_check_slot(),
                    std::make_shared<const connect_check>(std::move(check)));
}

bool connection::ensure_connected() {
  auto now = std::chrono::steady_clock::now();
  if (ctx_ != nullptr && now - last_used_ >= idle_check_after) {
    // Redis closed it while it sat in the pool (a restart, a failover):
    // reconnect now instead of failing the caller's first command with a
    // 503 while Redis is up again.
    char byte = 0;
    auto n = ::recv(ctx_->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      drop();
    }
  }
  last_used_ = now;
  if (ctx_ != nullptr) {
    return true;
  }
  ctx_ = redisConnectWithTimeout(ep_.host.c_str(), ep_.port,
                                 to_timeval(timeout_ms_));
  if (ctx_ == nullptr || ctx_->err != 0) {
    last_error_ = ctx_ != nullptr ? ctx_->errstr : "out of memory";
    last_error_ = "redis " + ep_.host + ":" + std::to_string(ep_.port) + ": "
                  + last_error_;
    drop();
    return false;
  }
  int one = 1;
  ::setsockopt(ctx_->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  set_timeout(timeout_ms_);
  if (!authenticate()) {
    return false;
  }
  ++connects_;
  auto check = std::atomic_load(&connect_check_slot());
  if (check && *check && !checking_) {
    checking_ = true;
    auto refused = (*check)(*this);
    checking_ = false;
    if (!refused.empty()) {
      last_error_ = "redis " + ep_.host + ":" + std::to_string(ep_.port)
                    + ": " + refused;
      drop();
      return false;
    }
  }
  return true;
}

bool connection::authenticate() {
  if (ep_.password.empty()) {
    return true;
  }
  std::vector<std::string> argv{"AUTH"};
  if (!ep_.user.empty()) {
    argv.push_back(ep_.user);
  }
  argv.push_back(ep_.password);
  auto where = "redis " + ep_.host + ":" + std::to_string(ep_.port) + ": ";
  if (!append(argv)) {
    last_error_ = where + "cannot send AUTH";
    drop();
    return false;
  }
  auto reply = read_one(); // drops the connection on an I/O failure
  if (!reply) {
    last_error_ = where + "no answer to AUTH (" + last_error_ + ")";
    return false;
  }
  if (reply->is_error()) {
    // Redis's own words (WRONGPASS ..., ERR AUTH ... no password is set):
    // they never repeat the password.
    last_error_ = where + "AUTH refused: " + reply->str;
    drop();
    return false;
  }
  return true;
}

bool connection::append(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAppendCommandArgv(ctx_, static_cast<int>(args.size()),
                                args.data(), lens.data())
         == REDIS_OK;
}

std::optional<value> connection::read_one() {
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
    last_error_ = ctx_->errstr[0] != '\0' ? ctx_->errstr : "no reply";
    drop();
    return std::nullopt;
  }
  auto* reply = static_cast<redisReply*>(raw);
  auto out = convert(reply);
  freeReplyObject(reply);
  return out;
}

std::optional<value> connection::run(const std::vector<std::string>& argv) {
  if (!ensure_connected() || !append(argv)) {
    drop();
    return std::nullopt;
  }
  auto out = read_one();
  if (out && out->is_error()) {
    last_error_ = out->str; // OOM, READONLY, ...: what a caller reports
  }
  return out;
}

std::optional<value> connection::query(const std::vector<std::string>& argv) {
  auto out = run(argv);
  if (out && out->is_error()) {
    last_error_ = out->str;
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<value>>
connection::query_all(const std::vector<std::vector<std::string>>& commands) {
  auto out = pipeline(commands);
  if (!out) {
    return out;
  }
  for (auto& v : *out) {
    if (v.is_error()) {
      last_error_ = v.str;
      return std::nullopt;
    }
  }
  return out;
}

std::optional<value>
connection::run_blocking(const std::vector<std::string>& argv,
                         uint32_t block_ms) {
  if (!ensure_connected()) {
    return std::nullopt;
  }
  set_timeout(block_ms + timeout_ms_);
  auto out = run(argv);
  if (ctx_ != nullptr) {
    set_timeout(timeout_ms_);
  }
  return out;
}

std::optional<std::vector<value>>
connection::pipeline(const std::vector<std::vector<std::string>>& commands) {
  if (!ensure_connected()) {
    return std::nullopt;
  }
  for (auto& argv : commands) {
    if (!append(argv)) {
      drop();
      return std::nullopt;
    }
  }
  std::vector<value> out;
  out.reserve(commands.size());
  bool refused = false;
  for (size_t i = 0; i < commands.size(); ++i) {
    auto v = read_one();
    if (!v) {
      return std::nullopt;
    }
    if (v->is_error() && !refused) {
      // The first: a MULTI's EXECABORT only says an earlier one failed.
      last_error_ = v->str;
      refused = true;
    }
    out.push_back(std::move(*v));
  }
  return out;
}

} // namespace psp::redis
