#include "runtime/reconciliation.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace psp::recon {

namespace {

/// The copies of one id on each side, as indices into the inputs.
struct id_group {
  std::vector<size_t> network;
  std::vector<size_t> psp;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

/// What the network should report for a PSP entry: refunds are negative in
/// the balance and positive on the settlement report.
int64_t network_amount_of(const psp_entry& e) {
  return e.type == "refund" ? -e.amount_minor : e.amount_minor;
}

class matcher {
public:
  matcher(const period& checked, const std::vector<psp_entry>& psp,
          const std::vector<network_line>& network, recon_result& out)
    : checked_(checked), psp_(psp), network_(network), out_(out) {
  }

  /// Groups both sides by line id, keeping first-seen order.
  void group() {
    for (size_t i = 0; i < network_.size(); ++i) {
      group_of(network_[i].id).network.push_back(i);
      if (checked_.contains(network_[i].created_s)) {
        ++out_.counts.network_lines;
      }
    }
    for (size_t i = 0; i < psp_.size(); ++i) {
      // An entry whose line id is unknown cannot match anything; its own
      // key keeps it apart from the other such entries.
      auto key = psp_[i].line_id.empty() ? "\x01" + psp_[i].txn
                                         : psp_[i].line_id;
      group_of(key).psp.push_back(i);
    }
  }

  void judge_all() {
    for (auto& key : order_) {
      judge(groups_[key]);
    }
  }

private:
  id_group& group_of(const std::string& key) {
    auto [it, inserted] = groups_.try_emplace(key);
    if (inserted) {
      order_.push_back(key);
    }
    return it->second;
  }

  /// The pair belongs to the period of its network line, a lone PSP entry
  /// to its own.
  bool judged_here(const id_group& g) const {
    if (!g.network.empty()) {
      return checked_.contains(network_[g.network[0]].created_s);
    }
    return checked_.contains(psp_[g.psp[0]].created_s);
  }

  difference base(const id_group& g, difference_kind kind) const {
    difference d;
    d.kind = kind;
    if (!g.network.empty()) {
      auto& n = network_[g.network[0]];
      d.network_line = n.id;
      d.intent = n.reference;
      d.merchant = n.merchant;
      d.type = n.type == "capture" ? "charge" : n.type;
      d.network_amount_minor = n.amount_minor;
      d.network_currency = n.currency;
    }
    if (!g.psp.empty()) {
      auto& p = psp_[g.psp[0]];
      d.psp_txn = p.txn;
      d.intent = p.intent;
      d.merchant = p.merchant;
      d.type = p.type;
      d.psp_amount_minor = network_amount_of(p);
      d.psp_currency = p.currency;
    }
    return d;
  }

  void add(difference d) {
    auto& c = out_.counts;
    switch (d.kind) {
      case difference_kind::missing_at_psp: ++c.missing_at_psp; break;
      case difference_kind::missing_at_network: ++c.missing_at_network; break;
      case difference_kind::amount_mismatch: ++c.amount_mismatch; break;
      case difference_kind::currency_mismatch: ++c.currency_mismatch; break;
      case difference_kind::duplicate: ++c.duplicate; break;
    }
    out_.differences.push_back(std::move(d));
  }

  void judge(const id_group& g) {
    if (!judged_here(g)) {
      return;
    }
    if (!g.psp.empty()) {
      ++out_.counts.psp_entries;
    }
    for (auto* side : {&g.network, &g.psp}) {
      if (side->size() > 1) {
        auto d = base(g, difference_kind::duplicate);
        d.side = side == &g.network ? "network" : "psp";
        d.copies = side->size();
        add(std::move(d));
      }
    }
    if (g.network.empty()) {
      return add(base(g, difference_kind::missing_at_network));
    }
    if (g.psp.empty()) {
      return add(base(g, difference_kind::missing_at_psp));
    }
    auto& n = network_[g.network[0]];
    auto& p = psp_[g.psp[0]];
    if (lower(n.currency) != lower(p.currency)) {
      return add(base(g, difference_kind::currency_mismatch));
    }
    if (n.amount_minor != network_amount_of(p)) {
      return add(base(g, difference_kind::amount_mismatch));
    }
    ++out_.counts.matched;
    if (!checked_.contains(p.created_s)) {
      ++out_.counts.straddling;
    }
  }

  const period checked_;
  const std::vector<psp_entry>& psp_;
  const std::vector<network_line>& network_;
  recon_result& out_;
  std::map<std::string, id_group> groups_;
  std::vector<std::string> order_; ///< network ids first, then PSP-only keys
};

} // namespace

recon_result reconcile(const period& checked, int64_t grace_s,
                       const std::vector<psp_entry>& psp,
                       const std::vector<network_line>& network) {
  recon_result out;
  out.checked = checked;
  out.grace_s = grace_s;
  matcher m{checked, psp, network, out};
  m.group();
  m.judge_all();
  return out;
}

const char* to_string(difference_kind kind) {
  switch (kind) {
    case difference_kind::missing_at_psp:
      return "missing_at_psp";
    case difference_kind::missing_at_network:
      return "missing_at_network";
    case difference_kind::amount_mismatch:
      return "amount_mismatch";
    case difference_kind::currency_mismatch:
      return "currency_mismatch";
    case difference_kind::duplicate:
      return "duplicate";
  }
  return "unknown";
}

} // namespace psp::recon
