#include "adapters/http/list_pagination.hpp"

#include "adapters/http/request_support.hpp"
#include "adapters/redis/scripts.hpp"

#include <httplib.h>

#include <algorithm>

namespace psp::http {

namespace {

// KEYS: the list's sorted set. ARGV: exclusive low score, inclusive high
// score, the cursor id ("" none). Answers {count below low, count up to
// high, the cursor's rank or false}: one snapshot, so counts and rank agree.
// A read-only script rather than MULTI: Redis 7 refuses every command
// queued in a MULTI while it is out of memory, reads included, and a store
// must still list its payments then.
const char* list_window_lua = R"lua(
local below = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])
local upto = redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[2])
local rank = false
if ARGV[3] ~= '' then rank = redis.call('ZRANK', KEYS[1], ARGV[3]) end
return {below, upto, rank}
)lua";

const redis::script& list_window_script() {
  static const auto s = redis::make_script("list_window", list_window_lua);
  return s;
}

using json = nlohmann::json;

constexpr int64_t limit_max = 100;
/// Unix seconds beyond which a created bound means "no bound" (year 5138);
/// keeps score arithmetic far from overflow.
constexpr int64_t created_s_max = 100'000'000'000;
constexpr int64_t filter_batch_min = 50;
constexpr int64_t filter_batch_max = 200;

/// Applies one `created` key (`created` or `created[op]`) to the bounds.
std::optional<api_error> apply_created(list_query& q, const std::string& key,
                                       const std::string& value) {
  auto ts = parse_count(value);
  if (!ts) {
    return invalid_param(key, "Invalid integer: " + value);
  }
  auto t = std::min(*ts, created_s_max);
  if (key == "created" || key == "created[gte]") {
    q.created_min_s = std::max(q.created_min_s, t);
  }
  if (key == "created" || key == "created[lte]") {
    q.created_max_s = std::min(q.created_max_s, t);
  }
  if (key == "created[gt]") {
    q.created_min_s = std::max(q.created_min_s, t + 1);
  } else if (key == "created[lt]") {
    q.created_max_s = std::min(q.created_max_s, t - 1);
  } else if (key != "created" && key != "created[gte]"
             && key != "created[lte]") {
    return unknown_param(key);
  }
  return std::nullopt;
}

bool allowed_name(const std::string& top,
                  std::initializer_list<const char*> extra) {
  for (auto* name : {"limit", "starting_after", "ending_before", "created"}) {
    if (top == name) {
      return true;
    }
  }
  return std::any_of(extra.begin(), extra.end(),
                     [&](const char* name) { return top == name; });
}

std::string score_text(int64_t score) {
  return std::to_string(score);
}

/// Ranks [lo, hi] allowed by the created filter, and the cursor's rank.
struct rank_window {
  int64_t lo = 0;
  int64_t hi = -1;
  int64_t cursor = -1;
};

std::variant<rank_window, api_error>
find_window(redis::connection& conn, const list_source& src,
            const list_query& q, const std::string& cursor,
            const std::string& cursor_param) {
  std::string lo_excl = "(-inf";
  std::string hi_incl = "+inf";
  if (q.created_min_s != std::numeric_limits<int64_t>::min()) {
    lo_excl = "(" + score_text(q.created_min_s * src.score_per_second
                               - src.score_slack);
  }
  if (q.created_max_s != std::numeric_limits<int64_t>::max()) {
    hi_incl = score_text((q.created_max_s + 1) * src.score_per_second - 1
                         + src.score_slack);
  }
  auto out = redis::eval(conn, list_window_script(), {src.zset_key},
                         {lo_excl, hi_incl, cursor});
  if (!out || !out->is_array() || out->elements.size() < 2) {
    return unavailable("Listing " + src.object_name + " objects");
  }
  auto& exec = out->elements;
  rank_window w;
  w.lo = exec[0].integer;
  w.hi = exec[1].integer - 1;
  if (!cursor.empty()) {
    // Lua's false is a nil reply; Redis may leave a trailing nil out.
    if (exec.size() < 3 || exec[2].is_nil()) {
      return invalid_param(cursor_param, "No such " + src.object_name + ": '"
                                           + cursor + "'");
    }
    w.cursor = exec[2].integer;
  }
  return w;
}

/// Ids of ranks [from, to], ascending; nullopt when Redis fails.
std::optional<std::vector<std::string>>
range(redis::connection& conn, const std::string& key, int64_t from,
      int64_t to) {
  auto reply = conn.query({"ZRANGE", key, std::to_string(from),
                         std::to_string(to)});
  if (!reply || !reply->is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (auto& e : reply->elements) {
    ids.push_back(e.text());
  }
  return ids;
}

} // namespace

std::variant<list_query, api_error>
parse_list_query(const httplib::Request& req,
                 std::initializer_list<const char*> extra_allowed,
                 std::initializer_list<const char*> list_valued) {
  list_query q;
  for (auto& [key, value] : req.params) {
    auto top = key.substr(0, key.find('['));
    if (!allowed_name(top, extra_allowed)) {
      return unknown_param(top);
    }
    if (top == "created") {
      if (auto err = apply_created(q, key, value)) {
        return *err;
      }
      continue;
    }
    // `payment_intent[]=x` or a name given twice would otherwise be read
    // as no filter (or its first value) and widen the answer silently.
    bool listed = std::any_of(list_valued.begin(), list_valued.end(),
                              [&](const char* n) { return top == n; });
    if (!listed && (key != top || req.get_param_value_count(key) > 1)) {
      return invalid_param(top, "Invalid " + top + ": expected a single "
                                                   "value.");
    }
    // A filter left empty (`payment_intent=` from an unset variable) would
    // read as no filter and list everything.
    bool filter = std::any_of(extra_allowed.begin(), extra_allowed.end(),
                              [&](const char* n) { return top == n; });
    if (filter && value.empty()) {
      return invalid_param(top, "Invalid " + top + ": expected a value, not "
                                                   "an empty string.");
    }
  }
  if (req.has_param("limit")) {
    auto l = parse_count(req.get_param_value("limit"));
    if (!l || *l < 1 || *l > limit_max) {
      return invalid_param("limit", "limit must be an integer from 1 to 100.");
    }
    q.limit = *l;
  }
  for (auto* cursor : {"starting_after", "ending_before"}) {
    if (req.has_param(cursor) && req.get_param_value(cursor).empty()) {
      return invalid_param(cursor, std::string{"Invalid "} + cursor
                                     + ": expected an object id.");
    }
  }
  q.starting_after = req.get_param_value("starting_after");
  q.ending_before = req.get_param_value("ending_before");
  if (!q.starting_after.empty() && !q.ending_before.empty()) {
    return invalid_param("ending_before", "You may only specify one of these "
                                          "parameters: starting_after, "
                                          "ending_before.");
  }
  return q;
}

std::variant<list_page, api_error>
collect_page(redis::connection& conn, const list_source& src,
             const list_query& q, const id_filter& filter) {
  bool backwards = !q.ending_before.empty(); // toward newer ids
  auto& cursor = backwards ? q.ending_before : q.starting_after;
  auto found = find_window(conn, src, q, cursor,
                           backwards ? "ending_before" : "starting_after");
  if (auto* err = std::get_if<api_error>(&found)) {
    return *err;
  }
  auto w = std::get<rank_window>(found);
  // Walk from the cursor (or the newest id) away from it; need one id more
  // than the page to know has_more.
  int64_t pos = backwards        ? std::max(w.lo, w.cursor + 1)
                : cursor.empty() ? w.hi
                                 : std::min(w.hi, w.cursor - 1);
  auto need = static_cast<size_t>(q.limit + 1);
  // Unfiltered: one read of exactly what is needed. Filtered: batches big
  // enough that sparse matches do not cost a round trip each.
  int64_t batch = filter ? std::clamp((q.limit + 1) * 2, filter_batch_min,
                                      filter_batch_max)
                         : q.limit + 1;
  std::vector<std::string> matched;
  int64_t scanned = 0;
  auto remaining = [&] { return backwards ? pos <= w.hi : pos >= w.lo; };
  while (matched.size() < need && remaining() && scanned < list_scan_max) {
    int64_t from = backwards ? pos : std::max(w.lo, pos - batch + 1);
    int64_t to = backwards ? std::min(w.hi, pos + batch - 1) : pos;
    pos = backwards ? to + 1 : from - 1;
    auto ids = range(conn, src.zset_key, from, to);
    if (!ids) {
      return unavailable("Listing " + src.object_name + " objects");
    }
    if (!backwards) {
      std::reverse(ids->begin(), ids->end());
    }
    scanned += static_cast<int64_t>(ids->size());
    std::vector<bool> keep(ids->size(), true);
    if (filter && !ids->empty()) {
      auto verdict = filter(conn, *ids);
      if (!verdict || verdict->size() != ids->size()) {
        return unavailable("Listing " + src.object_name + " objects");
      }
      keep = std::move(*verdict);
    }
    for (size_t i = 0; i < ids->size() && matched.size() < need; ++i) {
      if (keep[i]) {
        matched.push_back((*ids)[i]);
      }
    }
    if (ids->empty()) {
      break; // the set shrank under us: nothing more to find
    }
  }
  list_page page;
  page.has_more = matched.size() == need || (remaining() && scanned
                                                             >= list_scan_max);
  matched.resize(std::min(matched.size(), static_cast<size_t>(q.limit)));
  if (backwards) {
    std::reverse(matched.begin(), matched.end()); // pages are newest first
  }
  page.ids = std::move(matched);
  return page;
}

json list_body(json data, bool has_more, const std::string& url) {
  return json{{"object", "list"},
              {"data", std::move(data)},
              {"has_more", has_more},
              {"url", url}};
}

} // namespace psp::http
