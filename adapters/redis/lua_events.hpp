#pragma once

// Lua shared by every script that emits events: defines
//   emit_events(events, merchant, now_s, now_ms, sources, due)
// which stores each event with a snapshot of its object, indexes it for the
// merchant and schedules one webhook delivery per enabled endpoint
// subscribed to its type (no global event stream: docs/decisions.md 34). `events` is a list of
// {id, type, object kind}; `sources` maps an object kind to its hash key.
// Prepended to a script's own source, so it runs inside the same atomic step,
// after delivery_record_lua (which it uses).
//
// delivery_record_lua defines the helpers of webhook delivery records, kept
// as fields of their event's hash: delivery_field, delivery_ids,
// delivery_encode, delivery_decode, delivery_read.

namespace psp::redis {

extern const char* const delivery_record_lua;
extern const char* const emit_events_lua;

} // namespace psp::redis
