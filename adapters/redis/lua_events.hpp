#pragma once

// Lua shared by every script that emits events: defines
//   emit_events(events, merchant, now_s, now_ms, sources, event_stream, due)
// which stores each event with a snapshot of its object, indexes it for the
// merchant, appends it to the event stream and schedules one webhook
// delivery per enabled endpoint subscribed to its type. `events` is a list of
// {id, type, object kind}; `sources` maps an object kind to its hash key.
// Prepended to a script's own source, so it runs inside the same atomic step.

namespace psp::redis {

extern const char* const emit_events_lua;

} // namespace psp::redis
