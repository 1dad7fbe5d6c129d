#include "journal.hpp"

#include "examples/common/fd_write.hpp"
#include "json_codec.hpp"
#include "ledger_book.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace psp::sim {

namespace {

using nlohmann::json;
using examples::write_all;

json fingerprint_json(const request_fingerprint& fp) {
  return {{"endpoint", fp.endpoint}, {"target", fp.target},
          {"amount", fp.amount_minor}, {"currency", fp.currency},
          {"capture", fp.capture}, {"card", fp.card}};
}

request_fingerprint fingerprint_of(const json& j) {
  request_fingerprint fp;
  fp.endpoint = j.at("endpoint").get<std::string>();
  fp.target = j.at("target").get<std::string>();
  fp.amount_minor = j.at("amount").get<int64_t>();
  fp.currency = j.at("currency").get<std::string>();
  fp.capture = j.at("capture").get<bool>();
  fp.card = j.value("card", "");
  return fp;
}

// Replays one ledger change through the same ledger calls that made it, so
// statuses, the settlement journal and capture counts come out the same.
// False when the ledger refuses it: the journal and the ledger disagree.
bool apply_effect(ledger_book& ledger, const json& e) {
  auto op = e.at("op").get<std::string>();
  if (op == "charge") {
    charge_record c;
    c.id = e.at("id").get<std::string>();
    c.reference = e.at("reference").get<std::string>();
    c.idempotency_key = e.at("key").get<std::string>();
    c.merchant = e.at("merchant").get<std::string>();
    c.currency = e.at("currency").get<std::string>();
    c.brand = e.at("brand").get<std::string>();
    c.last4 = e.at("last4").get<std::string>();
    c.decline_code = e.at("decline_code").get<std::string>();
    c.amount_minor = e.at("amount").get<int64_t>();
    c.created_s = e.at("created").get<int64_t>();
    c.auto_capture = e.at("capture").get<bool>();
    return ledger.record_charge(std::move(c)).has_value();
  }
  if (op == "refund") {
    refund_record r;
    r.id = e.at("id").get<std::string>();
    r.charge_id = e.at("charge").get<std::string>();
    r.idempotency_key = e.at("key").get<std::string>();
    r.amount_minor = e.at("amount").get<int64_t>();
    r.created_s = e.at("created").get<int64_t>();
    return ledger.record_refund(r) == refund_outcome::recorded;
  }
  if (op == "capture") {
    std::optional<int64_t> amount;
    if (!e.at("amount").is_null()) {
      amount = e.at("amount").get<int64_t>();
    }
    auto u = ledger.capture(e.at("charge").get<std::string>(), amount,
                            e.at("at").get<int64_t>());
    return u.found && u.change == charge_change::applied;
  }
  if (op == "void") {
    auto u = ledger.void_authorization(e.at("charge").get<std::string>());
    return u.found && u.change == charge_change::applied;
  }
  return false;
}

} // namespace

std::string charge_effect(const charge_record& c) {
  return dump_json({{"op", "charge"},
                    {"id", c.id},
                    {"reference", c.reference},
                    {"key", c.idempotency_key},
                    {"merchant", c.merchant},
                    {"currency", c.currency},
                    {"brand", c.brand},
                    {"last4", c.last4},
                    {"decline_code", c.decline_code},
                    {"amount", c.amount_minor},
                    {"created", c.created_s},
                    {"capture", c.auto_capture}});
}

std::string refund_effect(const refund_record& r) {
  return dump_json({{"op", "refund"},
                    {"id", r.id},
                    {"charge", r.charge_id},
                    {"key", r.idempotency_key},
                    {"amount", r.amount_minor},
                    {"created", r.created_s}});
}

std::string capture_effect(const std::string& charge_id,
                           std::optional<int64_t> amount_minor, int64_t now_s) {
  json amount = nullptr;
  if (amount_minor) {
    amount = *amount_minor;
  }
  return dump_json(
    {{"op", "capture"}, {"charge", charge_id}, {"amount", amount}, {"at", now_s}});
}

std::string void_effect(const std::string& charge_id) {
  return dump_json({{"op", "void"}, {"charge", charge_id}});
}

std::unique_ptr<sim_journal> sim_journal::open(const std::string& path,
                                               std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open journal " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<sim_journal>{new sim_journal{fd, path}};
}

sim_journal::~sim_journal() {
  ::close(fd_);
}

bool sim_journal::append(const std::string& key, const request_fingerprint& fp,
                         const api_response& answer) {
  json line{{"key", key},
            {"fp", fingerprint_json(fp)},
            {"status", answer.status},
            {"body", answer.body}};
  if (!answer.effect.empty()) {
    line["effect"] = json::parse(answer.effect);
  }
  return write_all(fd_, dump_json(line) + "\n");
}

bool sim_journal::clear() {
  return ::ftruncate(fd_, 0) == 0;
}

replay_result replay_journal(const std::string& path, ledger_book& ledger,
                             idempotency_table& keys) {
  replay_result out;
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    return out; // no journal yet: a first start
  }
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) {
      // Written without its newline: the process died mid-write, so the
      // operation was never answered. Drop it from the file too, so the
      // next append starts on a line of its own.
      out.torn_tail_dropped = true;
      if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0) {
        out.error = "cannot cut the torn last line of " + path + ": "
                    + std::strerror(errno);
      }
      return out;
    }
    ++line_no;
    try {
      auto line = json::parse(text.substr(pos, end - pos));
      if (line.contains("effect") && !apply_effect(ledger, line["effect"])) {
        out.error = path + " line " + std::to_string(line_no)
                    + ": the ledger refuses its change";
        return out;
      }
      keys.restore(line.at("key").get<std::string>(),
                   fingerprint_of(line.at("fp")),
                   {line.at("status").get<int>(),
                    line.at("body").get<std::string>()});
    } catch (const std::exception& e) {
      out.error = path + " line " + std::to_string(line_no) + ": " + e.what();
      return out;
    }
    ++out.operations;
    pos = end + 1;
  }
  return out;
}

} // namespace psp::sim
