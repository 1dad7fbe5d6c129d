#pragma once

// A blocking hiredis connection with bounded timeouts and reconnect-on-next-
// use. Only for threads that may block: detached actors and HTTP handler
// threads, never CAF's cooperative scheduler.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct redisContext;

namespace psp::redis {

/// An owned copy of a Redis reply.
struct value {
  enum class kind : uint8_t { nil, integer, string, status, error, array };
  kind type = kind::nil;
  int64_t integer = 0;
  std::string str;
  std::vector<value> elements;

  bool is_nil() const { return type == kind::nil; }
  bool is_error() const { return type == kind::error; }
  bool is_array() const { return type == kind::array; }
  /// The string of a string/status reply, "" otherwise.
  const std::string& text() const;
};

struct endpoint {
  endpoint() = default;
  endpoint(std::string host_name, uint16_t port_number)
    : host(std::move(host_name)), port(port_number) {}

  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  /// AUTH after each connect when `password` is set (`user` empty: the
  /// default user). Never part of an error message.
  std::string user;
  std::string password;
};

/// Parses "host:port" (or "redis://host:port"). Refuses credentials in the
/// address ("user:pass@host:port"): they would end up in error messages and
/// process listings; they come from the environment (credentials_from_env).
std::optional<endpoint> parse_endpoint(std::string_view text);

/// Sets `ep`'s user and password from PSP_REDIS_USER and
/// PSP_REDIS_PASSWORD where those are set and `ep`'s are empty.
void credentials_from_env(endpoint& ep);

class connection;

/// Run on every new connection of this process before its first command:
/// a non-empty answer (why) fails that command as an I/O failure would, and
/// the next command connects and checks again. A node sets it once at start
/// (decision 67: every connection made after Redis restarted, a restore's
/// included, checks that Redis still holds what the node saw before any
/// request is served from it). Empty: no check (psp-admin, tests). Not run
/// again for commands the check itself sends.
using connect_check = std::function<std::string(connection&)>;
void set_connect_check(connect_check check);

class connection {
public:
  connection(endpoint ep, uint32_t timeout_ms);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Runs one command. nullopt on an I/O failure (the connection is dropped
  /// and re-established on the next call); Redis errors are values.
  std::optional<value> run(const std::vector<std::string>& argv);

  /// Sends all commands in one write and reads all replies: one round trip.
  std::optional<std::vector<value>>
  pipeline(const std::vector<std::vector<std::string>>& commands);

  /// Like run(), but an error reply is a failure too: for reads that must
  /// not mistake, say, `-LOADING` (Redis replaying its AOF after a restart)
  /// for "no such key".
  std::optional<value> query(const std::vector<std::string>& argv);

  /// Like pipeline(), failing when any reply is an error.
  std::optional<std::vector<value>>
  query_all(const std::vector<std::vector<std::string>>& commands);

  /// Like run(), but with a socket timeout long enough for a BLOCK command.
  std::optional<value> run_blocking(const std::vector<std::string>& argv,
                                    uint32_t block_ms);

  /// The last failure: an I/O error, or the last error reply Redis gave
  /// (OOM command not allowed ..., READONLY ...), so that a caller can say
  /// why a write was refused.
  const std::string& last_error() const { return last_error_; }
  bool connected() const { return ctx_ != nullptr; }
  /// Connections made so far: a new one may be to a Redis that restarted.
  uint64_t connects() const { return connects_; }
  /// Connects now (also done lazily); false with last_error() on failure.
  bool ensure_connected();

private:
  void drop();
  /// AUTH with the endpoint's credentials, if any; false (dropped, with
  /// last_error()) when Redis refuses them.
  bool authenticate();
  bool append(const std::vector<std::string>& argv);
  std::optional<value> read_one();
  void set_timeout(uint32_t ms);

  endpoint ep_;
  uint32_t timeout_ms_;
  /// A connection unused this long is checked for a close by Redis before
  /// the next command (one non-blocking peek).
  static constexpr std::chrono::milliseconds idle_check_after{100};
  std::chrono::steady_clock::time_point last_used_{};
  redisContext* ctx_ = nullptr;
  std::string last_error_;
  uint64_t connects_ = 0;
  bool checking_ = false; ///< inside the connect check
};

} // namespace psp::redis
