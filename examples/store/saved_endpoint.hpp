// The store's webhook endpoint, kept beside its order journal. A store that
// registers a new endpoint at each start deletes the old one, and with it
// every delivery the PSP still had scheduled there: a payment made while
// the store was down would never reach its order. With this file a
// restarted store keeps its endpoint (and the secret, which the PSP shows
// only once), so those deliveries arrive after the restart.
#pragma once

#include <optional>
#include <string>

namespace store {

struct saved_endpoint {
  std::string id;     ///< `we_…`
  std::string secret; ///< `whsec_…`
  std::string url;    ///< `<public_url>/webhook` it was registered for
};

/// The endpoint saved at `path`; nullopt when there is no file. A file that
/// cannot be read as one is an error (`error` set), not "none".
std::optional<saved_endpoint> load_endpoint(const std::string& path,
                                            std::string& error);

/// Writes `ep` to `path` durably (a temporary file, fsync, rename, mode
/// 0600: the secret signs the PSP's webhooks). False with `error` set.
bool save_endpoint(const std::string& path, const saved_endpoint& ep,
                   std::string& error);

} // namespace store
