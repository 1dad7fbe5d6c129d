#include "settlement_faults.hpp"

#include "request_parsing.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace psp::sim {

namespace {

using json = nlohmann::json;

bool valid_line_id(const json& v) {
  return v.is_string() && !v.get_ref<const std::string&>().empty() &&
         v.get_ref<const std::string&>().size() <= text_field_length_max;
}

std::optional<std::string> read_ids(const std::string& name, const json& v,
                                    std::set<std::string>& out) {
  if (!v.is_array() || v.size() > settlement_fault_ids_max) {
    return name + " must be an array of at most 10000 line ids";
  }
  for (const auto& id : v) {
    if (!valid_line_id(id)) {
      return name + " must hold line ids (strings of 1 to 255 characters)";
    }
    out.insert(id.get<std::string>());
  }
  return std::nullopt;
}

bool valid_amount(const json& v) {
  if (!v.is_number_integer()) {
    return false;
  }
  // Large unsigned values would wrap when read as signed.
  if (v.is_number_unsigned()) {
    return v.get<uint64_t>() <= uint64_t(amount_minor_max);
  }
  auto amount = v.get<int64_t>();
  return amount >= 0 && amount <= amount_minor_max;
}

std::optional<std::string> read_amounts(const json& v,
                                        std::map<std::string, int64_t>& out) {
  if (!v.is_object() || v.size() > settlement_fault_ids_max) {
    return std::string{"amount must be an object of at most 10000 line ids"};
  }
  for (const auto& [id, amount] : v.items()) {
    if (!valid_line_id(json(id))) {
      return std::string{"amount keys must be line ids of 1 to 255 "
                         "characters"};
    }
    if (!valid_amount(amount)) {
      return "amount for " + id + " must be an integer from 0 to 99999999";
    }
    out[id] = amount.get<int64_t>();
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> parse_settlement_faults(const json& doc,
                                                   settlement_fault_set& out) {
  if (!doc.is_object()) {
    return std::string{"body must be a JSON object"};
  }
  settlement_fault_set parsed;
  for (const auto& [name, value] : doc.items()) {
    std::optional<std::string> err;
    if (name == "drop") {
      err = read_ids(name, value, parsed.drop);
    } else if (name == "duplicate") {
      err = read_ids(name, value, parsed.duplicate);
    } else if (name == "amount") {
      err = read_amounts(value, parsed.amount_minor);
    } else {
      err = name + " is not a settlement fault (drop, amount, duplicate)";
    }
    if (err) {
      return err;
    }
  }
  out = std::move(parsed);
  return std::nullopt;
}

json to_json(const settlement_fault_set& faults) {
  json amounts = json::object();
  for (const auto& [id, amount] : faults.amount_minor) {
    amounts[id] = amount;
  }
  return {{"drop", faults.drop},
          {"amount", std::move(amounts)},
          {"duplicate", faults.duplicate}};
}

settlement_fault_set settlement_fault_table::get() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return faults_;
}

void settlement_fault_table::replace(settlement_fault_set faults) {
  std::lock_guard<std::mutex> guard{mtx_};
  faults_ = std::move(faults);
}

void settlement_fault_table::clear() {
  replace({});
}

} // namespace psp::sim
