#pragma once

// Names the calling thread as `top -H`, `ps -L`, perf and the bench's
// per-thread accounting show it: without a name a thread carries its
// creator's, and the node's 300 threads all read "psp-node". Linux keeps at
// most 15 characters.

#include <pthread.h>

namespace psp {

inline void name_this_thread(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

} // namespace psp
