#pragma once

// Deleter for zstd's handles, for std::unique_ptr / std::shared_ptr.

#include <zstd.h>

namespace psp::archive {

struct zstd_free {
  void operator()(ZSTD_CDict* d) const { ZSTD_freeCDict(d); }
  void operator()(ZSTD_DDict* d) const { ZSTD_freeDDict(d); }
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

} // namespace psp::archive
