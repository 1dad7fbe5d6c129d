#include "adapters/http/stored_reference.hpp"

#include <nlohmann/json.hpp>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// Every session field written after creation that the session's JSON
/// shows: status and payment_status (payment, expiry), expires_at (an
/// explicit expire sets it to the time of expiry).
constexpr const char* session_mutable_fields[] = {"status", "payment_status",
                                                  "expires_at"};

} // namespace

std::string session_as_created(const render::fields& created) {
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
  auto then = json::parse(as_created, nullptr, false);
  if (!then.is_object()) {
    return std::nullopt;
  }
  for (auto& [field, value] : then.items()) {
    if (value.is_string()) {
      now[field] = value.get<std::string>();
    } else {
      now.erase(field);
    }
  }
  return render::checkout_session(now).dump();
}

} // namespace psp::http
