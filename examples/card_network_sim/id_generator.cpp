#include "id_generator.hpp"

#include "sim_assert.hpp"

#include <array>
#include <openssl/rand.h>

namespace psp::sim {

std::string random_id(std::string_view prefix) {
  std::array<unsigned char, 12> bytes{};
  // Failing to get randomness means ids could collide: crash, don't guess.
  SIM_ASSERT(RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) == 1);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id{prefix};
  for (auto b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 0x0f];
  }
  return id;
}

} // namespace psp::sim
