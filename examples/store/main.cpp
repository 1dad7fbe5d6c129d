// example-store: a small merchant shop that sells three products through the
// PSP. It shows the merchant side of a checkout: create a session with an
// Idempotency-Key, redirect the shopper, verify signed webhooks (Stripe and
// Standard Webhooks), deduplicate them and mark orders paid.
//
// Start-up: replay the --journal if given, bind, register the webhook
// endpoint at the PSP (retrying while the PSP is unreachable), then print
// "example-store listening on HOST:PORT".
#include "order_journal.hpp"
#include "order_sync.hpp"
#include "psp_client.hpp"
#include "saved_endpoint.hpp"
#include "store_options.hpp"
#include "store_routes.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

namespace {

using namespace std::chrono_literals;

// Registration retries while the PSP is starting up, then gives up.
constexpr auto register_retry_interval = 200ms;
constexpr auto register_deadline = 30s;
// httplib runs one connection per pool thread; the PSP's webhook workers,
// browsers and test drivers may all hold keep-alive connections at once.
constexpr size_t server_threads = 32;
constexpr size_t payload_bytes_max = 1 << 20;
constexpr size_t keep_alive_requests_max = 10'000;
// How long shutdown waits for the accept loop to start before stopping it.
constexpr auto server_start_wait_max = 5s;

void configure(httplib::Server& server) {
  server.new_task_queue = [] {
    return new httplib::ThreadPool(server_threads);
  };
  server.set_tcp_nodelay(true);
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, with which
  // a second store started on a taken port would share it silently.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.set_payload_max_length(payload_bytes_max);
  server.set_keep_alive_max_count(keep_alive_requests_max);
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content("{\"error\":\"internal error\"}", "application/json");
      });
}

// The address the PSP and shoppers use when --public-url is not given.
std::string default_public_url(const std::string& host, int port) {
  bool wildcard = host == "0.0.0.0" || host == "::" || host == "[::]";
  return "http://" + (wildcard ? std::string("127.0.0.1") : host) + ":" +
         std::to_string(port);
}

// The endpoint an earlier run saved at `path` (nullopt: none, or none to
// trust; the log says which). Read once per start.
std::optional<store::saved_endpoint> load_saved_endpoint(
    const std::string& path) {
  if (path.empty()) {
    return std::nullopt;
  }
  std::string error;
  auto saved = store::load_endpoint(path, error);
  if (!saved) {
    std::cerr << "example-store: "
              << (error.empty() ? "no saved webhook endpoint at " + path
                                : error)
              << "; registering one" << std::endl;
  }
  return saved;
}

// Keeps `saved` if the PSP still has it as it was: its secret is set and
// true returned. False: register a new one. An error the PSP gives is
// returned in `last` (then retry).
bool reuse_saved_endpoint(store::store_state& st,
                          const store::saved_endpoint& saved,
                          store::psp_error& last) {
  auto live = st.psp.endpoint_is_live(saved.id, st.public_url + "/webhook");
  if (!live.ok()) {
    last = live.error;
    return false;
  }
  if (!*live.value) {
    std::cerr << "example-store: saved webhook endpoint " << saved.id
              << " is gone, disabled or for another URL; registering one"
              << std::endl;
    return false;
  }
  st.psp.remove_stale_webhook_endpoints(st.public_url, saved.id);
  st.secret.set(saved.secret);
  std::cerr << "example-store: kept webhook endpoint " << saved.id
            << std::endl;
  return true;
}

// Registers <public>/webhook; true once the secret is stored. With
// `saved_path` (beside the journal) an endpoint an earlier run registered is
// kept, so what the PSP still has to deliver there arrives. Retries only
// while the PSP cannot answer (down or 5xx); a 4xx (bad key) is final.
bool register_webhook(store::store_state& st, const std::string& saved_path) {
  auto deadline = std::chrono::steady_clock::now() + register_deadline;
  auto saved = load_saved_endpoint(saved_path);
  store::psp_error last;
  while (!st.stopping.load()) {
    last = {};
    if (saved && reuse_saved_endpoint(st, *saved, last)) {
      return true;
    }
    if (last.status == 0 && last.message.empty()) {
      st.psp.remove_stale_webhook_endpoints(st.public_url);
      auto r = st.psp.create_webhook_endpoint(st.public_url);
      if (r.ok()) {
        st.secret.set(r.value->secret);
        std::cerr << "example-store: registered webhook endpoint "
                  << r.value->id << " for " << st.public_url << "/webhook"
                  << std::endl;
        std::string error;
        if (!saved_path.empty()
            && !store::save_endpoint(saved_path,
                                     {r.value->id, r.value->secret,
                                      st.public_url + "/webhook"},
                                     error)) {
          // Serving still works; only a restart would register anew.
          std::cerr << "example-store: " << error << std::endl;
        }
        return true;
      }
      last = r.error;
    }
    if (last.status >= 400 && last.status < 500) {
      break;
    }
    if (std::chrono::steady_clock::now() + register_retry_interval > deadline) {
      break;
    }
    std::this_thread::sleep_for(register_retry_interval);
  }
  if (!st.stopping.load()) {
    std::cerr << "example-store: cannot register the webhook endpoint at the "
                 "PSP"
              << (last.status == 0 ? " (gave up after 30 s of retries)" : "")
              << ": " << last.message << std::endl;
  }
  return false;
}

// Stops the accept loop; waits (bounded) for it to have started, because
// httplib ignores stop() before listen_after_bind has begun.
void stop_server(httplib::Server& server, const std::atomic<bool>& done) {
  auto give_up = std::chrono::steady_clock::now() + server_start_wait_max;
  while (!server.is_running() && !done.load() &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  server.stop();
}

// Rebuilds the order book from the journal. False (after saying why) when
// the journal cannot be trusted: a store that silently lost orders would
// start again at ord_1, which is the problem the journal is there to solve.
bool replay_journal(store::order_journal& journal, store::order_book& orders) {
  auto r = journal.replay(
      [&orders](std::string_view line) { return orders.replay(line); });
  if (!r.error.empty()) {
    std::cerr << "example-store: cannot replay the journal: " << r.error
              << std::endl;
    return false;
  }
  if (r.torn_line_dropped) {
    std::cerr << "example-store: dropped the torn last line of "
              << journal.path() << " (" << r.torn_bytes
              << " bytes, a change cut short by a crash and never "
                 "acknowledged)"
              << std::endl;
  }
  std::cerr << "example-store: journal " << journal.path() << ": " << r.lines
            << " lines, " << orders.order_count() << " orders, "
            << orders.event_ids_remembered() << " event ids" << std::endl;
  return true;
}

// Blocks the stop signals in every thread (threads inherit the mask); one
// thread takes them with sigwait, so no code runs in a signal handler.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1); // internal: "shut down now"
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN); // a shopper closing the tab must not kill us
  return set;
}

} // namespace

int main(int argc, char** argv) {
  // First thing, so a SIGTERM right after start-up is already ours.
  auto stop_signals = block_stop_signals();
  auto parsed = store::parse_options(argc, argv, std::getenv("PSP_API_KEY"));
  if (parsed.help) {
    std::cout << store::usage();
    return 0;
  }
  if (!parsed.options) {
    std::cerr << "example-store: " << parsed.error << "\n" << store::usage();
    return 2;
  }
  const auto& opts = *parsed.options;

  // Declared before the state, so it outlives the order book writing to it.
  std::unique_ptr<store::order_journal> journal;
  if (!opts.journal_path.empty()) {
    std::string error;
    journal = store::order_journal::open(opts.journal_path, error);
    if (!journal) {
      std::cerr << "example-store: " << error << std::endl;
      return 1;
    }
  }
  store::http_psp_client psp(opts.psp_url, opts.api_key);
  store::store_state st(psp, journal.get());
  if (journal && !replay_journal(*journal, st.orders)) {
    return 1;
  }
  httplib::Server server;
  configure(server);
  store::install_routes(server, st);
  int port = opts.port == 0
                 ? server.bind_to_any_port(opts.host)
                 : (server.bind_to_port(opts.host, opts.port) ? opts.port : -1);
  if (port <= 0) {
    std::cerr << "example-store: cannot listen on " << opts.host << ":"
              << opts.port << std::endl;
    return 1;
  }
  st.public_url = opts.public_url.empty() ? default_public_url(opts.host, port)
                                          : opts.public_url;

  std::atomic<bool> server_done{false};
  std::atomic<int> exit_code{0};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    st.stopping = true;
    stop_server(server, server_done);
  });
  std::thread server_thread([&] {
    server.listen_after_bind();
    server_done = true;
    if (!st.stopping.load()) {
      // The accept loop died on its own: nothing left to serve.
      std::cerr << "example-store: server stopped unexpectedly" << std::endl;
      exit_code = 1;
      pthread_kill(signal_thread.native_handle(), SIGUSR1);
    }
  });

  auto saved_endpoint_path =
      opts.journal_path.empty() ? std::string{} : opts.journal_path + ".endpoint";
  if (register_webhook(st, saved_endpoint_path)) {
    std::cout << "example-store listening on " << opts.host << ":" << port
              << std::endl;
    // What the webhooks may have missed while the store was away (its
    // endpoint registered anew, or moved): the PSP's sessions say. And the
    // sessions a stop cut off before the PSP answered.
    auto caught = store::catch_up_pending_orders(st.orders, st.psp,
                                                 st.public_url, st.stopping);
    if (caught.settled > 0) {
      std::cerr << "example-store: " << caught.settled
                << " pending orders were paid or expired at the PSP "
                   "meanwhile; marked so"
                << std::endl;
    }
    if (caught.attached + caught.refused > 0) {
      std::cerr << "example-store: " << caught.attached
                << " orders without a session got it (created again under "
                   "their Idempotency-Key), "
                << caught.refused << " refused by the PSP" << std::endl;
    }
  } else if (!st.stopping.load()) {
    exit_code = 1;
    pthread_kill(signal_thread.native_handle(), SIGUSR1);
  }
  signal_thread.join();
  server_thread.join();
  return exit_code.load();
}
