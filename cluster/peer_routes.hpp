#pragma once

// Where this node dials a peer's cluster endpoint. Normally the address the
// peer registered in Redis; `--psp.cluster-peer-routes` overrides it per
// peer, e.g. to go through a fault-injecting TCP proxy that can cut a node
// off from its peers (examples/experiments/partition_proxy.mjs). Pure
// functions, no actors.

#include <map>
#include <string>

namespace psp {

/// Peer node id -> host:port to dial instead of its registered address.
using peer_routes = std::map<std::string, std::string>;

/// Bound on the number of routes (one per peer).
constexpr size_t peer_routes_max = 256;

/// Parses "nodeB=127.0.0.1:19001,nodeC=127.0.0.1:19002" (empty text: no
/// routes). Each item is id=host:port with a non-empty id and host and a
/// port 1..65535; an id appears once. False with a message in `err`.
bool parse_peer_routes(const std::string& text, peer_routes& out,
                       std::string& err);

/// The address to dial for `peer_id`: its route if there is one, else the
/// address it registered.
const std::string& dial_address(const peer_routes& routes,
                                const std::string& peer_id,
                                const std::string& registered_address);

} // namespace psp
