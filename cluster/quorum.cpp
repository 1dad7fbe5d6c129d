#include "cluster/quorum.hpp"

#include <iterator>
#include <set>

namespace psp {

quorum_decision decide_quorum(const std::string& self_id,
                              const std::vector<std::string>& registered,
                              const std::vector<std::string>& reachable,
                              bool holds_now) {
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
    out.has_quorum = holds_now && side.count(*members.begin()) > 0;
  } else {
    out.has_quorum = false;
  }
  return out;
}

void quorum_members::observe(const std::set<std::string>& alive,
                             const std::set<std::string>& left,
                             time_point now) {
  for (auto& id : alive_) {
    if (alive.count(id) == 0 && left.count(id) == 0) {
      absent_since_.emplace(id, now); // keeps an earlier start
    }
  }
  for (auto i = absent_since_.begin(); i != absent_since_.end();) {
    bool back = alive.count(i->first) > 0;
    bool gone = left.count(i->first) > 0 || now - i->second >= grace_;
    i = back || gone ? absent_since_.erase(i) : std::next(i);
  }
  alive_ = alive;
}

std::vector<std::string> quorum_members::counted() const {
  std::set<std::string> out{alive_.begin(), alive_.end()};
  for (auto& [id, since] : absent_since_) {
    out.insert(id);
  }
  return {out.begin(), out.end()};
}

} // namespace psp
