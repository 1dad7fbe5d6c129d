#pragma once

// The last continuity mark (decision 62) a node saw Redis acknowledge,
// kept on the node's own disk, <data-dir>/redis-continuity.mark, so that a
// node starting again tells a Redis that went back in time, was emptied or
// replaced while it was down (decision 67). In memory alone, a restart
// adopted whatever Redis then held, and a checkout paid since a restored
// backup took a second payment.
//
// The nodes of one data dir (run.sh's) share the file: each replaces it
// with its latest mark, and every mark is one Redis acknowledged, so the
// file is never ahead of a Redis that lost nothing. It is written each
// second (fsynced, then renamed over the old one): a host crash leaves the
// old mark or the new one. A node under --psp.redis-durability=warn never
// writes it (it adopts what it finds, which would disarm the others).

#include "adapters/redis/redis_continuity.hpp"

#include <optional>
#include <string>

namespace psp {

std::string continuity_mark_path(const std::string& data_dir);

/// The kept mark, nullopt when there is none. `error` is set (and nullopt
/// returned) when a file is there that cannot be read as a mark.
std::optional<redis::continuity_mark>
read_continuity_mark(const std::string& path, std::string& error);

/// Replaces the kept mark (a file of this process renamed over it, so a
/// reader sees the old mark or the new one). False with `error`.
bool write_continuity_mark(const std::string& path,
                           const redis::continuity_mark& mark,
                           std::string& error);

} // namespace psp
