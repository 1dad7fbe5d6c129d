#include "actors/ownership.hpp"

#include <algorithm>

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

uint32_t payment_partition(const std::string& intent_id) {
  constexpr uint64_t modulus = 2147483647; // 2^31 - 1, prime
  uint64_t h = 0;
  for (unsigned char c : intent_id) {
    h = (h * 31 + c) % modulus;
  }
  return static_cast<uint32_t>(h % payment_partitions);
}

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

std::vector<int> partition_owners(const std::vector<std::string>& members) {
  std::vector<int> owners(payment_partitions, -1);
  if (members.empty()) {
    return owners;
  }
  // Each member takes `floor` partitions, and `extra` of them one more: the
  // first to reach that many keep it.
  auto floor = payment_partitions / members.size();
  auto extra = payment_partitions % members.size();
  size_t above_floor = 0;
  std::vector<size_t> load(members.size(), 0);
  std::vector<std::pair<uint64_t, int>> ranked(members.size());
  for (uint32_t p = 0; p < payment_partitions; ++p) {
    auto key = "partition-" + std::to_string(p);
    for (size_t i = 0; i < members.size(); ++i) {
      ranked[i] = {rendezvous_weight(members[i], key), static_cast<int>(i)};
    }
    // Highest weight first; ties (practically impossible) to the smaller
    // name, so every node agrees.
    std::sort(ranked.begin(), ranked.end(), [&](auto& a, auto& b) {
      if (a.first != b.first) {
        return a.first > b.first;
      }
      return members[a.second] < members[b.second];
    });
    for (auto& [weight, i] : ranked) {
      if (load[i] < floor || (load[i] == floor && above_floor < extra)) {
        above_floor += load[i] == floor;
        owners[p] = i;
        ++load[i];
        break;
      }
    }
  }
  return owners;
}

std::vector<uint32_t> all_partitions() {
  std::vector<uint32_t> out(payment_partitions);
  for (uint32_t p = 0; p < payment_partitions; ++p) {
    out[p] = p;
  }
  return out;
}

std::vector<uint32_t> owned_partitions(const std::string& self,
                                       const std::vector<std::string>& members) {
  if (members.empty()) {
    return all_partitions();
  }
  std::vector<uint32_t> out;
  auto owners = partition_owners(members);
  for (uint32_t p = 0; p < payment_partitions; ++p) {
    if (owners[p] >= 0 && members[owners[p]] == self) {
      out.push_back(p);
    }
  }
  return out;
}

} // namespace psp
