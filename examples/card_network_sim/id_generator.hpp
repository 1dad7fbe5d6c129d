#pragma once

// Object ids ("ch_…", "re_…") from the OS's cryptographic RNG, so ids stay
// unique across restarts even when fault decisions reuse the same --seed.

#include <string>
#include <string_view>

namespace psp::sim {

/// `prefix` followed by 24 random lowercase hex digits.
std::string random_id(std::string_view prefix);

} // namespace psp::sim
