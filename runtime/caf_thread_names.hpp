#pragma once

// Names CAF's scheduler workers "caf.worker". CAF 0.17 names its clock,
// multiplexer and detached-actor threads but leaves its workers with the
// name of the thread that started them, "caf.multiplexer", so `top -H` and
// the bench's per-thread accounting could not tell the two apart.

#include <caf/fwd.hpp>

namespace psp {

/// Call once, after the actor system started.
void name_caf_workers(caf::actor_system& sys);

} // namespace psp
