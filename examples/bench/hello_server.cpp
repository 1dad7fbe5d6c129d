// bench-hello-server: the HTTP floor of the PSP's own stack.
//
//   bench-hello-server --port N [--host 127.0.0.1] [--threads 32]
//
// A cpp-httplib server that answers every `GET /` with "Hello World!" and
// does nothing else. It is configured exactly like the PSP node's HTTP
// adapter (adapters/http/api_server.cpp): TCP_NODELAY on (without it
// cpp-httplib 0.11 stalls on Nagle + delayed ACK), keep-alive up to 10,000
// requests per connection, a fixed pool of --threads handler threads (the
// node's --psp.http-threads, 32 by default). Whatever a PSP request costs on
// top of this server is the PSP's own work, which is what bench.sh reports
// as the ratio to this floor.
//
// Prints `bench-hello-server listening on HOST:PORT` once ready; SIGTERM or
// SIGINT stops it with exit code 0. Exit 2: bad flags; 4: cannot listen.
#include <httplib.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <string>
#include <thread>

namespace {

struct hello_options {
  std::string host = "127.0.0.1";
  int port = -1;
  int threads = 32; ///< the node's default --psp.http-threads
};

int usage() {
  std::cerr << "usage: bench-hello-server --port N [--host 127.0.0.1] "
               "[--threads 32]\n";
  return 2;
}

bool parse_int(const std::string& text, int lo, int hi, int& out) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi) {
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

bool parse(int argc, char** argv, hello_options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    bool ok = flag == "--host"      ? (o.host = value, !value.empty())
              : flag == "--port"    ? parse_int(value, 0, 65535, o.port)
              : flag == "--threads" ? parse_int(value, 1, 1024, o.threads)
                                    : false;
    if (!ok) {
      return false;
    }
  }
  return argc % 2 == 1 && o.port >= 0;
}

} // namespace

int main(int argc, char** argv) {
  hello_options opts;
  if (!parse(argc, argv, opts)) {
    return usage();
  }
  // Only the sigwait below sees the stop signals, not the pool threads.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  httplib::Server srv;
  srv.set_tcp_nodelay(true);
  srv.set_keep_alive_max_count(10'000);
  srv.set_keep_alive_timeout(5);
  srv.set_read_timeout(10, 0);
  srv.set_write_timeout(10, 0);
  srv.set_payload_max_length(1 << 20);
  auto threads = static_cast<size_t>(opts.threads);
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  srv.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Hello World!", "text/plain");
  });

  int port = opts.port;
  if (port == 0) {
    port = srv.bind_to_any_port(opts.host);
  } else if (!srv.bind_to_port(opts.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::cerr << "bench-hello-server: cannot listen on " << opts.host << ":"
              << opts.port << "\n";
    return 4;
  }
  std::thread server_thread{[&srv] { srv.listen_after_bind(); }};
  std::cout << "bench-hello-server listening on " << opts.host << ":" << port
            << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  srv.stop();
  server_thread.join();
  return 0;
}
