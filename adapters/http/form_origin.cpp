#include "adapters/http/form_origin.hpp"

#include "adapters/http/text_checks.hpp"

namespace psp::http {

namespace {

/// "scheme://authority" of a URL (no path), as an Origin header has it.
std::string_view origin_of(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return {};
  }
  auto path = url.find('/', scheme_end + 3);
  return path == std::string_view::npos ? url : url.substr(0, path);
}

} // namespace

bool form_from_own_page(std::string_view origin, std::string_view sec_fetch_site,
                        std::string_view host, std::string_view public_url) {
  if (!sec_fetch_site.empty()) {
    // "none": typed or bookmarked, which a POST never is from a page of
    // another site; "same-site" is another subdomain: not ours either.
    return equals_ignoring_case(sec_fetch_site, "same-origin")
           || equals_ignoring_case(sec_fetch_site, "none");
  }
  if (origin.empty()) {
    return true;
  }
  if (equals_ignoring_case(origin, ascii_lower(origin_of(public_url)))) {
    return true;
  }
  // The node as the browser reached it (each node of a cluster, a proxy
  // that keeps Host): the Origin's authority is the Host header.
  auto scheme_end = origin.find("://");
  return scheme_end != std::string_view::npos && !host.empty()
         && equals_ignoring_case(origin.substr(scheme_end + 3),
                                 ascii_lower(host));
}

} // namespace psp::http
