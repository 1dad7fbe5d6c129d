#include "adapters/redis/lua_partition.hpp"

#include "adapters/redis/keys.hpp"

namespace psp::redis {

// The hash of actors/ownership.cpp's payment_partition: h < 2^31, so h * 31
// + 255 < 2^36 stays exact in Lua's doubles.
std::string payment_stream_lua() {
  return R"lua(
local function payment_stream_of(intent_id)
  local h = 0
  for i = 1, #intent_id do
    h = (h * 31 + string.byte(intent_id, i)) % 2147483647
  end
  return ')lua" + keys::payment_stream_prefix + "' .. string.format('%d', h % "
         + std::to_string(payment_partitions) + ")\nend\n";
}

} // namespace psp::redis
