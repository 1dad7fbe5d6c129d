#pragma once

// Test-only crash points: when the environment variable PSP_TEST_CRASH_AT
// names a point, the process kills itself with SIGKILL (like `kill -9`) the
// first time it passes there. Unset in production; read once at start-up.
// Points: after_key_claim, after_handler, after_confirm,
// after_create_session, after_network_answer, after_commit,
// after_webhook_sent (docs/idempotency.md says what each proves).

namespace psp {

void crash_point(const char* name);

/// Test-only fault points: true when PSP_TEST_FAIL_AT names `name`; the
/// caller then fails as if Redis had just become unreachable there (a 503
/// after a durable write, which a crash point cannot show). Point:
/// after_handler.
bool fail_point(const char* name);

/// Test-only stall points: when PSP_TEST_PAUSE_AT is `<name>:<ms>`, the
/// first request to pass `name` sleeps that long there, as a node stalled
/// by a VM pause or swap would, while the rest of the process runs on.
/// Points: before_intent_write, before_refund_reserve,
/// before_endpoint_write, before_endpoint_update.
void pause_point(const char* name);

} // namespace psp
