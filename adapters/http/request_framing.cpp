#include "adapters/http/request_framing.hpp"

#include "adapters/http/text_checks.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace psp::http {

namespace {

/// RFC 9110 5.6.2: tchar.
bool is_token(std::string_view name) {
  return !name.empty()
         && std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                     || (c >= '0' && c <= '9')
                     || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
            });
}

bool has_control_character(std::string_view value) {
  return std::any_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

/// The body's length when every Content-Length header says the same plain
/// decimal; nullopt when one is malformed or they disagree; 0 when none.
std::optional<size_t> declared_length(const httplib::Headers& headers) {
  constexpr size_t digits_max = 18; // below 2^63, no overflow
  auto [first, last] = headers.equal_range("Content-Length");
  std::optional<std::string> agreed;
  for (auto it = first; it != last; ++it) {
    const auto& v = it->second;
    if (v.empty() || v.size() > digits_max
        || v.find_first_not_of("0123456789") != std::string::npos
        || (agreed && *agreed != v)) {
      return std::nullopt;
    }
    agreed = v;
  }
  return agreed ? static_cast<size_t>(std::stoull(*agreed)) : 0;
}

api_error framing(int status, std::string message) {
  api_error e;
  e.status = status;
  e.message = std::move(message);
  return e;
}

} // namespace

std::optional<api_error> framing_error(const std::string& method,
                                       const httplib::Headers& headers,
                                       size_t body_bytes_max) {
  for (auto& [name, value] : headers) {
    if (!is_token(name)) {
      return framing(400, "Malformed header name: a header's name has "
                          "characters a name may not have.");
    }
    if (has_control_character(value)) {
      return framing(400, "The " + name + " header holds a control "
                          "character.");
    }
  }
  if (headers.count("Transfer-Encoding") != 0) {
    return framing(411, "Transfer-Encoding is not supported: send the body "
                        "with a Content-Length header.");
  }
  auto coding = headers.find("Content-Encoding");
  if (coding != headers.end() && !equals_ignoring_case(coding->second,
                                                       "identity")) {
    return framing(415, "Content-Encoding is not supported: send the body "
                        "uncompressed.");
  }
  auto length = declared_length(headers);
  if (!length) {
    return framing(400, "Invalid Content-Length header: send one, as a "
                        "decimal number of bytes.");
  }
  if (*length > body_bytes_max) {
    return framing(413, "Request body too large.");
  }
  // cpp-httplib 0.11 reads a body for these methods only (expect_content).
  bool body_read = method == "POST" || method == "PUT" || method == "PATCH"
                   || method == "DELETE";
  if (*length > 0 && !body_read) {
    return framing(400, "A " + method + " request has no body: send its "
                        "parameters in the query string.");
  }
  for (const char* single : {"Authorization", "Idempotency-Key"}) {
    if (headers.count(single) > 1) {
      return framing(400, std::string{"Send one "} + single + " header.");
    }
  }
  return std::nullopt;
}

std::optional<api_error> query_error(const std::string& method,
                                     const std::string& path,
                                     const httplib::Params& params) {
  for (auto& [name, value] : params) {
    bool in_name = name.find('\0') != std::string::npos;
    if (in_name || value.find('\0') != std::string::npos) {
      auto e = framing(400, "A query parameter holds a NUL character (%00).");
      e.param = in_name ? "" : name;
      return e;
    }
  }
  if (method != "POST" || path.rfind("/v1/", 0) != 0 || params.empty()) {
    return std::nullopt;
  }
  auto& name = params.begin()->first;
  auto e = framing(400, "Received a parameter in the query string of a POST: "
                          + name
                          + ". Send a POST's parameters in its "
                            "application/x-www-form-urlencoded body.");
  e.param = name;
  return e;
}

} // namespace psp::http
