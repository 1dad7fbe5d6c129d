#pragma once

// Runs an operation at most once per idempotency key: claims the key, maps
// replays, conflicts, a full table and a busy key to their answers, and
// stores what the operation answered. Shared by every /v1 flow.

#include "types.hpp"

#include <functional>
#include <string>

namespace psp::sim {

class idempotency_table;
class sim_journal;
struct request_fingerprint;
struct sim_stats;

/// 400 for a missing or malformed Idempotency-Key; empty body when valid.
api_response check_idempotency_key(const std::string& key);

/// 503 `capacity`.
api_response capacity_response();

/// Marks an answer as the executed, stored outcome of its key.
api_response executed(api_response out);

/// Claims keys in an idempotency table and stores executed answers.
class idempotent_runner {
public:
  using execute_fn = std::function<api_response()>;

  /// With a `journal`, each executed answer is appended to it before its
  /// key is answered, and executions run one at a time.
  idempotent_runner(idempotency_table& keys, sim_stats& stats,
                    sim_journal* journal = nullptr);

  /// Executes `execute` if this request owns `key`, else answers the
  /// replay or the conflict. Only answers marked `executed` are stored; any
  /// other answer (or an exception) gives the key back unanswered.
  api_response run_once(const std::string& key, const request_fingerprint& fp,
                        const execute_fn& execute);

private:
  idempotency_table& keys_;
  sim_stats& stats_;
  sim_journal* journal_;
};

} // namespace psp::sim
