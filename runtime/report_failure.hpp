#pragma once

// Why a reconciliation or statement could not be produced: the glue code's
// error type. The admin API maps it to a status, psp-admin to an exit code.

#include <string>

namespace psp {

struct report_failure {
  enum class kind {
    redis,        ///< Redis unreachable or answering errors
    card_network, ///< the settlement report could not be read
    not_found,    ///< no such merchant, run or stored statement
    lease_lost,   ///< a scheduled run lost its lease before storing
    too_large,    ///< a read would exceed its bound
    conflict,     ///< the change was made before (a resolved difference)
  };
  kind what = kind::redis;
  std::string message;
};

} // namespace psp
