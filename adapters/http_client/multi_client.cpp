#include "adapters/http_client/multi_client.hpp"

#include "adapters/http_client/address_policy.hpp"
#include "adapters/thread_name.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace psp::http_client {

namespace {

/// One request from submission to completion; owned by the client's thread
/// once taken from the inbox.
struct transfer {
  post_request req;
  post_completion done;
  /// When post() took it: a wait for a connection counts from here.
  std::chrono::steady_clock::time_point posted_at =
    std::chrono::steady_clock::now();
  /// Its host's key (host_key): connections are counted per host.
  std::string host;
  post_response res;
  curl_slist* headers = nullptr;
  size_t bytes_max = 0;
  bool keep_body = true;
  bool too_long = false;
  /// The first address refused by open_public_socket, if any.
  std::string refused_address;
  char error_text[CURL_ERROR_SIZE] = {0};

  ~transfer() { curl_slist_free_all(headers); }
};

size_t append_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  size_t n = size * count;
  if (!t->keep_body) {
    return n;
  }
  if (t->res.body.size() + n > t->bytes_max) {
    t->too_long = true;
    return 0; // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->res.body.append(data, n);
  return n;
}

/// CURLOPT_OPENSOCKETFUNCTION of a client for public addresses only. curl
/// calls it after resolving, for each address it tries (the next one after
/// a refusal), and only to open a new connection: a reused one was judged
/// when it was opened.
curl_socket_t open_public_socket(void* user, curlsocktype purpose,
                                 curl_sockaddr* address) {
  auto* t = static_cast<transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN || !is_public_address(&address->addr)) {
    if (t->refused_address.empty()) {
      auto text = address_text(&address->addr);
      t->refused_address = text.empty() ? "address family "
                                            + std::to_string(address->family)
                                        : text;
    }
    return CURL_SOCKET_BAD; // curl fails the attempt: CURLE_COULDNT_CONNECT
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

/// "scheme://host:port" of a URL, lower case, the port made explicit and
/// any user info left out: the unit curl counts connections by. A URL it
/// cannot read is its own key (curl then fails it).
std::string host_key(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return url;
  }
  auto start = scheme_end + 3;
  auto end = url.find_first_of("/?#", start);
  auto authority = url.substr(start, end == std::string::npos
                                       ? std::string::npos
                                       : end - start);
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    authority.erase(0, at + 1);
  }
  auto key = url.substr(0, start) + authority;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  // A port follows the last ':' unless that is inside an IPv6 literal.
  auto colon = authority.rfind(':');
  auto bracket = authority.rfind(']');
  bool has_port = colon != std::string::npos
                  && (bracket == std::string::npos || colon > bracket);
  if (!has_port) {
    key += key.rfind("https://", 0) == 0 ? ":443" : ":80";
  }
  return key;
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

} // namespace

struct multi_client::impl {
  client_limits limits;
  CURLM* multi = nullptr;
  std::mutex inbox_mutex;
  std::vector<std::unique_ptr<transfer>> inbox;
  bool stopping = false;
  /// Finished easy handles, reused (with their buffers) rather than
  /// re-created; at most `connections_cached` are kept.
  std::vector<CURL*> spare_handles;
  std::unordered_map<CURL*, std::unique_ptr<transfer>> running;
  std::thread loop;

  using clock = std::chrono::steady_clock;
  /// Transfers open to one host and those waiting for one of its
  /// connections, in order. A host's entry goes when both are empty.
  struct host_queue {
    size_t running = 0;
    std::deque<std::unique_ptr<transfer>> waiting;
  };
  std::unordered_map<std::string, host_queue> hosts;
  size_t waiting_count = 0;

  // The connection cap per host: connections_per_host, or for an adaptive
  // client (client_limits::connections_min) what demand has grown it to.
  // Transfers above it wait here rather than inside curl, which would
  // start a waiting one only when another finishes, however far the cap
  // grew, and would run its connect timeout meanwhile.
  size_t cap = 0;
  size_t in_use_peak = 0; // transfers open at once in this window
  clock::time_point window_start = clock::now();
  // How long transfers waited in this grow window (the queue non-empty).
  clock::time_point grow_window_start = clock::now();
  clock::time_point last_adapt = clock::now();
  clock::duration saturated{0};
  bool was_waiting = false;

  explicit impl(client_limits l) : limits(l) {
    init_curl_once();
    multi = curl_multi_init();
    if (multi == nullptr) {
      throw std::runtime_error("curl_multi_init failed");
    }
    limits.connections_min =
      std::clamp<size_t>(limits.connections_min, 1, limits.connections_per_host);
    set_cap(limits.connections_min);
    loop = std::thread{[this] {
      name_this_thread(limits.thread_name);
      run();
    }};
  }

  ~impl() {
    {
      std::lock_guard<std::mutex> guard{inbox_mutex};
      stopping = true;
    }
    curl_multi_wakeup(multi);
    loop.join();
    for (auto* h : spare_handles) {
      curl_easy_cleanup(h);
    }
    curl_multi_cleanup(multi);
  }

  CURL* take_handle() {
    if (spare_handles.empty()) {
      return curl_easy_init();
    }
    auto* h = spare_handles.back();
    spare_handles.pop_back();
    curl_easy_reset(h);
    return h;
  }

  /// Opens the transfer on a connection of its host (counted in
  /// `hosts`), or completes it with an error.
  void start(std::unique_ptr<transfer> t) {
    auto& req = t->req;
    auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       clock::now() - t->posted_at)
                       .count();
    if (clock::now() >= deadline_of(*t)) {
      t->res.error = "timed out waiting for a connection";
      t->done(std::move(t->res));
      return;
    }
    // Without a wait budget of its own, the wait came out of the timeout.
    auto timeout_ms = req.wait_max_ms == 0
                        ? static_cast<int64_t>(req.timeout_ms) - waited_ms
                        : static_cast<int64_t>(req.timeout_ms);
    CURL* h = take_handle();
    if (h == nullptr) {
      t->res.error = "cannot create a transfer";
      t->done(std::move(t->res));
      return;
    }
    t->bytes_max = limits.response_bytes_max;
    t->keep_body = limits.keep_body;
    t->headers = curl_slist_append(t->headers,
                                   ("Content-Type: " + req.content_type).c_str());
    // No "Expect: 100-continue" round trip before larger bodies.
    t->headers = curl_slist_append(t->headers, "Expect:");
    for (auto& [name, value] : req.headers) {
      t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
    }
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->error_text);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(req.connect_timeout_ms));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    if (limits.public_addresses_only) {
      curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_public_socket);
      curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, t.get());
      // "" turns off http_proxy and the like: a proxy would open the
      // connection to the endpoint itself, where no check sees it.
      curl_easy_setopt(h, CURLOPT_PROXY, "");
    }
    if (curl_multi_add_handle(multi, h) != CURLM_OK) {
      give_back(h);
      t->res.error = "cannot queue the transfer";
      t->done(std::move(t->res));
      return;
    }
    ++hosts[t->host].running;
    running.emplace(h, std::move(t));
  }

  /// A transfer of `host` ended: its connection is free for the next.
  void release(const std::string& host) {
    auto i = hosts.find(host);
    if (i == hosts.end()) {
      return;
    }
    if (i->second.running > 0) {
      --i->second.running;
    }
    forget_if_idle(i);
  }

  void forget_if_idle(std::unordered_map<std::string, host_queue>::iterator i) {
    if (i->second.running == 0 && i->second.waiting.empty()) {
      hosts.erase(i);
    }
  }

  void give_back(CURL* h) {
    if (spare_handles.size() < limits.connections_cached) {
      spare_handles.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

  void finish(CURL* h, CURLcode code) {
    auto i = running.find(h);
    curl_multi_remove_handle(multi, h);
    if (i == running.end()) {
      give_back(h);
      return;
    }
    auto t = std::move(i->second);
    running.erase(i);
    release(t->host);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    give_back(h);
    if (code == CURLE_OK) {
      t->res.status = static_cast<int32_t>(status);
    } else if (code == CURLE_COULDNT_CONNECT && !t->refused_address.empty()) {
      t->res.body.clear();
      t->res.error = "address not allowed: " + t->refused_address;
    } else {
      t->res.body.clear();
      t->res.error = t->too_long ? "answer longer than "
                                     + std::to_string(t->bytes_max) + " bytes"
                     : t->error_text[0] != '\0' ? std::string{t->error_text}
                                                : curl_easy_strerror(code);
    }
    t->done(std::move(t->res));
  }

  bool adaptive() const {
    return limits.connections_min < limits.connections_per_host;
  }

  void set_cap(size_t n) {
    cap = n;
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(cap));
    // An adaptive client keeps no more connections than its cap: curl
    // closes the oldest idle ones as transfers finish.
    auto cached = adaptive() ? std::min(cap, limits.connections_cached)
                             : limits.connections_cached;
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(cached));
  }

  /// Hands a transfer to curl, or queues it behind its host's others
  /// while the host's connections are all in use.
  void submit(std::unique_ptr<transfer> t) {
    t->host = host_key(t->req.url);
    auto& q = hosts[t->host];
    if (q.running >= cap || !q.waiting.empty()) {
      q.waiting.push_back(std::move(t));
      ++waiting_count;
    } else {
      start(std::move(t));
    }
  }

  /// Starts waiting transfers, in order, on the connections their hosts
  /// have free under the cap.
  void start_waiting() {
    for (auto i = hosts.begin(); i != hosts.end();) {
      auto& q = i->second;
      while (!q.waiting.empty() && q.running < cap) {
        auto t = std::move(q.waiting.front());
        q.waiting.pop_front();
        --waiting_count;
        start(std::move(t)); // may add to `hosts`: the key exists already
      }
      auto next = std::next(i);
      forget_if_idle(i);
      i = next;
    }
  }

  /// Doubles the cap after a grow window in which transfers waited for a
  /// connection at least half of the time, halves it after a second in
  /// which at most half of it was open, and starts what the cap allows.
  /// Short waits in bursts do not grow it: on a busy machine they come
  /// from the CPU, and more connections would not shorten them.
  void adapt_cap() {
    auto now = clock::now();
    if (!adaptive()) {
      expire_waiting(now);
      start_waiting();
      return;
    }
    if (was_waiting) {
      saturated += now - last_adapt;
    }
    last_adapt = now;
    in_use_peak = std::max(in_use_peak, running.size());
    auto window = now - grow_window_start;
    if (window >= grow_window()) {
      if (saturated * 2 >= window && cap < limits.connections_per_host) {
        set_cap(std::min(cap * 2, limits.connections_per_host));
      }
      saturated = clock::duration{0};
      grow_window_start = now;
    }
    if (now - window_start >= std::chrono::seconds{1}) {
      if (in_use_peak * 2 <= cap && cap > limits.connections_min) {
        set_cap(std::max(cap / 2, limits.connections_min));
      }
      in_use_peak = 0;
      window_start = now;
    }
    expire_waiting(now);
    start_waiting();
    in_use_peak = std::max(in_use_peak, running.size());
    was_waiting = waiting_count > 0;
  }

  /// When a transfer still waiting for a connection fails.
  static clock::time_point deadline_of(const transfer& t) {
    auto budget_ms = t.req.wait_max_ms == 0 ? t.req.timeout_ms
                                            : t.req.wait_max_ms;
    return t.posted_at + std::chrono::milliseconds{budget_ms};
  }

  /// Waiting transfers past their timeout fail now, not when a connection
  /// frees up.
  void expire_waiting(clock::time_point now) {
    if (waiting_count == 0) {
      return;
    }
    for (auto& [host, q] : hosts) {
      for (auto i = q.waiting.begin(); i != q.waiting.end();) {
        if (deadline_of(**i) <= now) {
          auto t = std::move(*i);
          i = q.waiting.erase(i);
          --waiting_count;
          t->res.error = "timed out waiting for a connection";
          t->done(std::move(t->res));
        } else {
          ++i;
        }
      }
    }
  }

  std::chrono::milliseconds grow_window() const {
    return std::chrono::milliseconds{limits.grow_window_ms};
  }

  /// How long the loop may sleep: a second at most, less while transfers
  /// wait (the grow window ends, one times out).
  int poll_timeout_ms() const {
    auto now = clock::now();
    auto due = now + std::chrono::seconds{1};
    if (waiting_count > 0 && adaptive() && cap < limits.connections_per_host) {
      due = std::min(due, grow_window_start + grow_window());
    }
    if (waiting_count > 0) {
      for (auto& [host, q] : hosts) {
        for (auto& t : q.waiting) {
          due = std::min(due, deadline_of(*t));
        }
      }
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(due - now)
                .count();
    return static_cast<int>(std::clamp<int64_t>(ms, 1, 1'000));
  }

  void run() {
    for (;;) {
      std::vector<std::unique_ptr<transfer>> fresh;
      {
        std::lock_guard<std::mutex> guard{inbox_mutex};
        if (stopping) {
          break;
        }
        fresh.swap(inbox);
      }
      for (auto& t : fresh) {
        submit(std::move(t));
      }
      int still_running = 0;
      curl_multi_perform(multi, &still_running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
        if (msg->msg == CURLMSG_DONE) {
          finish(msg->easy_handle, msg->data.result);
        }
      }
      adapt_cap();
      // Sleeps until a socket is ready, a curl timer is due, post() wakes
      // it or a waiting transfer would grow the cap.
      curl_multi_poll(multi, nullptr, 0, poll_timeout_ms(), nullptr);
    }
    abandon_all();
  }

  void abandon_all() {
    std::vector<std::unique_ptr<transfer>> left;
    {
      std::lock_guard<std::mutex> guard{inbox_mutex};
      left.swap(inbox);
    }
    for (auto& [h, t] : running) {
      curl_multi_remove_handle(multi, h);
      give_back(h);
      left.push_back(std::move(t));
    }
    running.clear();
    for (auto& [host, q] : hosts) {
      for (auto& t : q.waiting) {
        left.push_back(std::move(t));
      }
    }
    hosts.clear();
    waiting_count = 0;
    for (auto& t : left) {
      t->res = post_response{};
      t->res.error = "client stopped";
      t->done(std::move(t->res));
    }
  }
};

multi_client::multi_client(client_limits limits)
  : impl_(std::make_unique<impl>(limits)) {
}

multi_client::~multi_client() = default;

void multi_client::post(post_request req, post_completion done) {
  auto t = std::make_unique<transfer>();
  t->req = std::move(req);
  t->done = std::move(done);
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{impl_->inbox_mutex};
    if (!impl_->stopping) {
      // A non-empty inbox has a wake-up on its way already.
      wake = impl_->inbox.empty();
      impl_->inbox.push_back(std::move(t));
    }
  }
  if (t) { // refused: the client is stopping
    t->res.error = "client stopped";
    t->done(std::move(t->res));
    return;
  }
  if (wake) {
    curl_multi_wakeup(impl_->multi);
  }
}

} // namespace psp::http_client
