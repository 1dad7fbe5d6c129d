#pragma once

// An always-on assertion for invariants: a broken invariant is a programmer
// bug, so the simulator crashes loudly instead of answering wrongly.

#include <cstdio>
#include <cstdlib>

#define SIM_ASSERT(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,          \
                   __LINE__, #cond);                                           \
      std::abort();                                                            \
    }                                                                          \
  } while (false)
