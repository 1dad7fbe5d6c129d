#include "adapters/http/stored_reference.hpp"

#include <nlohmann/json.hpp>

#include <iterator>
#include <utility>
#include <vector>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// Every session field written after creation that the session's JSON
/// shows: status and payment_status (payment, expiry), expires_at (an
/// explicit expire sets it to the time of expiry).
constexpr const char* session_mutable_fields[] = {"status", "payment_status",
                                                  "expires_at"};

constexpr size_t session_mutable_count = std::size(session_mutable_fields);

/// A value the compact form can hold: non-empty (empty means "absent"),
/// without the separator, and no `{` (which marks the JSON form).
bool compact_value(const std::string& v) {
  return !v.empty() && v.find_first_of("|{") == std::string::npos;
}

/// The values as they were, by field; nullopt for an absent field.
using values_then = std::vector<std::pair<std::string, std::optional<std::string>>>;

std::optional<values_then> parse_json_form(const std::string& text) {
  auto then = json::parse(text, nullptr, false);
  if (!then.is_object()) {
    return std::nullopt;
  }
  values_then out;
  for (auto& [field, value] : then.items()) {
    out.emplace_back(field, value.is_string()
                              ? std::optional{value.get<std::string>()}
                              : std::nullopt);
  }
  return out;
}

std::optional<values_then> parse_compact_form(const std::string& text) {
  values_then out;
  size_t start = 0;
  for (size_t i = 0; i < session_mutable_count; ++i) {
    auto bar = text.find('|', start);
    bool last = i + 1 == session_mutable_count;
    if (last != (bar == std::string::npos)) {
      return std::nullopt; // too few or too many values
    }
    auto v = text.substr(start, last ? std::string::npos : bar - start);
    out.emplace_back(session_mutable_fields[i],
                     v.empty() ? std::nullopt : std::optional{v});
    start = bar + 1;
  }
  return out;
}

} // namespace

std::string session_as_created(const render::fields& created) {
  // Compact, `open|unpaid|1796164345` (64 B less a key than the JSON
  // object: one jemalloc size class), unless a value cannot be written so.
  std::string compact;
  bool fits = true;
  for (size_t i = 0; i < session_mutable_count; ++i) {
    auto f = created.find(session_mutable_fields[i]);
    if (f != created.end()) {
      fits = fits && compact_value(f->second);
      compact += f->second;
    }
    if (i + 1 < session_mutable_count) {
      compact += '|';
    }
  }
  if (fits) {
    return compact;
  }
  json out = json::object();
  for (auto* field : session_mutable_fields) {
    auto i = created.find(field);
    out[field] = i == created.end() ? json(nullptr) : json(i->second);
  }
  return out.dump();
}

std::optional<std::string> render_stored_reference(
  const std::string& ref, render::fields now, const std::string& as_created) {
  if (now.empty() || ref.rfind("cs:", 0) != 0) {
    return std::nullopt;
  }
  // A JSON object (how keys were stored before the compact form, and how a
  // value the compact form cannot hold still is), or the compact form.
  auto then = !as_created.empty() && as_created.front() == '{'
                ? parse_json_form(as_created)
                : parse_compact_form(as_created);
  if (!then) {
    return std::nullopt;
  }
  for (auto& [field, value] : *then) {
    if (value) {
      now[field] = *value;
    } else {
      now.erase(field);
    }
  }
  return render::checkout_session(now).dump();
}

} // namespace psp::http
