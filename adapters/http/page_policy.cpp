#include "adapters/http/page_policy.hpp"

#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/encoding.hpp"

namespace psp::http {

namespace {

/// `'sha256-…'` of every element's text between `open` and `close`, or
/// `'none'` when the page has none.
std::string hash_sources(std::string_view html, std::string_view open,
                         std::string_view close) {
  std::string out;
  for (size_t at = html.find(open); at != std::string_view::npos;
       at = html.find(open, at)) {
    auto text_at = at + open.size();
    auto end = html.find(close, text_at);
    if (end == std::string_view::npos) {
      break;
    }
    out += (out.empty() ? "" : " ") + std::string{"'sha256-"}
           + crypto::base64_encode(
               crypto::sha256(html.substr(text_at, end - text_at)))
           + "'";
    at = end + close.size();
  }
  return out.empty() ? "'none'" : out;
}

} // namespace

std::string page_security_policy(std::string_view html) {
  return "default-src 'none'; script-src "
         + hash_sources(html, "<script>", "</script>") + "; style-src "
         + hash_sources(html, "<style>", "</style>")
         + "; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";
}

} // namespace psp::http
