#pragma once

// Every node of a cluster must hold the same vault key: a card sealed on
// the node that served the hosted page is opened on the node that owns the
// payment, and object ids derive from the key so that a request re-run on
// another node names the same objects. A node started with a key of its
// own (a fresh data-dir on a new machine creates one) would fail those
// payments and create duplicates on re-runs. So the first node to use a
// Redis stores a check value of its key there (an HMAC of a fixed text: it
// tells nothing about the key), and every later start compares.

#include "adapters/redis/redis_connection.hpp"

#include <string>

namespace psp::redis {

inline const std::string vault_key_check_key = "psp:vault_key_check";

enum class vault_key_verdict {
  first,     ///< no check stored yet: this key's is now
  same,      ///< the stored check is this key's
  different, ///< another key's: the node must not run
  failed,    ///< Redis did not answer
};

/// Stores `check` unless a check is stored, then compares (constant time).
vault_key_verdict claim_or_compare_vault_key(connection& conn,
                                             const std::string& check);

} // namespace psp::redis
