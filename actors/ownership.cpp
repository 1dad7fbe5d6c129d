#include "actors/ownership.hpp"

namespace psp {

namespace {

/// FNV-1a, then a 64-bit finalizer so that similar inputs spread well.
uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

void feed(uint64_t& h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
}

} // namespace

uint64_t rendezvous_weight(const std::string& member, const std::string& key) {
  uint64_t h = 0xcbf29ce484222325ULL;
  feed(h, member);
  h ^= 0xff; // separator: ("ab","c") and ("a","bc") differ
  h *= 0x100000001b3ULL;
  feed(h, key);
  return mix(h);
}

int owner_index(const std::string& key,
                const std::vector<std::string>& members) {
  int best = -1;
  uint64_t best_weight = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    auto w = rendezvous_weight(members[i], key);
    // Ties (practically impossible) go to the smaller name, so every node
    // agrees.
    if (best < 0 || w > best_weight
        || (w == best_weight && members[i] < members[best])) {
      best = static_cast<int>(i);
      best_weight = w;
    }
  }
  return best;
}

} // namespace psp
