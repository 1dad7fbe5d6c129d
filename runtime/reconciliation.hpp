#pragma once

// Reconciliation of one period, without Redis or HTTP: the PSP's balance
// transactions against the card network's settlement lines, matched by the
// network's line id (the charge id for a charge, the network's refund id for
// a refund). The caller reads both sides over the period widened by a grace
// window (recon_period.hpp) and this code decides what differs.
//
// Period edges: a pair is judged in the period of its network line (the
// settlement date); an item's counterpart may lie up to `grace_s` outside
// the period and still match. A PSP entry without a network line is judged
// in its own period. So a capture the network recorded at 09:59:59 and the
// PSP committed at 10:00:01 matches in the 09:00-10:00 run and is not
// reported by the 10:00-11:00 run either.

#include "runtime/recon_period.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psp::recon {

/// One PSP balance transaction as reconciliation sees it.
struct psp_entry {
  std::string txn;      ///< txn_...
  std::string type;     ///< "charge" | "refund"
  std::string line_id;  ///< the network's id of it; "" when unknown
  std::string intent;   ///< pi_...
  std::string merchant; ///< acct_...
  /// The balance transaction's amount: positive for a charge, negative for
  /// a refund.
  int64_t amount_minor = 0;
  std::string currency;
  int64_t created_s = 0;
};

/// One line of the network's settlement report.
struct network_line {
  std::string id;        ///< ch_... (capture) or the network's re_...
  std::string type;      ///< "capture" | "refund"
  std::string charge;    ///< the charge a refund belongs to
  std::string reference; ///< the PSP's intent id
  std::string merchant;
  int64_t amount_minor = 0; ///< always positive
  std::string currency;
  int64_t created_s = 0;
};

enum class difference_kind {
  missing_at_psp,     ///< a network line without a PSP balance transaction
  missing_at_network, ///< a PSP balance transaction without a network line
  amount_mismatch,
  currency_mismatch,
  duplicate, ///< one line id twice on one side
};

/// One difference, with every id that helps an operator find the items.
struct difference {
  difference_kind kind = difference_kind::missing_at_psp;
  std::string network_line; ///< "" when the network has no line
  std::string psp_txn;      ///< "" when the PSP has no transaction
  std::string intent;       ///< from the PSP entry, else the line reference
  std::string merchant;
  std::string type;    ///< "charge" | "refund"
  std::string side;    ///< duplicates: "psp" | "network"; else ""
  size_t copies = 0;   ///< duplicates: how many times the id appears
  /// What the PSP expects the network to report (a refund's as a positive
  /// number, as the network writes it) and what it reported.
  std::optional<int64_t> psp_amount_minor;
  std::optional<int64_t> network_amount_minor;
  std::string psp_currency;
  std::string network_currency;
};

struct recon_counts {
  size_t psp_entries = 0;   ///< PSP entries judged in this period
  size_t network_lines = 0; ///< network lines dated in this period
  size_t matched = 0;       ///< pairs that agree
  size_t straddling = 0;    ///< matched pairs with one side outside the period
  size_t missing_at_psp = 0;
  size_t missing_at_network = 0;
  size_t amount_mismatch = 0;
  size_t currency_mismatch = 0;
  size_t duplicate = 0;
};

struct recon_result {
  period checked;
  int64_t grace_s = 0;
  recon_counts counts;
  std::vector<difference> differences;

  bool clean() const { return differences.empty(); }
};

/// Compares both sides (each read over widened(checked, grace_s)). The
/// differences come in the order of the network report, then of the PSP
/// entries, each id once.
recon_result reconcile(const period& checked, int64_t grace_s,
                       const std::vector<psp_entry>& psp,
                       const std::vector<network_line>& network);

/// "missing_at_psp", ...
const char* to_string(difference_kind kind);

} // namespace psp::recon
