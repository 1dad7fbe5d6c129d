#include "adapters/redis/legacy_stream.hpp"

#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"

#include <spdlog/spdlog.h>

namespace psp::redis {

namespace {

/// The job bytes of an XRANGE entry, if it has any.
std::optional<std::string> job_bytes(const value& entry) {
  if (!entry.is_array() || entry.elements.size() < 2
      || !entry.elements[1].is_array()) {
    return std::nullopt;
  }
  auto& fields = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].text() == "job") {
      return fields[i + 1].text();
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<size_t>
migrate_legacy_payment_stream(connection& conn, std::string& err,
                              bool log_undecodable) {
  size_t moved = 0;
  std::string after = "-";
  for (;;) {
    auto batch = conn.run({"XRANGE", legacy_payment_stream, after, "+",
                           "COUNT", "100"});
    if (!batch || batch->is_error()) {
      // WRONGTYPE and the like: not ours to touch; say so and carry on.
      err = batch ? batch->str : conn.last_error();
      return std::nullopt;
    }
    if (batch->elements.empty()) {
      break;
    }
    for (auto& entry : batch->elements) {
      auto id = entry.elements[0].text();
      after = "(" + id;
      auto bytes = job_bytes(entry);
      auto job = bytes ? decode_job(*bytes) : std::nullopt;
      if (!job) {
        if (!log_undecodable) {
          continue;
        }
        spdlog::error("event=legacy_job_undecodable stream={} entry={}",
                      legacy_payment_stream, id);
        continue;
      }
      auto out = eval(conn, move_legacy_job_script(),
                      {legacy_payment_stream,
                       keys::payment_stream_for(job->intent_id)},
                      {keys::payment_group, id});
      if (!out || out->is_error()) {
        err = out ? out->str : conn.last_error();
        return std::nullopt;
      }
      moved += out->integer == 1;
    }
  }
  if (moved > 0) {
    spdlog::warn("event=legacy_payment_stream_migrated moved={}", moved);
  }
  return moved;
}

} // namespace psp::redis
