#pragma once

// Operational failures (not business outcomes): returned as caf::error in the
// "psp" category. A decline is never one of these.

#include <caf/atom.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <string>

namespace psp {

enum class errc : uint8_t {
  redis_unavailable = 1,  ///< no connection or I/O failure
  redis_rejected,         ///< Redis answered with an error
  network_unavailable,    ///< the card network could not be reached
  malformed,              ///< data that cannot be decoded
  node_id_taken,          ///< another live process registered our node id
};

inline caf::error make_error(errc x, std::string context = {}) {
  return caf::error{static_cast<uint8_t>(x), caf::atom("psp"),
                    caf::make_message(std::move(context))};
}

inline bool is_error(const caf::error& e, errc x) {
  return e.category() == caf::atom("psp")
         && e.code() == static_cast<uint8_t>(x);
}

} // namespace psp
