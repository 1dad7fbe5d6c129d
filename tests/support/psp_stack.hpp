#pragma once

// A whole PSP on loopback for integration tests: a private redis-server, the
// card network simulator, a merchant, N psp-node processes and optionally the
// example store, each on its own free port with its log in a temp dir. Also
// the small HTTP/Redis helpers the tests drive it with. Every wait is bounded.
// It links hiredis, cpp-httplib and nlohmann_json, never CAF.

#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace psp::test {

using namespace std::chrono_literals;
using json = nlohmann::json;

/// Paths of the binaries under test (compile definitions of the
/// psp_stack_support library).
const char* psp_node_binary();
const char* psp_admin_binary();
const char* card_sim_binary();
const char* example_store_binary();

/// Ordered `key=value` pairs of a form body (repeated keys allowed).
using form_fields = std::vector<std::pair<std::string, std::string>>;

/// Percent-encodes pairs as application/x-www-form-urlencoded.
std::string form_encode(const form_fields& fields);

/// What an HTTP call returned; status 0 means no answer (connection refused,
/// timeout, reset).
struct http_reply {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string error; ///< the client's error when status is 0

  std::string header(const std::string& name) const;
  /// The body parsed as JSON; a discarded value when it is not JSON.
  json body_json() const;
};

/// One HTTP request against `base_url` ("http://127.0.0.1:PORT"); every call
/// has a connect and read timeout.
struct http_request {
  std::string method = "GET";
  std::string path = "/";
  std::string body;
  std::string content_type; ///< empty: no Content-Type header
  std::string bearer;       ///< empty: no Authorization header
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout = 10s;
};

http_reply http_call(const std::string& base_url, const http_request& req);

/// GET with an optional bearer token.
http_reply http_get(const std::string& base_url, const std::string& path,
                    const std::string& bearer = {});

/// POST of a form body (Content-Type application/x-www-form-urlencoded, also
/// when `fields` is empty, since a POST needs a Content-Length).
http_reply http_post_form(const std::string& base_url, const std::string& path,
                          const form_fields& fields,
                          const std::string& bearer = {});

/// POST of a JSON document.
http_reply http_post_json(const std::string& base_url, const std::string& path,
                          const json& doc);

/// Polls `done` every `poll` until it returns true or `timeout` passes.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = 25ms);

/// A process run to its end: exit code (-1 when killed by a signal or when
/// it outlived the bound), stdout and stderr.
struct process_result {
  int exit_code = -1;
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// Runs `argv` and waits at most `timeout` for it to exit (SIGKILL after).
process_result run_to_exit(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = 20s);

/// The last `lines` lines of a text file ("" when it cannot be read).
std::string tail_file(const std::string& path, size_t lines);

/// A Redis reply in plain values (no hiredis types leak into tests).
struct redis_reply {
  enum kind_t { nil, status, error, integer, string, array };
  kind_t kind = nil;
  std::string str; ///< status, error and string replies
  long long number = 0;
  std::vector<redis_reply> elements;

  bool ok() const { return kind != error; }
};

/// A short-lived hiredis connection per call; nullopt when Redis cannot be
/// reached within the timeout.
std::optional<redis_reply> redis_command(uint16_t port,
                                         const std::vector<std::string>& argv);

/// A merchant created with psp-admin.
struct merchant_account {
  std::string id;         ///< acct_…
  std::string secret_key; ///< sk_test_…
};

/// A card as typed into the hosted payment form.
struct card_input {
  std::string number = "4242424242424242";
  std::string exp = "12/34";
  std::string cvc = "123";
  std::string name = "Ada Lovelace";
};

/// Knobs of one stack; the defaults keep tests fast.
struct stack_options {
  size_t nodes = 1;
  bool store = false;
  /// Appended to the example store's command line (e.g. --journal FILE).
  std::vector<std::string> store_args;
  std::string merchant_name = "Integration Shop";
  /// Node flags with test-friendly defaults (see psp-node --help).
  std::string webhook_schedule = "0s,200ms,500ms";
  uint32_t network_tries_max = 8;
  uint32_t backoff_base_ms = 50;
  uint32_t backoff_max_ms = 500;
  uint32_t reclaim_idle_ms = 30'000;
  std::string log_level = "info";
  /// Webhook endpoints on loopback and private addresses allowed: every
  /// receiver in these tests is on 127.0.0.1. False for a node as in
  /// production, which refuses them (decision 48).
  bool webhook_private_addresses = true;
  /// Run the nodes as a CAF cluster (each gets its own cluster port).
  bool cluster = false;
  uint32_t heartbeat_interval_ms = 250;
  uint32_t heartbeat_ttl_ms = 1'500;
  /// Appended to every node's command line (later flags win).
  std::vector<std::string> node_args;
  /// When set, the nodes run under tests/support/clock_shim.c: their wall
  /// clock is moved by the milliseconds written in this file (absent: 0).
  std::string node_clock_file;
  /// Extra simulator flags (e.g. "--latency-ms=5").
  std::vector<std::string> sim_args;
  /// Bound on each process's start-up.
  std::chrono::milliseconds start_timeout = 20s;
  /// Print the log tails when the current test has failed.
  bool dump_logs_on_failure = true;
  size_t log_tail_lines = 40;
};

/// A PSP on loopback. Construction starts everything and throws
/// std::runtime_error (with the relevant log tail) when a part fails to come
/// up; destruction stops everything (SIGTERM, then SIGKILL).
class psp_stack {
public:
  explicit psp_stack(stack_options opts = {});
  ~psp_stack();
  psp_stack(const psp_stack&) = delete;
  psp_stack& operator=(const psp_stack&) = delete;

  // -- where things are -------------------------------------------------------

  const stack_options& options() const { return opts_; }
  const std::string& log_dir() const { return dir_.path(); }
  redis_server& redis() { return *redis_; }
  uint16_t redis_port() const { return redis_->port(); }
  std::string redis_address() const { return redis_->address(); }
  uint16_t sim_port() const { return sim_port_; }
  std::string sim_url() const;
  size_t node_count() const { return nodes_.size(); }
  uint16_t node_port(size_t i = 0) const { return nodes_.at(i).port; }
  std::string node_url(size_t i = 0) const;
  const std::string& node_id(size_t i = 0) const { return nodes_.at(i).id; }
  std::string node_log(size_t i = 0) const { return nodes_.at(i).log; }
  /// Node i's --psp.data-dir (its vault key file, its continuity mark).
  std::string node_data_dir(size_t i = 0) const {
    return nodes_.at(i).data_dir;
  }
  /// Waits until node `i`'s log holds `text` (its last 5,000 lines).
  bool wait_for_log(size_t i, const std::string& text,
                    std::chrono::milliseconds timeout) const;
  /// Waits until node `i`'s log shows a cluster view with exactly `ids`.
  bool wait_for_view(size_t i, const std::vector<std::string>& ids,
                     std::chrono::milliseconds timeout = 10s) const;
  uint16_t store_port() const { return store_port_; }
  std::string store_url() const;
  const merchant_account& merchant() const { return merchant_; }
  const std::string& secret_key() const { return merchant_.secret_key; }
  const std::string& admin_token() const { return admin_token_; }
  /// The nodes' --psp.vault-key (64 hex digits): what derives their secrets.
  const std::string& vault_key_hex() const { return vault_key_hex_; }

  // -- process control (same ports on restart) --------------------------------

  /// psp-admin create-merchant against this stack's Redis.
  merchant_account create_merchant(const std::string& name);

  void start_sim();
  /// SIGTERM and wait; returns the wait status.
  int stop_sim();
  /// SIGKILL (no clean shutdown).
  void kill_sim();
  /// stop_sim() then start_sim(): same port, empty in-memory state.
  void restart_sim();
  bool sim_running() const { return sim_ != nullptr; }

  /// (Re)starts node `i` with its port, id and data dir; `extra_args` are
  /// appended to this start only.
  void start_node(size_t i, const std::vector<std::string>& extra_args = {});
  int stop_node(size_t i);
  /// SIGKILL (a crash: pending stream entries stay at its consumer).
  void kill_node(size_t i);
  /// stop_node(i) then start_node(i).
  void restart_node(size_t i);
  bool node_running(size_t i) const { return nodes_.at(i).proc != nullptr; }
  /// The running process of node `i` (nullptr when stopped), e.g. to
  /// SIGSTOP/SIGCONT it.
  child_process* node_process(size_t i) { return nodes_.at(i).proc.get(); }
  /// The command line node `i` is started with (for tests that run psp-node
  /// by hand with a variation).
  std::vector<std::string> node_command(size_t i) const;

  void start_store();
  int stop_store();

  // -- merchant API and hosted page -------------------------------------------

  /// POST a form to node `node` with the merchant's key (or `key`).
  http_reply api_post(const std::string& path, const form_fields& fields,
                      size_t node = 0, const std::string& key = {});
  /// GET from node `node` with the merchant's key (or `key`).
  http_reply api_get(const std::string& path, size_t node = 0,
                     const std::string& key = {});
  /// Creates a one-line-item checkout session; returns its JSON (id, url ...)
  /// or throws with the API's answer.
  json create_session(int64_t unit_amount = 2000, int64_t quantity = 1,
                      const form_fields& extra = {}, size_t node = 0);

  /// Loads the hosted page and returns its hidden nonce ("" when none).
  std::string page_nonce(const std::string& session_id, size_t node = 0);

  /// Submits the hosted form: loads the page for a nonce (unless given) and
  /// POSTs the card. Returns the raw answer (303 to the status page on
  /// acceptance, 422 with inline errors, ...).
  http_reply pay(const std::string& session_id, const card_input& card = {},
                 size_t node = 0, std::string nonce = {});
  http_reply pay(const std::string& session_id, const std::string& number,
                 size_t node = 0);
  /// GET /pay/<id>/status.json.
  json payment_status(const std::string& session_id, size_t node = 0);
  /// Waits until the intent of `session_id` leaves `processing` (and the
  /// session is complete or the intent needs a new card); returns the last
  /// status.json seen.
  json wait_for_outcome(const std::string& session_id,
                        std::chrono::milliseconds timeout = 20s,
                        size_t node = 0);

  // -- example store ----------------------------------------------------------

  /// POST /buy; returns the hosted page URL from the 303 (throws otherwise).
  std::string store_buy(const std::string& product = "tshirt",
                        int quantity = 1);
  json store_orders();
  json store_stats();
  http_reply store_faults(const json& settings);

  // -- simulator --------------------------------------------------------------

  json sim_charge_counts();
  /// Succeeded captures for a reference (payment intent id); -1 when the
  /// simulator does not answer.
  int64_t sim_charge_count(const std::string& reference);
  json sim_stats();
  http_reply sim_faults(const json& knobs);

  // -- admin API --------------------------------------------------------------

  json dead_letters(size_t node = 0);
  /// Dead-letter entries of one kind ("payment" or "webhook").
  std::vector<json> dead_letters_of(const std::string& kind, size_t node = 0);
  /// dead_letters_of(kind) once it holds an entry, polled for at most
  /// `timeout` (empty when none came).
  std::vector<json> wait_for_dead_letters(const std::string& kind,
                                          std::chrono::milliseconds timeout);
  http_reply replay_dead_letter(const std::string& entry_id, size_t node = 0);

  // -- Redis invariants -------------------------------------------------------

  std::optional<redis_reply> redis_cmd(const std::vector<std::string>& argv);
  /// KEYS pattern (tests hold few keys).
  std::vector<std::string> redis_keys(const std::string& pattern);
  std::map<std::string, std::string> redis_hash(const std::string& key);
  long long redis_len(const std::string& stream);
  /// Entries over every partition of the payment stream
  /// (`stream:payments:<n>`), and of those, delivered and not acknowledged.
  long long payment_stream_len();
  long long payment_stream_pending();
  /// A webhook delivery record, read from its event's hash.
  struct delivery_record {
    std::string status;
    std::string attempts;
    std::string last_error;
  };
  /// Every webhook delivery, by id `<event>:<endpoint>`.
  std::map<std::string, delivery_record> webhook_deliveries();
  /// At least one webhook delivery, and every one recorded as delivered.
  bool all_webhooks_delivered();
  /// Every ledger transaction balances, no posting is negative, and
  /// ledger:balances sums to 0.
  ::testing::AssertionResult ledger_balanced();

  /// The last lines of every log, with a header per process.
  std::string log_tails(size_t lines) const;

private:
  struct node_slot {
    std::string id;
    uint16_t port = 0;
    uint16_t cluster_port = 0;
    std::string data_dir;
    std::string log;
    std::unique_ptr<child_process> proc;
  };

  /// Waits until `log` (read from `offset`) contains `line` and `port`
  /// accepts, while the process lives; throws with the log tail otherwise.
  void await_ready(child_process& proc, const std::string& what,
                   const std::string& log, const std::string& line,
                   uint16_t port, size_t offset);
  std::string log_path(const std::string& name) const;

  stack_options opts_;
  temp_dir dir_;
  std::unique_ptr<redis_server> redis_;
  std::string vault_key_hex_;
  std::string admin_token_;
  merchant_account merchant_;
  uint16_t sim_port_ = 0;
  std::unique_ptr<child_process> sim_;
  std::vector<node_slot> nodes_;
  uint16_t store_port_ = 0;
  std::unique_ptr<child_process> store_;
};

/// Creates and pays `n` sessions of 20.00 USD, round-robin over the nodes
/// in `via`, from `threads` concurrent shoppers. Returns the session ids, ""
/// where a request failed (a node killed under the shopper's feet; the
/// caller's checks name those).
std::vector<std::string> pay_many(psp_stack& stack, size_t n,
                                  const std::vector<size_t>& via,
                                  size_t threads = 8);

/// A form POST with the merchant's key under an Idempotency-Key.
http_request keyed_post(const psp_stack& stack, const std::string& path,
                        const form_fields& body, const std::string& key);

} // namespace psp::test
