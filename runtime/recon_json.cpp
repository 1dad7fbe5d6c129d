#include "runtime/recon_json.hpp"

#include "actors/decimal.hpp"

namespace psp::recon {

namespace {

using json = nlohmann::json;

std::string string_or_empty(const json& line, const char* key) {
  auto it = line.find(key);
  return it != line.end() && it->is_string() ? it->get<std::string>() : "";
}

std::optional<int64_t> integer(const json& line, const char* key) {
  auto it = line.find(key);
  if (it == line.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return it->get<int64_t>();
}

json id_or_null(const std::string& id) {
  return id.empty() ? json(nullptr) : json(id);
}

} // namespace

std::variant<std::vector<network_line>, std::string>
parse_settlement(std::string_view body) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("lines")
      || !doc["lines"].is_array()) {
    return std::string{"the settlement report is not {\"lines\": [...]}"};
  }
  std::vector<network_line> out;
  out.reserve(doc["lines"].size());
  for (auto& l : doc["lines"]) {
    if (!l.is_object()) {
      return "a settlement line is not an object: " + l.dump();
    }
    network_line n;
    n.id = string_or_empty(l, "id");
    n.type = string_or_empty(l, "type");
    n.charge = string_or_empty(l, "charge");
    n.reference = string_or_empty(l, "reference");
    n.merchant = string_or_empty(l, "merchant");
    n.currency = string_or_empty(l, "currency");
    auto amount = integer(l, "amount");
    auto created = integer(l, "created");
    if (n.id.empty() || (n.type != "capture" && n.type != "refund")
        || n.currency.empty() || !amount || !created) {
      return "a settlement line lacks id, type, amount, currency or "
             "created: "
             + l.dump();
    }
    n.amount_minor = *amount;
    n.created_s = *created;
    out.push_back(std::move(n));
  }
  return out;
}

json to_json(const difference& d) {
  json out{{"kind", to_string(d.kind)},
           {"network_line", id_or_null(d.network_line)},
           {"psp_txn", id_or_null(d.psp_txn)},
           {"intent", id_or_null(d.intent)},
           {"merchant", id_or_null(d.merchant)},
           {"type", d.type}};
  if (d.kind == difference_kind::duplicate) {
    out["side"] = d.side;
    out["copies"] = d.copies;
  }
  out["psp_amount_minor"] = d.psp_amount_minor ? json(*d.psp_amount_minor)
                                               : json(nullptr);
  out["network_amount_minor"] = d.network_amount_minor
                                  ? json(*d.network_amount_minor)
                                  : json(nullptr);
  out["psp_currency"] = id_or_null(d.psp_currency);
  out["network_currency"] = id_or_null(d.network_currency);
  return out;
}

json to_json(const recon_counts& c) {
  return json{{"psp_entries", c.psp_entries},
              {"network_lines", c.network_lines},
              {"matched", c.matched},
              {"straddling", c.straddling},
              {"missing_at_psp", c.missing_at_psp},
              {"missing_at_network", c.missing_at_network},
              {"amount_mismatch", c.amount_mismatch},
              {"currency_mismatch", c.currency_mismatch},
              {"duplicate", c.duplicate},
              {"differences", c.missing_at_psp + c.missing_at_network
                                + c.amount_mismatch + c.currency_mismatch
                                + c.duplicate}};
}

namespace {

json differences_json(const recon_run& run) {
  auto out = json::array();
  for (auto& d : run.result.differences) {
    if (out.size() == stored_differences_max) {
      break;
    }
    out.push_back(to_json(d));
  }
  return out;
}

} // namespace

json to_json(const recon_run& run) {
  auto& r = run.result;
  return json{{"id", run.id},
              {"object", "reconciliation_run"},
              {"from", r.checked.from_s},
              {"to", r.checked.to_s},
              {"grace_s", r.grace_s},
              {"started", run.started_s},
              {"finished", run.finished_s},
              {"status", run.status()},
              {"trigger", run.trigger},
              {"node", run.node},
              {"counts", to_json(r.counts)},
              {"differences", differences_json(run)},
              {"differences_truncated",
               r.differences.size() > stored_differences_max},
              {"provisional", run.provisional()},
              {"settles_at", run.settles_at_s()},
              {"event", id_or_null(run.event)}};
}

std::vector<std::pair<std::string, std::string>>
to_fields(const recon_run& run) {
  auto& r = run.result;
  return {{"id", run.id},
          {"from", std::to_string(r.checked.from_s)},
          {"to", std::to_string(r.checked.to_s)},
          {"grace_s", std::to_string(r.grace_s)},
          {"started", std::to_string(run.started_s)},
          {"finished", std::to_string(run.finished_s)},
          {"status", run.status()},
          {"trigger", run.trigger},
          {"node", run.node},
          {"counts", to_json(r.counts).dump()},
          {"differences", differences_json(run).dump()},
          {"differences_truncated",
           r.differences.size() > stored_differences_max ? "1" : "0"},
          {"event", run.event}};
}

json report_from_fields(const std::map<std::string, std::string>& f) {
  auto get = [&](const char* key) -> const std::string* {
    auto it = f.find(key);
    return it == f.end() ? nullptr : &it->second;
  };
  json out{{"object", "reconciliation_run"}};
  for (auto* key : {"id", "status", "trigger", "node"}) {
    auto* v = get(key);
    if (!v) {
      return json(json::value_t::discarded);
    }
    out[key] = *v;
  }
  for (auto* key : {"from", "to", "grace_s", "started", "finished"}) {
    auto* v = get(key);
    auto n = v ? parse_integer(*v) : std::nullopt;
    if (!n) {
      return json(json::value_t::discarded);
    }
    out[key] = *n;
  }
  for (auto* key : {"counts", "differences"}) {
    auto* v = get(key);
    auto doc = v ? json::parse(*v, nullptr, false) : json();
    if (!v || doc.is_discarded()) {
      return json(json::value_t::discarded);
    }
    out[key] = std::move(doc);
  }
  auto* truncated = get("differences_truncated");
  out["differences_truncated"] = truncated && *truncated == "1";
  out["provisional"] = out["started"].get<int64_t>()
                       < out["to"].get<int64_t>() + out["grace_s"].get<int64_t>();
  out["settles_at"] = out["to"].get<int64_t>() + out["grace_s"].get<int64_t>();
  auto* event = get("event");
  out["event"] = id_or_null(event ? *event : "");
  return out;
}

json event_snapshot(const recon_run& run) {
  return json{{"run", run.id},
              {"from", run.result.checked.from_s},
              {"to", run.result.checked.to_s},
              {"trigger", run.trigger},
              {"counts", to_json(run.result.counts)}};
}

} // namespace psp::recon
