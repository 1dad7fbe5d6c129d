#include "http_reply.hpp"

#include "json_codec.hpp"

#include <httplib.h>

namespace psp::sim {

namespace {

constexpr const char* json_type = "application/json";

} // namespace

void send(httplib::Response& res, const api_response& out) {
  res.status = out.status;
  if (out.replayed) {
    res.set_header("Idempotent-Replayed", "true");
  }
  res.set_content(out.body, json_type);
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(dump_json(body), json_type);
}

} // namespace psp::sim
