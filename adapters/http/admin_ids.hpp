#pragma once

// The ids in admin URLs. Each admin route matches any path segment where an
// id goes, and its handler answers an id of the wrong shape with the same
// 404 resource_missing as an unknown one (after the admin token), as the
// merchant API does (missing_object_error): "Unrecognized request URL"
// would tell the operator the route does not exist.

#include <string>
#include <string_view>

namespace psp::http {

/// What an admin route matches where an id goes: any non-empty segment.
inline constexpr const char* admin_id_pattern = "([^/]+)";

/// Letters, digits and '_': the alphabet of merchant, run and other object
/// ids. Anything else names no object (and never reaches a Redis key).
bool is_object_id(std::string_view id);

/// `<ms>-<seq>`, both decimal: a Redis stream entry id, such as a dead
/// letter's.
bool is_stream_entry_id(std::string_view id);

} // namespace psp::http
