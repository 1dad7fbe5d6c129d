#include "adapters/redis/vault_key_check.hpp"

#include "adapters/crypto/digest.hpp"

namespace psp::redis {

vault_key_verdict claim_or_compare_vault_key(connection& conn,
                                             const std::string& check) {
  // SET NX and GET in one round trip: the answer is the stored value
  // whether this call stored it or an earlier node did.
  auto replies = conn.pipeline(
    {{"SET", vault_key_check_key, check, "NX"}, {"GET", vault_key_check_key}});
  if (!replies || replies->size() != 2 || (*replies)[1].is_error()
      || (*replies)[1].is_nil()) {
    return vault_key_verdict::failed;
  }
  bool stored_now = (*replies)[0].text() == "OK";
  if (!crypto::constant_time_equal((*replies)[1].text(), check)) {
    return vault_key_verdict::different;
  }
  return stored_now ? vault_key_verdict::first : vault_key_verdict::same;
}

} // namespace psp::redis
