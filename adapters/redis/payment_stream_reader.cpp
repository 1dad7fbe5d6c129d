// The payment_stream port on Redis: one consumer group per partition stream
// (`stream:payments:<n>`), read through one blocking connection. The queue
// names the partitions it owns in every request, so a view change takes
// effect at the next read.

#include "adapters/redis/store_actors.hpp"

#include "actors/clock.hpp"
#include "actors/errors.hpp"
#include "actors/ownership.hpp"
#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/legacy_stream.hpp"
#include "adapters/thread_name.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <array>

namespace psp::redis {

namespace {

struct stream_state {
  static inline const char* name = "psp.redis.payment_stream";
  std::unique_ptr<connection> conn;
  /// After a start, this consumer's own pending entries are replayed
  /// partition by partition: the next partition to look at
  /// (payment_partitions: done), and the last entry id replayed in it.
  uint32_t replay_partition = 0;
  std::string replay_after = "0";
  int64_t last_reclaim_ms = 0;
  std::array<std::string, payment_partitions> reclaim_cursor;
};

/// Appends decodable jobs of an entry list (XREADGROUP, XCLAIM, XAUTOCLAIM).
void collect(const value& entries, uint32_t delivery_count,
             std::vector<payment_job>& out) {
  for (auto& e : entries.elements) {
    if (!e.is_array() || e.elements.size() < 2 || !e.elements[1].is_array()) {
      continue; // deleted entry
    }
    auto& fields = e.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].text() != "job") {
        continue;
      }
      if (auto job = decode_job(fields[i + 1].text())) {
        job->entry_id = e.elements[0].text();
        job->delivery_count = delivery_count;
        out.push_back(std::move(*job));
      } else {
        spdlog::error("event=undecodable_job entry={}", e.elements[0].text());
      }
    }
  }
}

/// XREADGROUP answers [[stream, entries], ...]; nil when nothing came.
void collect_streams(const value& res, uint32_t delivery_count,
                     std::vector<payment_job>& out) {
  if (!res.is_array()) {
    return;
  }
  for (auto& stream : res.elements) {
    if (stream.is_array() && stream.elements.size() >= 2) {
      collect(stream.elements[1], delivery_count, out);
    }
  }
}

/// One batch of this consumer's own pending entries (left by a previous run
/// of this node), or nothing once every partition has been replayed.
caf::expected<std::vector<payment_job>>
replay_own(stream_state& st, const store_settings& cfg, uint32_t n) {
  std::vector<payment_job> out;
  while (out.empty() && st.replay_partition < payment_partitions) {
    auto res = st.conn->run({"XREADGROUP", "GROUP", keys::payment_group,
                             cfg.consumer, "COUNT", std::to_string(n),
                             "STREAMS",
                             keys::payment_stream(st.replay_partition),
                             st.replay_after});
    if (!res || res->is_error()) {
      return make_error(errc::redis_unavailable, st.conn->last_error());
    }
    size_t returned = 0;
    if (res->is_array() && !res->elements.empty()) {
      auto& entries = res->elements[0].elements[1];
      returned = entries.elements.size();
      if (returned > 0) {
        // Ids above this one next time: the entries just returned are still
        // pending (in flight), and reading from "0" again would repeat them.
        st.replay_after = entries.elements.back().elements[0].text();
      }
      collect(entries, 2, out);
    }
    if (returned < n) {
      ++st.replay_partition;
      st.replay_after = "0";
    }
  }
  return out;
}

/// Entries idle for longer than reclaim_idle_ms at any consumer, in the
/// partitions we own: the safety net behind the take-over of a departed
/// member's entries.
caf::expected<std::vector<payment_job>>
reclaim_idle(stream_state& st, const store_settings& cfg, uint32_t n,
             const std::vector<uint32_t>& partitions) {
  std::vector<payment_job> out;
  for (auto p : partitions) {
    if (p >= payment_partitions || out.size() >= n) {
      continue;
    }
    auto& cursor = st.reclaim_cursor[p];
    auto res = st.conn->run({"XAUTOCLAIM", keys::payment_stream(p),
                             keys::payment_group, cfg.consumer,
                             std::to_string(cfg.reclaim_idle_ms),
                             cursor.empty() ? "0-0" : cursor, "COUNT",
                             std::to_string(n - out.size())});
    if (!res) {
      return make_error(errc::redis_unavailable, st.conn->last_error());
    }
    if (res->is_array() && res->elements.size() >= 2) {
      cursor = res->elements[0].text();
      collect(res->elements[1], 2, out);
    }
  }
  if (!out.empty()) {
    spdlog::info("event=payments_reclaimed count={}", out.size());
  }
  return out;
}

caf::expected<std::vector<payment_job>>
read_jobs(stream_state& st, const store_settings& cfg, uint32_t n,
          const std::vector<uint32_t>& partitions) {
  auto& conn = *st.conn;
  if (st.replay_partition < payment_partitions) {
    return replay_own(st, cfg, n);
  }
  if (partitions.empty()) {
    return std::vector<payment_job>{};
  }
  auto now = unix_now_ms();
  if (now - st.last_reclaim_ms >= static_cast<int64_t>(cfg.reclaim_idle_ms) / 4) {
    st.last_reclaim_ms = now;
    // During a rolling upgrade nodes of the old release still write to the
    // single stream after this node's start-up migration: move what they
    // left (one XRANGE when there is nothing).
    std::string err;
    if (!migrate_legacy_payment_stream(conn, err, false) && conn.connected()) {
      // Not while Redis is away (the connection dropped): that is
      // `event=redis_unreachable`, once, not this twice a second.
      spdlog::warn("event=legacy_payment_stream_not_migrated error=\"{}\"",
                   err);
    }
    auto reclaimed = reclaim_idle(st, cfg, n, partitions);
    if (!reclaimed || !reclaimed->empty()) {
      return reclaimed;
    }
  }
  // COUNT applies per stream: share the batch so one read stays near `n`.
  auto per_stream = std::max<size_t>(1, (n + partitions.size() - 1)
                                          / partitions.size());
  std::vector<std::string> cmd{"XREADGROUP", "GROUP", keys::payment_group,
                               cfg.consumer, "COUNT",
                               std::to_string(per_stream), "BLOCK",
                               std::to_string(cfg.block_ms), "STREAMS"};
  for (auto p : partitions) {
    cmd.push_back(keys::payment_stream(p));
  }
  cmd.insert(cmd.end(), partitions.size(), ">");
  auto res = conn.run_blocking(cmd, cfg.block_ms);
  if (!res) {
    return make_error(errc::redis_unavailable, conn.last_error());
  }
  if (res->is_error()) {
    // NOGROUP after a Redis data loss: recreate and read again next time.
    std::string err;
    ensure_stream_groups(conn, err);
    return make_error(errc::redis_rejected, res->str);
  }
  std::vector<payment_job> out;
  collect_streams(*res, 1, out);
  return out;
}

/// Entries pending at `consumer` (a node that left, or this node after it
/// was fenced) in the given partitions, claimed for us. The small min-idle
/// keeps two survivors from stealing the same entry back and forth: the
/// first claim resets its idle time.
caf::expected<std::vector<payment_job>>
claim_from(stream_state& st, const store_settings& cfg,
           const std::string& consumer, uint32_t n,
           const std::vector<uint32_t>& partitions) {
  auto& conn = *st.conn;
  std::vector<payment_job> out;
  for (auto p : partitions) {
    if (p >= payment_partitions || out.size() >= n) {
      continue;
    }
    auto stream = keys::payment_stream(p);
    auto pending = conn.run({"XPENDING", stream, keys::payment_group, "-", "+",
                             std::to_string(n - out.size()), consumer});
    if (!pending || !pending->is_array()) {
      return make_error(errc::redis_unavailable, conn.last_error());
    }
    if (pending->elements.empty()) {
      continue;
    }
    std::vector<std::string> claim{"XCLAIM", stream, keys::payment_group,
                                   cfg.consumer, "500"};
    for (auto& entry : pending->elements) {
      claim.push_back(entry.elements[0].text());
    }
    auto claimed = conn.run(claim);
    if (!claimed || !claimed->is_array()) {
      return make_error(errc::redis_unavailable, conn.last_error());
    }
    collect(*claimed, 2, out);
  }
  if (!out.empty() && consumer == cfg.consumer) {
    // Its own entries after a stall or a restart under the same id: no
    // other node failed (the re-test read a takeover alarm here).
    spdlog::info("event=payments_resumed count={}", out.size());
  } else if (!out.empty()) {
    spdlog::warn("event=payments_taken_over from={} count={}", consumer,
                 out.size());
  }
  return out;
}

payment_stream::behavior_type
payment_stream_reader(payment_stream::stateful_pointer<stream_state> self,
                      store_settings cfg) {
  name_this_thread("psp.stream"); // a detached actor: its own thread
  self->state.conn = std::make_unique<connection>(cfg.where, cfg.timeout_ms);
  return {
    [=](read_atom, uint32_t n, const std::vector<uint32_t>& partitions)
      -> caf::result<std::vector<payment_job>> {
      return read_jobs(self->state, cfg, n, partitions);
    },
    [=](claim_atom, const std::string& consumer, uint32_t n,
        const std::vector<uint32_t>& partitions)
      -> caf::result<std::vector<payment_job>> {
      return claim_from(self->state, cfg, consumer, n, partitions);
    },
  };
}

} // namespace

payment_stream spawn_payment_stream(caf::actor_system& sys,
                                    const store_settings& cfg) {
  return sys.spawn<caf::detached>(payment_stream_reader, cfg);
}

bool ensure_stream_groups(connection& conn, std::string& err) {
  for (uint32_t p = 0; p < payment_partitions; ++p) {
    auto res = conn.run({"XGROUP", "CREATE", keys::payment_stream(p),
                         keys::payment_group, "0", "MKSTREAM"});
    if (!res) {
      err = conn.last_error();
      return false;
    }
    if (res->is_error() && res->str.rfind("BUSYGROUP", 0) != 0) {
      err = res->str;
      return false;
    }
  }
  return true;
}

} // namespace psp::redis
