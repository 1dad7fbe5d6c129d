// The store's view of the PSP: an interface (so handlers can be tested with
// a fake) and its HTTP implementation on cpp-httplib.
#pragma once

#include "psp_wire.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace httplib {
class Client;
} // namespace httplib

namespace store {

/// A value or the PSP's error; never both.
template <class T>
struct psp_result {
  std::optional<T> value;
  psp_error error;
  bool ok() const { return value.has_value(); }
};

/// The three PSP calls the store makes.
class psp_api {
public:
  virtual ~psp_api() = default;

  /// POST /v1/webhook_endpoints for `<public_url>/webhook`, all events.
  virtual psp_result<webhook_endpoint>
  create_webhook_endpoint(const std::string& public_url) = 0;

  /// POST /v1/checkout/sessions with req.idempotency_key as the
  /// Idempotency-Key, so a retry after a lost answer returns the same
  /// session instead of a second one.
  virtual psp_result<checkout_session>
  create_checkout_session(const checkout_request& req) = 0;

  /// GET /v1/checkout/sessions/<id>.
  virtual psp_result<checkout_session>
  retrieve_checkout_session(const std::string& session_id) = 0;

  /// Deletes endpoints left by an earlier run of this store, at
  /// `<public_url>/webhook` or marked with store_endpoint_description on
  /// any URL (their secrets died with it), except `keep_id`. Returns how
  /// many; best effort.
  virtual int remove_stale_webhook_endpoints(const std::string& public_url,
                                             const std::string& keep_id = {}) {
    return 0;
  }

  /// GET /v1/webhook_endpoints/<id>: true when it still exists, enabled,
  /// for `url`; false when it is gone or changed; an error when the PSP
  /// could not say.
  virtual psp_result<bool> endpoint_is_live(const std::string& id,
                                            const std::string& url) {
    return {false, {}};
  }
};

/// Connect and read timeouts towards the PSP.
constexpr int psp_timeout_s = 5;
/// Idle keep-alive connections kept for reuse.
constexpr size_t psp_idle_connections_max = 16;

class http_psp_client : public psp_api {
public:
  /// `base_url` like http://127.0.0.1:8080; `api_key` sent as a Bearer token.
  http_psp_client(std::string base_url, std::string api_key);
  ~http_psp_client() override;

  psp_result<webhook_endpoint>
  create_webhook_endpoint(const std::string& public_url) override;

  psp_result<checkout_session>
  create_checkout_session(const checkout_request& req) override;

  psp_result<checkout_session>
  retrieve_checkout_session(const std::string& session_id) override;

  int remove_stale_webhook_endpoints(const std::string& public_url,
                                     const std::string& keep_id) override;

  psp_result<bool> endpoint_is_live(const std::string& id,
                                    const std::string& url) override;

private:
  struct http_reply {
    int status = 0;   ///< 0: no HTTP answer
    std::string body; ///< response body, or the transport error text
  };

  http_reply send(bool post, const std::string& path, const std::string& form,
                  const std::string& idempotency_key);
  std::unique_ptr<httplib::Client> acquire(bool& reused);
  void release(std::unique_ptr<httplib::Client> client);

  const std::string base_url_;
  const std::string api_key_;
  std::mutex mtx_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

} // namespace store
