#pragma once

// Stripe's cursor pagination over a merchant's sorted set of ids (score =
// creation time), shared by every list endpoint: newest first, `limit`
// 1..100, `starting_after` / `ending_before` cursors, an exact `has_more`,
// and the `created` filter. Positions are ascending ranks: ids are appended
// at the top of the set, so the rank of an older id does not move while a
// client pages, and ids sharing a score (same creation second) are neither
// skipped nor repeated.

#include "adapters/http/api_errors.hpp"
#include "adapters/redis/redis_connection.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace httplib {
struct Request;
}

namespace psp::http {

/// The pagination part of a list request.
struct list_query {
  int64_t limit = 10;
  std::string starting_after; ///< id; empty: none
  std::string ending_before;  ///< id; empty: none
  /// Inclusive bounds on `created` (unix seconds) from `created=<ts>` or
  /// `created[gt|gte|lt|lte]=<ts>`.
  int64_t created_min_s = std::numeric_limits<int64_t>::min();
  int64_t created_max_s = std::numeric_limits<int64_t>::max();

  bool filters_created() const {
    return created_min_s != std::numeric_limits<int64_t>::min()
           || created_max_s != std::numeric_limits<int64_t>::max();
  }
};

/// Parses limit, starting_after, ending_before and created from the query
/// string. Any other parameter whose name (before its first '[') is not in
/// `extra_allowed` is rejected as unknown, as Stripe does; each one not in
/// `list_valued` must come once and without brackets.
std::variant<list_query, api_error>
parse_list_query(const httplib::Request& req,
                 std::initializer_list<const char*> extra_allowed,
                 std::initializer_list<const char*> list_valued = {});

/// Keeps or drops candidate ids (one flag per id, same order); called once
/// per batch so the reads behind a decision can be pipelined. nullopt: Redis
/// failed.
using id_filter = std::function<std::optional<std::vector<bool>>(
  redis::connection&, const std::vector<std::string>&)>;

/// How a sorted set is scored.
struct list_source {
  std::string zset_key;    ///< e.g. merchant:<id>:events
  std::string object_name; ///< for errors: "event", "checkout.session"
  int64_t score_per_second = 1; ///< 1: scores are seconds; 1000: ms
  /// Scores may differ from `created` by up to this much (score units); the
  /// created filter then widens its score range by it and `filter` must check
  /// `created` exactly.
  int64_t score_slack = 0;
};

/// One page: ids newest first.
struct list_page {
  std::vector<std::string> ids;
  bool has_more = false;
};

/// Candidates inspected per request at most when a filter is given; a page
/// that reaches it ends early with has_more = true.
inline constexpr int64_t list_scan_max = 10'000;

/// Collects one page. A cursor that is not in the set is a 400 naming the
/// cursor's parameter.
std::variant<list_page, api_error>
collect_page(redis::connection& conn, const list_source& src,
             const list_query& q, const id_filter& filter = {});

/// `{"object":"list","data":...,"has_more":...,"url":...}`.
nlohmann::json list_body(nlohmann::json data, bool has_more,
                         const std::string& url);

} // namespace psp::http
