#pragma once

// Test-only crash points: when the environment variable PSP_TEST_CRASH_AT
// names a point, the process kills itself with SIGKILL (like `kill -9`) the
// first time it passes there. Unset in production; read once at start-up.
// Points: after_key_claim, after_handler, after_confirm,
// after_create_session, after_network_answer, after_commit,
// after_webhook_sent (docs/idempotency.md says what each proves).

namespace psp {

void crash_point(const char* name);

} // namespace psp
