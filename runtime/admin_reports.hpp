#pragma once

// psp-admin's reconciliation and statement commands (admin_main.cpp parses
// the flags and calls these). Both print to stdout and return the exit code.
//   reconcile --card-network-url URL [--from S --to S] [--grace-s 300]
//     prints the run's report (JSON); 0 clean, 1 differences, 2 usage,
//     3 Redis or the card network unreachable. Without --from/--to: the
//     previous complete hour.
//   statement --merchant ID --from S --to S [--format json|csv|html]
//     prints the statement of a period that has ended (--to at most now);
//     0 done, 1 closing balance disagrees with the ledger, 2 usage or
//     unknown merchant, 3 Redis unreachable.
// Every usage error names the flag and what is wrong with it.

#include "adapters/redis/redis_connection.hpp"

#include <map>
#include <string>

namespace psp::admin {

inline constexpr int exit_differences = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_unreachable = 3;

int reconcile_command(redis::connection& conn,
                      const std::map<std::string, std::string>& opts);

int statement_command(redis::connection& conn,
                      const std::map<std::string, std::string>& opts);

} // namespace psp::admin
