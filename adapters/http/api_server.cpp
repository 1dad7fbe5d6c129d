#include "adapters/http/api_server.hpp"

#include "adapters/crypto/random_id.hpp"
#include "adapters/http/api_errors.hpp"
#include "adapters/http/bounded_connection.hpp"
#include "adapters/http/card_number_mask.hpp"
#include "adapters/http/expansion.hpp"
#include "adapters/http/hosted_page_html.hpp"
#include "adapters/http/page_policy.hpp"
#include "adapters/http/request_framing.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace psp::http {

/// cpp-httplib 0.11 listens with a backlog of 5, so a burst of new
/// connections is refused; listen() again on the bound socket widens it.
class tuned_server : public httplib::Server {
public:
  explicit tuned_server(connection_limits limits) : limits_(limits) {}

  bool widen_backlog(int backlog) { return ::listen(svr_sock_, backlog) == 0; }
  uint32_t read_timeout_ms() const { return limits_.read_timeout_ms; }
  uint32_t write_timeout_ms() const { return limits_.write_timeout_ms; }

private:
  /// Each connection runs through bounded_connection.hpp's loop instead of
  /// the library's: a bounded read per request, and a close the handler
  /// can ask for.
  bool process_and_close_socket(socket_t sock) override {
    serve_connection(
      sock, limits_, [this] { return svr_sock_ == INVALID_SOCKET; },
      [this](httplib::Stream& strm, bool last, bool& closed) {
        return process_request(strm, last, closed, nullptr);
      });
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }

  connection_limits limits_;
};

namespace {
constexpr int listen_backlog = 1024;

/// A head framing_error or query_error refuses (request_framing.hpp):
/// its body is left unread, so the connection closes after the answer (a
/// chunked body is also one the size limit cannot bound: cpp-httplib 0.11
/// read a 200 MB one whole, and inflated a 63 KB gzip one to 62 MB).
bool refuse_bad_framing(httplib::Request& req, httplib::Response& res,
                        size_t body_bytes_max) {
  auto e = framing_error(req.method, req.headers, body_bytes_max);
  if (!e) {
    e = query_error(req.method, req.path, req.params);
  }
  if (!e) {
    return false;
  }
  write_error(res, *e);
  close_after_this_answer();
  // As if the client had asked: cpp-httplib then answers with
  // `Connection: close`.
  req.headers.erase("Connection");
  req.headers.emplace("Connection", "close");
  return true;
}

/// Once Redis lost what it had acknowledged (decision 62), nothing but the
/// operator's views is served: a session paid since a restored backup
/// would show its form again. The body is left unread, so the connection
/// closes after the answer, as for a refused head.
bool refuse_after_redis_loss(const api_context& ctx, httplib::Request& req,
                             httplib::Response& res) {
  if (req.path == "/healthz" || req.path == "/metrics") {
    return false;
  }
  auto reason = ctx.redis_state_lost();
  if (!reason) {
    return false;
  }
  if (req.path.rfind("/pay/", 0) == 0) {
    auto page = message_page("Temporarily unavailable",
                             "Payments are paused while we check our "
                             "records. Please try again later.",
                             "", "");
    res.status = 503;
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Content-Security-Policy", page_security_policy(page));
    res.set_content(page, "text/html; charset=utf-8");
  } else {
    api_error e;
    e.status = 503;
    e.type = "api_error";
    // The reason names Redis keys and counters, nothing of a merchant's.
    e.message = "This node stopped taking requests: " + *reason
                + ". An operator must check Redis and accept it (docs/"
                  "faults.md, \"Redis lost data\"; a restart alone does "
                  "not); a request retried later with the same "
                  "Idempotency-Key runs at most once.";
    write_error(res, e);
  }
  close_after_this_answer();
  req.headers.erase("Connection");
  req.headers.emplace("Connection", "close");
  return true;
}

/// An error may echo what the client sent, and a client may put a card
/// number anywhere (an id, a key, a header). Not in the admin API: its ids
/// are stream entries led by 13 digits of milliseconds. Done in the error
/// handler, which cpp-httplib runs before it compresses the body: the
/// post-routing handler, where this was, runs after, and a client that
/// accepted gzip or br got the number whole (the card data audit).
void mask_error_body(const httplib::Request& req, httplib::Response& res) {
  if (req.path.rfind("/admin/", 0) != 0
      && res.get_header_value("Content-Type") == "application/json") {
    res.body = masked_error_body(res.body);
  }
}

/// Undoes two cpp-httplib 0.11 behaviours that Stripe clients trip over,
/// before it reads the body:
/// - a POST without Content-Length (`curl -X POST .../capture`) has an
///   empty body (RFC 9112 6.3), but the library reads until its 10 s
///   timeout and answers 400;
/// - it caps form bodies at 8 KiB (413) and parses them into `params`,
///   which nothing here reads; our own limit is `body_bytes_max` and
///   decode_body parses. A marker in front of the form type hides it from
///   the library; decode_body still recognises the type.
void prepare_body_headers(httplib::Request& req) {
  if (!req.has_header("Content-Length")) {
    req.headers.emplace("Content-Length", "0");
  }
  auto type = req.headers.find("Content-Type");
  if (type != req.headers.end() && is_form_type(type->second)) {
    type->second = unparsed_marker + type->second;
  }
}
/// Headers and request line a request may bring besides its body.
constexpr size_t head_bytes_max = 64 * 1024;

/// Short keep-alive, so a stop is not held up by idle connections.
connection_limits limits_for(const api_settings& settings) {
  connection_limits limits;
  limits.keep_alive_requests_max = 10'000;
  limits.keep_alive_timeout_ms = 2'000;
  limits.read_timeout_ms = 10'000;
  limits.write_timeout_ms = 10'000;
  limits.request_bytes_max = settings.body_bytes_max + head_bytes_max;
  return limits;
}
} // namespace

api_server::api_server(api_context& ctx, server_settings cfg)
  : ctx_(ctx), cfg_(std::move(cfg)),
    srv_(std::make_unique<tuned_server>(limits_for(ctx.settings))) {
  auto& srv = *srv_;
  srv.set_tcp_nodelay(true);
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, with which
  // a second node started on the same port shares it silently instead of
  // exiting 4 (port in use).
  srv.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  srv.set_payload_max_length(ctx_.settings.body_bytes_max);
  // The connection loop (bounded_connection) enforces these; the library
  // only writes them into each answer's Keep-Alive header, which must not
  // promise a client more idle time than the loop gives (its defaults, 5 s,
  // made clients reuse sockets the node had closed). Node's http.Agent and
  // undici keep a socket a second less than the hint: a hint of 1 s made
  // them never reuse one.
  auto limits = limits_for(ctx_.settings);
  srv.set_keep_alive_max_count(limits.keep_alive_requests_max);
  srv.set_keep_alive_timeout(std::max<time_t>(
    1, static_cast<time_t>(limits.keep_alive_timeout_ms / 1000)));
  // The library puts these on each accepted socket (SO_RCVTIMEO,
  // SO_SNDTIMEO); the connection loop polls with the same ones.
  srv.set_read_timeout(std::chrono::milliseconds{srv_->read_timeout_ms()});
  srv.set_write_timeout(std::chrono::milliseconds{srv_->write_timeout_ms()});
  auto threads = cfg_.threads;
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  srv.set_pre_routing_handler([this](const httplib::Request& req,
                                     httplib::Response& res) {
    ++ctx_.counters.requests;
    res.set_header("Request-Id", crypto::new_id("req_"));
    // Runs before cpp-httplib reads the body; the request object is the
    // server's own, non-const one.
    auto& own = const_cast<httplib::Request&>(req);
    if (refuse_bad_framing(own, res, ctx_.settings.body_bytes_max)
        || refuse_after_redis_loss(ctx_, own, res)) {
      return httplib::Server::HandlerResponse::Handled;
    }
    prepare_body_headers(own);
    if (auto err = expand_elsewhere(req)) {
      write_error(res, *err);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Asked before the pre-routing handler: a body that would be refused
  // is not invited ("100 Continue" for a declared gigabyte).
  srv.set_expect_100_continue_handler([this](const httplib::Request& req,
                                             httplib::Response& res) {
    auto& own = const_cast<httplib::Request&>(req);
    return refuse_bad_framing(own, res, ctx_.settings.body_bytes_max)
             ? res.status
             : 100;
  });
  srv.set_error_handler([this](const httplib::Request& req,
                               httplib::Response& res) {
    if (!res.body.empty()) {
      // A handler already wrote a Stripe-shaped error or a page.
      mask_error_body(req, res);
      return;
    }
    if (res.status != 404) {
      // cpp-httplib's own refusals (a request line it cannot parse, a URL
      // or header line over its limits, a body over the limit) leave what
      // follows unread: the re-test ran a body after a 414 as a request.
      // The answer's Connection header is decided after this handler.
      close_after_this_answer();
      auto& own = const_cast<httplib::Request&>(req);
      own.headers.erase("Connection");
      own.headers.emplace("Connection", "close");
    }
    api_error e;
    e.status = res.status;
    auto missing = res.status == 404
                     ? missing_object_error(req.method, req.path)
                     : std::nullopt;
    if (missing) {
      // Like any retrieve: the key first, then the id no object can have.
      auto who = identify(ctx_, req);
      e = std::holds_alternative<api_error>(who) ? std::get<api_error>(who)
                                                 : *missing;
    } else if (res.status == 413) {
      e.message = "Request body too large.";
    } else if (res.status == 414) {
      // cpp-httplib's limit on the request line (8 KiB): ids and cursors
      // are far shorter, so this is not a request we could serve.
      e.message = "Request URL too long.";
    } else if (res.status == 404) {
      e.message = "Unrecognized request URL (" + req.method + ": " + req.path
                  + ").";
    } else {
      e.message = "The request could not be handled.";
      e.type = res.status >= 500 ? "api_error" : "invalid_request_error";
    }
    write_error(res, e);
    mask_error_body(req, res);
  });
  srv.set_exception_handler([](const httplib::Request& req,
                               httplib::Response& res, std::exception_ptr) {
    spdlog::error("event=handler_exception method={} path={}", req.method,
                  req.path);
    write_unexpected_error(res);
  });
  srv.set_post_routing_handler([this](const httplib::Request& req,
                                      httplib::Response& res) {
    // API answers are per merchant and some carry secrets (a webhook
    // endpoint's on create): no cache keeps them. Hosted pages set theirs.
    if (req.path.rfind("/v1/", 0) == 0 && !res.has_header("Cache-Control")) {
      res.set_header("Cache-Control", "no-store");
    }
    // Every answer, not only the hosted pages (the page audit): an error
    // echoes what the client sent, which a browser must not read as HTML.
    if (!res.has_header("X-Content-Type-Options")) {
      res.set_header("X-Content-Type-Options", "nosniff");
    }
    if (ctx_.draining.load()) {
      // Keep-alive clients move to another node with their next request
      // instead of finding this one closed under them.
      // This handler runs after the library chose the answer's headers.
      close_after_this_answer();
      res.headers.erase("Keep-Alive");
      res.headers.erase("Connection");
      res.set_header("Connection", "close");
    }
    if (res.status >= 500) {
      ++ctx_.counters.errors_5xx;
    } else if (res.status >= 400) {
      ++ctx_.counters.errors_4xx;
    }
  });
  add_checkout_routes(srv, ctx_);
  add_payment_intent_routes(srv, ctx_);
  add_payment_method_routes(srv, ctx_);
  add_refund_routes(srv, ctx_);
  add_balance_routes(srv, ctx_);
  add_webhook_endpoint_routes(srv, ctx_);
  add_event_routes(srv, ctx_);
  add_hosted_page_routes(srv, ctx_);
  add_operations_routes(srv, ctx_);
  add_dead_letter_routes(srv, ctx_);
  add_admin_object_routes(srv, ctx_);
  add_report_routes(srv, ctx_);
}

api_server::~api_server() {
  stop();
}

bool api_server::bind(std::string& err) {
  if (cfg_.port == 0) {
    int p = srv_->bind_to_any_port(cfg_.host);
    if (p <= 0) {
      err = "cannot bind " + cfg_.host;
      return false;
    }
    port_ = static_cast<uint16_t>(p);
    srv_->widen_backlog(listen_backlog);
    return true;
  }
  if (!srv_->bind_to_port(cfg_.host, cfg_.port)) {
    err = "cannot listen on " + cfg_.host + ":" + std::to_string(cfg_.port)
          + " (port in use?)";
    return false;
  }
  port_ = cfg_.port;
  srv_->widen_backlog(listen_backlog);
  return true;
}

void api_server::serve() {
  srv_->listen_after_bind();
}

void api_server::stop() {
  if (srv_) {
    srv_->stop();
  }
}

} // namespace psp::http
