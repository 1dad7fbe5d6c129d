#include "cluster/quorum.hpp"

#include <set>

namespace psp {

quorum_decision decide_quorum(const std::string& self_id,
                              const std::vector<std::string>& registered,
                              const std::vector<std::string>& reachable) {
  std::set<std::string> members{registered.begin(), registered.end()};
  members.insert(self_id);
  std::set<std::string> side{self_id};
  for (auto& id : reachable) {
    if (members.count(id) > 0) {
      side.insert(id);
    }
  }
  quorum_decision out;
  out.registered = members.size();
  out.reachable = side.size();
  if (2 * out.reachable > out.registered) {
    out.has_quorum = true;
  } else if (2 * out.reachable == out.registered) {
    // A tie: the half holding the smallest registered id keeps working.
    out.has_quorum = side.count(*members.begin()) > 0;
  } else {
    out.has_quorum = false;
  }
  return out;
}

} // namespace psp
