#include "tests/support/psp_stack.hpp"

#include "actors/ledger_account_names.hpp"

#include <hiredis/hiredis.h>
#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#ifndef PSP_NODE_BINARY
#error "PSP_NODE_BINARY must be defined (target file of psp-node)"
#endif
#ifndef PSP_ADMIN_BINARY
#error "PSP_ADMIN_BINARY must be defined (target file of psp-admin)"
#endif
#ifndef CARD_SIM_BINARY
#error "CARD_SIM_BINARY must be defined (target file of card-network-sim)"
#endif
#ifndef EXAMPLE_STORE_BINARY
#error "EXAMPLE_STORE_BINARY must be defined (target file of example-store)"
#endif

namespace psp::test {

const char* psp_node_binary() {
  return PSP_NODE_BINARY;
}
const char* psp_admin_binary() {
  return PSP_ADMIN_BINARY;
}
const char* card_sim_binary() {
  return CARD_SIM_BINARY;
}
const char* example_store_binary() {
  return EXAMPLE_STORE_BINARY;
}

namespace {

constexpr auto stop_grace = std::chrono::milliseconds{5000};

std::string random_hex(size_t bytes) {
  static const char* digits = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    auto b = rd() & 0xff;
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

std::string read_file(const std::string& path, size_t offset = 0) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    return {};
  }
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

size_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

/// True once the child has exited (a zombie not yet reaped); unlike
/// waitpid(WNOHANG) this leaves the pid to child_process to reap.
bool has_exited(pid_t pid) {
  if (pid <= 0) {
    return true;
  }
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (stat.empty() || close == std::string::npos || close + 2 >= stat.size()) {
    return true;
  }
  return stat[close + 2] == 'Z' || stat[close + 2] == 'X';
}

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
  case REDIS_REPLY_STATUS:
    out.kind = redis_reply::status;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_ERROR:
    out.kind = redis_reply::error;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_INTEGER:
    out.kind = redis_reply::integer;
    out.number = r->integer;
    break;
  case REDIS_REPLY_STRING:
    out.kind = redis_reply::string;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_ARRAY:
    out.kind = redis_reply::array;
    for (size_t i = 0; i < r->elements; ++i) {
      out.elements.push_back(convert(r->element[i]));
    }
    break;
  default:
    out.kind = redis_reply::nil;
  }
  return out;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

} // namespace

// -- HTTP -------------------------------------------------------------------

std::string form_encode(const form_fields& fields) {
  auto enc = [](const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else if (c == ' ') {
        out += '+';
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 0xf];
      }
    }
    return out;
  };
  std::string body;
  for (auto& [k, v] : fields) {
    body += (body.empty() ? "" : "&") + enc(k) + "=" + enc(v);
  }
  return body;
}

std::string http_reply::header(const std::string& name) const {
  for (auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) {
      return v;
    }
  }
  return {};
}

json http_reply::body_json() const {
  return json::parse(body, nullptr, false);
}

http_reply http_call(const std::string& base_url, const http_request& req) {
  httplib::Client cli{base_url};
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(req.timeout);
  cli.set_connection_timeout(std::chrono::seconds{3});
  cli.set_read_timeout(secs);
  cli.set_write_timeout(secs);
  cli.set_keep_alive(false);
  httplib::Request r;
  r.method = req.method;
  r.path = req.path;
  r.body = req.body;
  if (!req.content_type.empty()) {
    r.set_header("Content-Type", req.content_type);
  }
  if (!req.bearer.empty()) {
    r.set_header("Authorization", "Bearer " + req.bearer);
  }
  for (auto& [k, v] : req.headers) {
    r.set_header(k, v);
  }
  http_reply out;
  auto res = cli.send(r);
  if (!res) {
    out.error = httplib::to_string(res.error());
    return out;
  }
  out.status = res->status;
  out.body = res->body;
  for (auto& [k, v] : res->headers) {
    out.headers.emplace(k, v);
  }
  return out;
}

http_reply http_get(const std::string& base_url, const std::string& path,
                    const std::string& bearer) {
  http_request r;
  r.path = path;
  r.bearer = bearer;
  return http_call(base_url, r);
}

http_reply http_post_form(const std::string& base_url, const std::string& path,
                          const form_fields& fields,
                          const std::string& bearer) {
  http_request r;
  r.method = "POST";
  r.path = path;
  r.body = form_encode(fields);
  r.content_type = "application/x-www-form-urlencoded";
  r.bearer = bearer;
  return http_call(base_url, r);
}

http_reply http_post_json(const std::string& base_url, const std::string& path,
                          const json& doc) {
  http_request r;
  r.method = "POST";
  r.path = path;
  r.body = doc.dump();
  r.content_type = "application/json";
  return http_call(base_url, r);
}

bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(poll);
  }
}

// -- processes --------------------------------------------------------------

process_result run_to_exit(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout) {
  temp_dir dir;
  auto out_path = dir.path() + "/out";
  auto err_path = dir.path() + "/err";
  pid_t pid = ::fork();
  if (pid < 0) {
    fail("fork failed");
  }
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0 && err >= 0) {
      ::dup2(out, 1);
      ::dup2(err, 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s failed: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  process_result res;
  int status = 0;
  bool exited = wait_until(
      [&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout, 10ms);
  if (!exited) {
    res.timed_out = true;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  } else if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  }
  res.out = read_file(out_path);
  res.err = read_file(err_path);
  return res;
}

std::string tail_file(const std::string& path, size_t lines) {
  std::ifstream in{path};
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) {
      last.pop_front();
    }
  }
  std::string out;
  for (auto& l : last) {
    out += l + '\n';
  }
  return out;
}

std::optional<redis_reply> redis_command(uint16_t port,
                                         const std::vector<std::string>& argv) {
  timeval tv{2, 0};
  redisContext* ctx = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (ctx == nullptr) {
    return std::nullopt;
  }
  if (ctx->err != 0) {
    redisFree(ctx);
    return std::nullopt;
  }
  redisSetTimeout(ctx, tv);
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(redisCommandArgv(
      ctx, static_cast<int>(args.size()), args.data(), lens.data()));
  std::optional<redis_reply> out;
  if (raw != nullptr) {
    out = convert(raw);
    freeReplyObject(raw);
  }
  redisFree(ctx);
  return out;
}

// -- the stack --------------------------------------------------------------

psp_stack::psp_stack(stack_options opts) : opts_(std::move(opts)) {
  redis_ = std::make_unique<redis_server>();
  vault_key_hex_ = random_hex(32);
  admin_token_ = "admin_" + random_hex(12);
  sim_port_ = free_port();
  try {
    start_sim();
    merchant_ = create_merchant(opts_.merchant_name);
    nodes_.resize(opts_.nodes);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      auto& n = nodes_[i];
      n.id = "node-" + std::to_string(i);
      n.port = free_port();
      n.cluster_port = opts_.cluster ? free_port() : 0;
      n.data_dir = dir_.path() + "/" + n.id;
      n.log = log_path(n.id);
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      start_node(i);
    }
    if (opts_.store) {
      store_port_ = free_port();
      start_store();
    }
  } catch (...) {
    // The destructor does not run for a half-built object: stop what runs.
    store_.reset();
    nodes_.clear();
    sim_.reset();
    throw;
  }
}

psp_stack::~psp_stack() {
  if (opts_.dump_logs_on_failure && ::testing::Test::HasFailure()) {
    std::cerr << "---- psp_stack logs (" << dir_.path() << ") ----\n"
              << log_tails(opts_.log_tail_lines);
  }
  // The store and the nodes hold idle keep-alive connections to each other,
  // and an httplib server waits for those (up to its keep-alive timeout) when
  // stopped. The store's end state does not matter: kill it first, which
  // closes its connections, so the nodes can stop cleanly and at once.
  if (store_) {
    store_->signal(SIGKILL);
    store_->stop();
  }
  for (auto& n : nodes_) {
    if (n.proc) {
      n.proc->stop(stop_grace);
    }
  }
  if (sim_) {
    sim_->stop(stop_grace);
  }
}

std::string psp_stack::sim_url() const {
  return "http://127.0.0.1:" + std::to_string(sim_port_);
}

std::string psp_stack::node_url(size_t i) const {
  return "http://127.0.0.1:" + std::to_string(nodes_.at(i).port);
}

std::string psp_stack::store_url() const {
  return "http://127.0.0.1:" + std::to_string(store_port_);
}

std::string psp_stack::log_path(const std::string& name) const {
  return dir_.path() + "/" + name + ".log";
}

void psp_stack::await_ready(child_process& proc, const std::string& what,
                            const std::string& log, const std::string& line,
                            uint16_t port, size_t offset) {
  auto deadline = std::chrono::steady_clock::now() + opts_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (has_exited(proc.pid())) {
      fail(what + " exited during start-up; log " + log + ":\n" +
           tail_file(log, opts_.log_tail_lines));
    }
    // Only output after `offset` is this start's: logs are appended to.
    if (read_file(log, offset).find(line) != std::string::npos &&
        wait_for_port(port, std::chrono::milliseconds{100})) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  fail(what + " not ready after " +
       std::to_string(opts_.start_timeout.count()) + " ms; log " + log + ":\n" +
       tail_file(log, opts_.log_tail_lines));
}

merchant_account psp_stack::create_merchant(const std::string& name) {
  auto res = run_to_exit({psp_admin_binary(), "--redis", redis_address(),
                          "create-merchant", "--name", name});
  auto doc = json::parse(res.out, nullptr, false);
  if (res.exit_code != 0 || !doc.is_object() || !doc.contains("merchant") ||
      !doc.contains("secret_key")) {
    fail("psp-admin create-merchant failed (exit " +
         std::to_string(res.exit_code) + "): " + res.out + res.err);
  }
  return {doc["merchant"].get<std::string>(),
          doc["secret_key"].get<std::string>()};
}

void psp_stack::start_sim() {
  if (sim_) {
    fail("simulator already running");
  }
  auto log = log_path("card-network-sim");
  // Each open connection pins a simulator thread: room for every node's
  // card connections (64 each by default) plus the tests' own calls.
  auto threads = std::min<size_t>(1024, 64 * opts_.nodes + 32);
  std::vector<std::string> argv{card_sim_binary(), "--port",
                                std::to_string(sim_port_), "--threads",
                                std::to_string(threads)};
  argv.insert(argv.end(), opts_.sim_args.begin(), opts_.sim_args.end());
  std::ofstream{log, std::ios::app} << "==== start ====\n";
  auto offset = file_size(log);
  sim_ = std::make_unique<child_process>(argv, log);
  try {
    await_ready(*sim_, "card-network-sim", log,
                "listening on 127.0.0.1:" + std::to_string(sim_port_),
                sim_port_, offset);
  } catch (...) {
    sim_.reset();
    throw;
  }
}

int psp_stack::stop_sim() {
  if (!sim_) {
    return 0;
  }
  auto status = sim_->stop(stop_grace);
  sim_.reset();
  return status;
}

void psp_stack::kill_sim() {
  if (sim_) {
    sim_->signal(SIGKILL);
    sim_->stop();
    sim_.reset();
  }
}

void psp_stack::restart_sim() {
  stop_sim();
  start_sim();
}

void psp_stack::restart_node(size_t i) {
  stop_node(i);
  start_node(i);
}

bool psp_stack::wait_for_view(size_t i, const std::vector<std::string>& ids,
                              std::chrono::milliseconds timeout) const {
  std::string wanted = "members=";
  for (size_t k = 0; k < ids.size(); ++k) {
    wanted += (k == 0 ? "" : ",") + ids[k];
  }
  return wait_until(
    [&] {
      std::ifstream in{nodes_.at(i).log};
      std::string line;
      std::string last;
      while (std::getline(in, line)) {
        if (line.find("event=cluster_view") != std::string::npos) {
          last = line;
        }
      }
      auto pos = last.find(wanted);
      return pos != std::string::npos
             && pos + wanted.size() == last.size();
    },
    timeout, 50ms);
}

std::vector<std::string> psp_stack::node_command(size_t i) const {
  auto& n = nodes_.at(i);
  std::vector<std::string> argv{
      psp_node_binary(),
      "--psp.http-port=" + std::to_string(n.port),
      "--psp.redis=" + redis_address(),
      "--psp.card-network-url=" + sim_url(),
      "--psp.data-dir=" + n.data_dir,
      "--psp.node-id=" + n.id,
      "--psp.admin-token=" + admin_token_,
      "--psp.vault-key=" + vault_key_hex_,
      "--psp.webhook-schedule=" + opts_.webhook_schedule,
      "--psp.network-tries-max=" + std::to_string(opts_.network_tries_max),
      "--psp.backoff-base-ms=" + std::to_string(opts_.backoff_base_ms),
      "--psp.backoff-max-ms=" + std::to_string(opts_.backoff_max_ms),
      "--psp.reclaim-idle-ms=" + std::to_string(opts_.reclaim_idle_ms),
      "--psp.log-level=" + opts_.log_level,
      std::string{"--psp.webhook-private-addresses="}
        + (opts_.webhook_private_addresses ? "true" : "false")};
  if (n.cluster_port != 0) {
    argv.push_back("--psp.cluster-port=" + std::to_string(n.cluster_port));
    argv.push_back("--psp.heartbeat-interval-ms="
                   + std::to_string(opts_.heartbeat_interval_ms));
    argv.push_back("--psp.heartbeat-ttl-ms="
                   + std::to_string(opts_.heartbeat_ttl_ms));
  }
  argv.insert(argv.end(), opts_.node_args.begin(), opts_.node_args.end());
  return argv;
}

void psp_stack::start_node(size_t i, const std::vector<std::string>& extra) {
  auto& n = nodes_.at(i);
  if (n.proc) {
    fail(n.id + " already running");
  }
  auto argv = node_command(i);
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::ofstream{n.log, std::ios::app} << "==== start ====\n";
  auto offset = file_size(n.log);
  std::vector<std::string> env;
  if (!opts_.node_clock_file.empty()) {
    env = {std::string{"LD_PRELOAD="} + PSP_CLOCK_SHIM,
           "PSP_TEST_CLOCK_FILE=" + opts_.node_clock_file};
  }
  n.proc = std::make_unique<child_process>(argv, n.log, env);
  try {
    await_ready(*n.proc, n.id, n.log, "psp-node " + n.id + " listening on",
                n.port, offset);
  } catch (...) {
    n.proc.reset();
    throw;
  }
}

int psp_stack::stop_node(size_t i) {
  auto& n = nodes_.at(i);
  if (!n.proc) {
    return 0;
  }
  auto status = n.proc->stop(stop_grace);
  n.proc.reset();
  return status;
}

void psp_stack::kill_node(size_t i) {
  auto& n = nodes_.at(i);
  if (n.proc) {
    n.proc->signal(SIGKILL);
    n.proc->stop();
    n.proc.reset();
  }
}

void psp_stack::start_store() {
  if (store_) {
    fail("store already running");
  }
  if (nodes_.empty()) {
    fail("the example store needs a node");
  }
  auto log = log_path("example-store");
  std::ofstream{log, std::ios::app} << "==== start ====\n";
  auto offset = file_size(log);
  std::vector<std::string> argv{example_store_binary(), "--port",
                                std::to_string(store_port_), "--psp-url",
                                node_url(0), "--api-key", merchant_.secret_key};
  argv.insert(argv.end(), opts_.store_args.begin(), opts_.store_args.end());
  store_ = std::make_unique<child_process>(argv, log);
  try {
    await_ready(*store_, "example-store", log,
                "example-store listening on 127.0.0.1:" +
                    std::to_string(store_port_),
                store_port_, offset);
  } catch (...) {
    store_.reset();
    throw;
  }
}

int psp_stack::stop_store() {
  if (!store_) {
    return 0;
  }
  auto status = store_->stop(stop_grace);
  store_.reset();
  return status;
}

// -- merchant API and hosted page -------------------------------------------

http_reply psp_stack::api_post(const std::string& path,
                               const form_fields& fields, size_t node,
                               const std::string& key) {
  return http_post_form(node_url(node), path, fields,
                        key.empty() ? merchant_.secret_key : key);
}

http_reply psp_stack::api_get(const std::string& path, size_t node,
                              const std::string& key) {
  return http_get(node_url(node), path,
                  key.empty() ? merchant_.secret_key : key);
}

json psp_stack::create_session(int64_t unit_amount, int64_t quantity,
                               const form_fields& extra, size_t node) {
  form_fields fields{
      {"mode", "payment"},
      {"success_url", "http://127.0.0.1:9/ok?cs={CHECKOUT_SESSION_ID}"},
      {"cancel_url", "http://127.0.0.1:9/cancel"},
      {"line_items[0][price_data][currency]", "usd"},
      {"line_items[0][price_data][unit_amount]", std::to_string(unit_amount)},
      {"line_items[0][price_data][product_data][name]", "Test product"},
      {"line_items[0][quantity]", std::to_string(quantity)}};
  fields.insert(fields.end(), extra.begin(), extra.end());
  auto res = api_post("/v1/checkout/sessions", fields, node);
  auto doc = res.body_json();
  if (res.status != 200 || !doc.is_object() || !doc.contains("id")) {
    fail("creating a checkout session failed: HTTP " +
         std::to_string(res.status) + " " + res.body + res.error);
  }
  return doc;
}

std::string psp_stack::page_nonce(const std::string& session_id, size_t node) {
  auto page = http_get(node_url(node), "/pay/" + session_id);
  const std::string marker = "name=\"nonce\" value=\"";
  auto at = page.body.find(marker);
  if (page.status != 200 || at == std::string::npos) {
    return {};
  }
  at += marker.size();
  return page.body.substr(at, page.body.find('"', at) - at);
}

http_reply psp_stack::pay(const std::string& session_id, const card_input& card,
                          size_t node, std::string nonce) {
  if (nonce.empty()) {
    nonce = page_nonce(session_id, node);
    if (nonce.empty()) {
      fail("the hosted page of " + session_id + " shows no form");
    }
  }
  return http_post_form(node_url(node), "/pay/" + session_id,
                        {{"nonce", nonce},
                         {"name", card.name},
                         {"number", card.number},
                         {"exp", card.exp},
                         {"cvc", card.cvc}});
}

http_reply psp_stack::pay(const std::string& session_id,
                          const std::string& number, size_t node) {
  card_input card;
  card.number = number;
  return pay(session_id, card, node);
}

json psp_stack::payment_status(const std::string& session_id, size_t node) {
  return http_get(node_url(node), "/pay/" + session_id + "/status.json")
      .body_json();
}

json psp_stack::wait_for_outcome(const std::string& session_id,
                                 std::chrono::milliseconds timeout,
                                 size_t node) {
  json last;
  wait_until(
      [&] {
        last = payment_status(session_id, node);
        if (!last.is_object()) {
          return false;
        }
        return last.value("status", "") == "complete" ||
               last.value("status", "") == "expired" ||
               (last.value("intent_status", "") == "requires_payment_method" &&
                last.contains("error_message") &&
                last["error_message"].is_string());
      },
      timeout, 50ms);
  return last;
}

// -- example store ----------------------------------------------------------

std::string psp_stack::store_buy(const std::string& product, int quantity) {
  auto res = http_post_form(
      store_url(), "/buy",
      {{"product", product}, {"quantity", std::to_string(quantity)}});
  if (res.status != 303 || res.header("Location").empty()) {
    fail("store /buy failed: HTTP " + std::to_string(res.status) + " " +
         res.body + res.error);
  }
  return res.header("Location");
}

json psp_stack::store_orders() {
  return http_get(store_url(), "/orders.json").body_json();
}

json psp_stack::store_stats() {
  return http_get(store_url(), "/admin/stats").body_json();
}

http_reply psp_stack::store_faults(const json& settings) {
  return http_post_json(store_url(), "/admin/webhook_faults", settings);
}

bool psp_stack::wait_for_log(size_t i, const std::string& text,
                             std::chrono::milliseconds timeout) const {
  return wait_until(
    [&] {
      return tail_file(node_log(i), 5000).find(text) != std::string::npos;
    },
    timeout);
}

// -- simulator --------------------------------------------------------------

json psp_stack::sim_charge_counts() {
  return http_get(sim_url(), "/admin/charge_counts").body_json();
}

int64_t psp_stack::sim_charge_count(const std::string& reference) {
  auto counts = sim_charge_counts();
  if (!counts.is_object()) {
    return -1;
  }
  return counts.contains(reference) ? counts[reference].get<int64_t>() : 0;
}

json psp_stack::sim_stats() {
  return http_get(sim_url(), "/admin/stats").body_json();
}

http_reply psp_stack::sim_faults(const json& knobs) {
  return http_post_json(sim_url(), "/admin/faults", knobs);
}

// -- admin API --------------------------------------------------------------

json psp_stack::dead_letters(size_t node) {
  return http_get(node_url(node), "/admin/dead_letters", admin_token_)
      .body_json();
}

std::vector<json>
psp_stack::wait_for_dead_letters(const std::string& kind,
                                 std::chrono::milliseconds timeout) {
  std::vector<json> dead;
  wait_until(
    [&] {
      dead = dead_letters_of(kind);
      return !dead.empty();
    },
    timeout, 50ms);
  return dead;
}

std::vector<json> psp_stack::dead_letters_of(const std::string& kind,
                                             size_t node) {
  std::vector<json> out;
  auto doc = dead_letters(node);
  if (doc.is_object() && doc["data"].is_array()) {
    for (auto& e : doc["data"]) {
      if (e.value("kind", "") == kind) {
        out.push_back(e);
      }
    }
  }
  return out;
}

http_reply psp_stack::replay_dead_letter(const std::string& entry_id,
                                         size_t node) {
  return http_post_form(node_url(node),
                        "/admin/dead_letters/" + entry_id + "/replay", {},
                        admin_token_);
}

// -- Redis ------------------------------------------------------------------

std::optional<redis_reply>
psp_stack::redis_cmd(const std::vector<std::string>& argv) {
  return redis_command(redis_port(), argv);
}

std::vector<std::string> psp_stack::redis_keys(const std::string& pattern) {
  std::vector<std::string> out;
  auto r = redis_cmd({"KEYS", pattern});
  if (r && r->kind == redis_reply::array) {
    for (auto& e : r->elements) {
      out.push_back(e.str);
    }
  }
  return out;
}

std::map<std::string, std::string>
psp_stack::redis_hash(const std::string& key) {
  std::map<std::string, std::string> out;
  auto r = redis_cmd({"HGETALL", key});
  if (r && r->kind == redis_reply::array) {
    for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
      out[r->elements[i].str] = r->elements[i + 1].str;
    }
  }
  return out;
}

std::map<std::string, psp_stack::delivery_record>
psp_stack::webhook_deliveries() {
  // Fields `wh:<endpoint>` = `status|attempts|delivered_at|last_error`
  // (adapters/redis/lua_events.cpp).
  std::map<std::string, delivery_record> out;
  for (auto& key : redis_keys("evt:*")) {
    for (auto& [field, value] : redis_hash(key)) {
      if (field.rfind("wh:", 0) != 0) {
        continue;
      }
      auto bar1 = value.find('|');
      auto bar2 = value.find('|', bar1 + 1);
      auto bar3 = value.find('|', bar2 + 1);
      if (bar3 == std::string::npos) {
        ADD_FAILURE() << key << ' ' << field << ": bad record " << value;
        continue;
      }
      out[key.substr(4) + ":" + field.substr(3)] = delivery_record{
        value.substr(0, bar1), value.substr(bar1 + 1, bar2 - bar1 - 1),
        value.substr(bar3 + 1)};
    }
  }
  return out;
}

bool psp_stack::all_webhooks_delivered() {
  auto deliveries = webhook_deliveries();
  for (auto& [id, d] : deliveries) {
    if (d.status != "delivered") {
      return false;
    }
  }
  return !deliveries.empty();
}

long long psp_stack::redis_len(const std::string& stream) {
  auto r = redis_cmd({"XLEN", stream});
  return r && r->kind == redis_reply::integer ? r->number : -1;
}

long long psp_stack::payment_stream_len() {
  long long n = 0;
  for (auto& key : redis_keys("stream:payments:*")) {
    n += std::max(redis_len(key), 0LL);
  }
  return n;
}

long long psp_stack::payment_stream_pending() {
  long long n = 0;
  for (auto& key : redis_keys("stream:payments:*")) {
    auto r = redis_cmd({"XPENDING", key, "payment-workers"});
    if (r && r->kind == redis_reply::array && !r->elements.empty()) {
      n += r->elements[0].number;
    }
  }
  return n;
}

::testing::AssertionResult psp_stack::ledger_balanced() {
  auto txns = redis_cmd({"XRANGE", "ledger:transactions", "-", "+"});
  if (!txns || txns->kind != redis_reply::array) {
    return ::testing::AssertionFailure() << "cannot read ledger:transactions";
  }
  std::map<std::string, long long> recomputed; // account -> debits - credits
  for (auto& entry : txns->elements) {
    if (entry.elements.size() != 2) {
      return ::testing::AssertionFailure() << "malformed stream entry";
    }
    auto& id = entry.elements[0].str;
    auto& fields = entry.elements[1].elements;
    std::string postings_text;
    std::string merchant;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "postings") {
        postings_text = fields[i + 1].str;
      } else if (fields[i].str == "merchant") {
        merchant = fields[i + 1].str;
      }
    }
    auto postings = json::parse(postings_text, nullptr, false);
    if (!postings.is_array() || postings.empty()) {
      return ::testing::AssertionFailure()
             << "transaction " << id << " has no postings: " << postings_text;
    }
    long long debits = 0;
    long long credits = 0;
    for (auto& p : postings) {
      if (!p.is_array() || p.size() != 3 || !p[1].is_number_integer() ||
          !p[2].is_number_integer()) {
        return ::testing::AssertionFailure()
               << "transaction " << id << ": malformed posting " << p.dump();
      }
      auto d = p[1].get<long long>();
      auto c = p[2].get<long long>();
      if (d < 0 || c < 0) {
        return ::testing::AssertionFailure()
               << "transaction " << id << ": negative posting " << p.dump();
      }
      auto account = ledger_names::full_account(
          p[0].is_string() ? p[0].get<std::string>() : "", merchant);
      if (!account || account->empty()) {
        return ::testing::AssertionFailure()
               << "transaction " << id << ": bad account " << p.dump();
      }
      recomputed[*account] += d - c;
      debits += d;
      credits += c;
    }
    if (debits != credits) {
      return ::testing::AssertionFailure()
             << "transaction " << id << " does not balance: debits " << debits
             << " != credits " << credits << " in " << postings_text;
    }
  }
  // Every stored balance is its account's postings, under its full name.
  auto balances = redis_hash("ledger:balances");
  long long sum = 0;
  for (auto& [account, value] : balances) {
    sum += std::stoll(value);
    auto posted = recomputed.find(account);
    auto posted_minor = posted == recomputed.end() ? 0 : posted->second;
    if (std::stoll(value) != posted_minor) {
      return ::testing::AssertionFailure()
             << "ledger:balances " << account << " = " << value
             << " but its postings sum to " << posted_minor;
    }
  }
  for (auto& [account, posted_minor] : recomputed) {
    if (posted_minor != 0 && !balances.count(account)) {
      return ::testing::AssertionFailure()
             << account << " has postings summing to " << posted_minor
             << " and no stored balance";
    }
  }
  if (sum != 0) {
    return ::testing::AssertionFailure()
           << "ledger:balances sums to " << sum << " (expected 0)";
  }
  return ::testing::AssertionSuccess()
         << txns->elements.size() << " transactions, " << balances.size()
         << " accounts";
}

std::string psp_stack::log_tails(size_t lines) const {
  std::string out;
  auto add = [&](const std::string& name, const std::string& path) {
    out += "==== " + name + " (" + path + ") ====\n" + tail_file(path, lines);
  };
  add("redis-server", redis_->dir() + "/redis.log");
  add("card-network-sim", log_path("card-network-sim"));
  for (auto& n : nodes_) {
    add(n.id, n.log);
  }
  if (store_port_ != 0) {
    add("example-store", log_path("example-store"));
  }
  return out;
}

std::vector<std::string> pay_many(psp_stack& stack, size_t n,
                                  const std::vector<size_t>& via,
                                  size_t threads) {
  std::vector<std::string> ids(n);
  std::atomic<size_t> next{0};
  std::vector<std::thread> shoppers;
  for (size_t t = 0; t < threads; ++t) {
    shoppers.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) {
        auto node = via[i % via.size()];
        try {
          ids[i] = stack.create_session(2000, 1, {}, node)["id"];
          stack.pay(ids[i], card_input{}, node);
        } catch (const std::exception&) {
          // left "" or unpaid; the caller's checks name it
        }
      }
    });
  }
  for (auto& s : shoppers) {
    s.join();
  }
  return ids;
}

http_request keyed_post(const psp_stack& stack, const std::string& path,
                        const form_fields& body, const std::string& key) {
  http_request req;
  req.method = "POST";
  req.path = path;
  req.body = form_encode(body);
  req.content_type = "application/x-www-form-urlencoded";
  req.bearer = stack.secret_key();
  req.headers = {{"Idempotency-Key", key}};
  return req;
}

} // namespace psp::test
