#pragma once

// Test-only faults in the settlement report, so reconciliation tests can
// inject the differences a real network's report has (a missing line, a
// wrong amount, a line reported twice). They change only what
// GET /admin/settlement reports, never the book or the charge counts.

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace psp::sim {

/// Most line ids one fault kind may name.
constexpr size_t settlement_fault_ids_max = 10'000;

/// The faults, keyed by line id (the charge id for a capture, the refund id
/// for a refund). A dropped line is not reported at all, whatever else names
/// it; a changed amount applies to every copy of a duplicated line.
struct settlement_fault_set {
  std::set<std::string> drop;
  std::map<std::string, int64_t> amount_minor;
  std::set<std::string> duplicate;

  bool operator==(const settlement_fault_set& other) const {
    return drop == other.drop && amount_minor == other.amount_minor &&
           duplicate == other.duplicate;
  }
};

/// Parses `{"drop":[ids],"amount":{id:N},"duplicate":[ids]}` (every field
/// optional) into `out`. Returns the error for an unknown field, a bad type,
/// an amount outside 0..99999999 or too many ids; `out` is then untouched.
std::optional<std::string> parse_settlement_faults(const nlohmann::json& doc,
                                                   settlement_fault_set& out);

/// The set with all three fields, in the shape the parser accepts.
nlohmann::json to_json(const settlement_fault_set& faults);

/// The live set behind /admin/settlement_faults; safe from any thread.
class settlement_fault_table {
public:
  settlement_fault_set get() const;

  /// Replaces the whole set (POST semantics).
  void replace(settlement_fault_set faults);

  /// Back to no faults (DELETE, and POST /admin/reset).
  void clear();

private:
  mutable std::mutex mtx_;
  settlement_fault_set faults_;
};

} // namespace psp::sim
