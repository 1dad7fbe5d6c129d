#pragma once

// psp-admin's roll-key command: gives a merchant a new secret key and ends
// the old one, at once or after --expire-old-s (so its servers can move to
// the new key first, as Stripe's "roll key" offers). Prints
// {"merchant", "secret_key", "old_key_expires_at"} (null: revoked now);
// the new key is shown once and stored only as its SHA-256. The roll bumps
// merchants:generation: nodes that cached the old key (for up to
// auth_cache_ms) drop it within about a second.
// 0 done, 2 usage or no such merchant, 3 Redis unreachable.

#include "adapters/redis/redis_connection.hpp"

#include <map>
#include <string>

namespace psp::admin {

int roll_key_command(redis::connection& conn,
                     const std::map<std::string, std::string>& opts);

} // namespace psp::admin
