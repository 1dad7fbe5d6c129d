#include "adapters/archive/archive_plan.hpp"

#include "adapters/archive/archive_locator.hpp"

namespace psp::archive {

namespace {

bool is(const stored_object& o, const char* name, const char* value) {
  auto* v = field_of(o, name);
  return v != nullptr && *v == value;
}

bool zero_or_absent(const stored_object& o, const char* name) {
  auto* v = field_of(o, name);
  return v == nullptr || v->empty() || *v == "0";
}

std::string prefix_of(const std::string& key) {
  return key.substr(0, key.find(':'));
}

// A delivery record is `status|attempts|at|error` (adapters/redis/
// lua_events.cpp); these statuses are final.
bool final_delivery(const std::string& record) {
  auto status = record.substr(0, record.find('|'));
  return status == "delivered" || status == "dead" || status == "dropped";
}

bool deliveries_pending(const std::vector<stored_object>& objects) {
  return !pending_deliveries(objects).empty();
}

/// The objects were read for exactly these keys, in this order.
bool read_for(const std::vector<std::string>& keys,
              const std::vector<stored_object>& objects) {
  if (objects.size() != keys.size()) {
    return false;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (objects[i].key != keys[i]) {
      return false;
    }
  }
  return true;
}

} // namespace

std::vector<std::string>
pending_deliveries(const std::vector<stored_object>& objects) {
  std::vector<std::string> out;
  for (auto& o : objects) {
    if (prefix_of(o.key) != "evt") {
      continue;
    }
    for (auto& [f, v] : o.fields) {
      if (f.rfind("wh:", 0) == 0 && !final_delivery(v)) {
        out.push_back(o.key.substr(4) + ":" + f.substr(3));
      }
    }
  }
  return out;
}

bool is_refund_id(const std::string& id) {
  return id.rfind("re_", 0) == 0;
}

std::optional<std::vector<std::string>>
refund_keys(const std::string& refund_id) {
  if (!is_refund_id(refund_id)) {
    return std::nullopt;
  }
  auto suffix = refund_id.substr(3);
  if (suffix.size() < archive_id_chars
      || suffix.find('_') != std::string::npos) {
    return std::nullopt;
  }
  // Named as refund_routes.cpp and the commit step name them
  // (event_id_for(refund, "N"), add_event "U" and "R").
  return std::vector<std::string>{
    "re:" + refund_id,          "pa:" + refund_id,
    "txn:txn_" + suffix,        "evt:evt_" + suffix + "N",
    "evt:evt_" + suffix + "U",  "evt:evt_" + suffix + "R"};
}

bool is_op_id(const std::string& id) {
  for (auto* prefix : {"pa_", "cap_", "void_"}) {
    if (id.rfind(prefix, 0) == 0) {
      return true;
    }
  }
  return false;
}

std::optional<std::vector<std::string>> op_keys(const std::string& op_id) {
  if (!is_op_id(op_id)) {
    return std::nullopt;
  }
  auto suffix = op_id.substr(op_id.find('_') + 1);
  if (suffix.size() < archive_id_chars
      || suffix.find('_') != std::string::npos) {
    return std::nullopt;
  }
  // Named as the commit step names them (actors/payment_logic.cpp): F
  // payment_intent.payment_failed, S payment_intent.succeeded (a capture),
  // X payment_intent.canceled (a void, or an authorisation gone).
  return std::vector<std::string>{
    "pa:" + op_id, "evt:evt_" + suffix + "F", "evt:evt_" + suffix + "S",
    "evt:evt_" + suffix + "X", "txn:txn_" + suffix};
}

bool is_session_id(const std::string& id) {
  return id.rfind("cs_", 0) == 0;
}

std::optional<std::vector<std::string>>
session_keys(const std::string& session_id, const std::string& intent_id) {
  if (!is_session_id(session_id) || intent_id.empty()) {
    return std::nullopt;
  }
  // The random part follows the last underscore (cs_test_...), as
  // event_id_for(session, "E") names the expiry event (the expire endpoint
  // and the sweep alike).
  auto suffix = session_id.substr(session_id.rfind('_') + 1);
  if (suffix.size() < archive_id_chars) {
    return std::nullopt;
  }
  // X: its intent's payment_intent.canceled (absent for a session expired
  // before the expiry emitted it).
  return std::vector<std::string>{"cs:" + session_id,
                                  "evt:evt_" + suffix + "E",
                                  "evt:evt_" + suffix + "X",
                                  "pi:" + intent_id};
}

std::optional<std::vector<std::string>>
payment_keys(const std::string& intent_id, const intent_refs& refs) {
  bool manual = refs.capture_method == "manual";
  bool finished = refs.status == "succeeded"
                  || (manual && refs.status == "canceled");
  if (!finished || refs.latest_charge.empty()) {
    return std::nullopt;
  }
  auto pos = refs.attempt.rfind('_');
  if (pos == std::string::npos || refs.attempt.compare(0, pos, "pa") != 0) {
    return std::nullopt;
  }
  auto suffix = refs.attempt.substr(pos + 1);
  if (suffix.size() < archive_id_chars) {
    return std::nullopt;
  }
  std::vector<std::string> keys{"pi:" + intent_id, "pa:" + refs.attempt};
  if (!refs.session.empty()) {
    keys.push_back("cs:" + refs.session);
  }
  // The commit step names the events of a charge after its attempt
  // (actors/payment_logic.cpp): S succeeded, C session completed.
  keys.push_back("evt:evt_" + suffix + "S");
  keys.push_back("evt:evt_" + suffix + "C");
  keys.push_back("txn:txn_" + suffix);
  keys.push_back("charge:" + refs.latest_charge);
  if (manual) {
    // payment_intent.amount_capturable_updated, named after the
    // authorisation; its capture's events are the capture op's.
    keys.push_back("evt:evt_" + suffix + "A");
  }
  return keys;
}

std::optional<std::vector<std::string>>
canceled_intent_keys(const std::string& intent_id, const intent_refs& refs) {
  if (refs.status != "canceled" || !refs.latest_charge.empty()
      || !refs.session.empty()) {
    return std::nullopt;
  }
  // The cancel endpoint names the event event_id_for(intent, "X").
  auto suffix = intent_id.substr(intent_id.rfind('_') + 1);
  if (intent_id.rfind("pi_", 0) != 0 || suffix.size() < archive_id_chars) {
    return std::nullopt;
  }
  return std::vector<std::string>{"pi:" + intent_id,
                                  "evt:evt_" + suffix + "X"};
}

readiness judge(const std::string& intent_id,
                const std::vector<std::string>& keys,
                const std::vector<stored_object>& objects) {
  if (objects.size() < 2 || objects.size() != keys.size()) {
    return readiness::never;
  }
  auto& pi = objects[0];
  auto text = [&pi](const char* name) {
    auto* v = field_of(pi, name);
    return v == nullptr ? std::string{} : *v;
  };
  intent_refs refs{text("status"), text("attempt"), text("session"),
                   text("latest_charge"), text("capture_method")};
  if (auto canceled = canceled_intent_keys(intent_id, refs)) {
    if (*canceled != keys || !read_for(keys, objects)
        || !text("pending_op").empty()) {
      return readiness::never;
    }
    return deliveries_pending(objects) ? readiness::later : readiness::ready;
  }
  auto named = payment_keys(intent_id, refs);
  if (!named || *named != keys) {
    return readiness::never;
  }
  auto& pa = objects[1];
  bool manual = is(pi, "capture_method", "manual");
  // A finished capture or void leaves pending_op empty, not absent.
  if (!zero_or_absent(pi, "refund_pending")
      || !text("pending_op").empty()) {
    return readiness::never;
  }
  if (!is(pa, "status", "succeeded")
      || !is(pa, "kind", manual ? "authorize" : "charge")
      || field_of(pa, "job") != nullptr) {
    return readiness::never;
  }
  for (size_t i = 2; i < objects.size(); ++i) {
    // Events and the balance transaction are optional; the session (when
    // the intent names one) and the charge index are not.
    auto prefix = prefix_of(objects[i].key);
    if (objects[i].fields.empty() && (prefix == "cs" || prefix == "charge")) {
      return readiness::never;
    }
  }
  return deliveries_pending(objects) ? readiness::later : readiness::ready;
}

readiness judge_refund(const std::string& refund_id,
                       const std::vector<std::string>& keys,
                       const std::vector<stored_object>& objects) {
  auto named = refund_keys(refund_id);
  if (!named || *named != keys || !read_for(keys, objects)) {
    return readiness::never;
  }
  // The refund and its op record must be there; a failed refund has no
  // balance transaction and no charge.refunded event.
  auto& re = objects[0];
  auto& op = objects[1];
  if (field_of(re, "merchant") == nullptr
      || !(is(re, "status", "succeeded") || is(re, "status", "failed"))) {
    return readiness::never;
  }
  if (op.fields.empty() || is(op, "status", "pending")
      || field_of(op, "job") != nullptr) {
    return readiness::never;
  }
  return deliveries_pending(objects) ? readiness::later : readiness::ready;
}

readiness judge_session(const std::string& session_id,
                        const std::vector<std::string>& keys,
                        const std::vector<stored_object>& objects) {
  if (keys.size() != 4 || !read_for(keys, objects)) {
    return readiness::never;
  }
  auto& cs = objects[0];
  auto& pi = objects[3];
  auto* intent = field_of(cs, "intent");
  auto named = session_keys(session_id, intent == nullptr ? "" : *intent);
  if (!named || *named != keys || field_of(cs, "merchant") == nullptr) {
    return readiness::never;
  }
  if (!is(cs, "status", "expired") || !is(pi, "status", "canceled")) {
    return readiness::never;
  }
  return deliveries_pending(objects) ? readiness::later : readiness::ready;
}

readiness judge_op(const std::string& op_id,
                   const std::vector<std::string>& keys,
                   const std::vector<stored_object>& objects) {
  auto named = op_keys(op_id);
  if (!named || *named != keys || !read_for(keys, objects)) {
    return readiness::never;
  }
  auto& op = objects[0];
  if (op.fields.empty() || field_of(op, "job") != nullptr) {
    return readiness::never;
  }
  bool attempt = is(op, "kind", "charge") || is(op, "kind", "authorize");
  bool declined = attempt && is(op, "status", "failed");
  bool settled = (is(op, "kind", "capture") || is(op, "kind", "void"))
                 && (is(op, "status", "succeeded") || is(op, "status", "failed"));
  if (!declined && !settled) {
    return readiness::never;
  }
  return deliveries_pending(objects) ? readiness::later : readiness::ready;
}

const std::string* merchant_of(const std::vector<stored_object>& objects) {
  for (auto& o : objects) {
    if (auto* m = field_of(o, "merchant")) {
      return m;
    }
  }
  return nullptr;
}

} // namespace psp::archive
