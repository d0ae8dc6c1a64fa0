// HttpServer: the HTTP library's server, held against slow, idle and many clients.
//
// The library reads a request with a timeout per read, so a client that sends a byte every few
// seconds keeps a request thread as long as it likes, and its request threads are few: eight such
// clients stall every request, /healthz included. Here every connection is served through a stream
// whose reads share one deadline per request (from the moment the server starts waiting for it, the
// first byte included), a connection waits at most `idle` between requests, request threads are
// made as connections need them (up to `threads`), the listen backlog is raised, and TCP_NODELAY is set on every
// connection (a keep-alive response must not wait for the client's delayed ACK).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>

namespace strata::server {

struct HttpLimits {
  int threads = 512;                                  // request threads, at most (made when needed)
  int backlog = 1024;                                 // connections the kernel holds before accept
  std::chrono::milliseconds request_deadline{10000};  // to read one whole request, head and body
  std::chrono::milliseconds idle{5000};               // a connection's wait for its next request
  size_t keep_alive_max = 100;                        // requests per connection
};

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(HttpLimits limits);

  // After bind_to_port or bind_to_any_port: makes the backlog limits.backlog. False if the socket
  // refused.
  bool RaiseBacklog();

 private:
  bool process_and_close_socket(socket_t sock) override;

  HttpLimits limits_;
};

}  // namespace strata::server
