#pragma once

// Lua that defines payment_stream_of(intent_id): the key of the payment
// stream partition a job for that intent goes to, the same as
// keys::payment_stream_for in C++ (checked by confirm_script_test). Prepended
// to the scripts that learn the intent only inside Redis (the hosted page's
// confirm finds it from the session, a dead-letter replay from the attempt).

#include <string>

namespace psp::redis {

std::string payment_stream_lua();

} // namespace psp::redis
