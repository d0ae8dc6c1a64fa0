// Server: `strata serve`'s HTTP side (DESIGN.md, "server"), thin over jobs and export. It answers
// the API of docs/api.md, serves the web page, /healthz and /metrics, and runs a WorkerPool in the
// same process. Every request is checked before anything is queued: its key, its report, each
// parameter by its declared type; errors name the field.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "jobs/worker_pool.h"
#include "report/project.h"
#include "server/http_server.h"

namespace strata::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;              // 0: any free port (see Server::port())
  size_t max_body = 64 * 1024;  // bytes; larger bodies get 413
  int max_attempts = 3;         // per job
  // wait this long in DELETE for a running export's query to stop, then answer anyway
  std::chrono::milliseconds cancel_wait{5000};
  HttpLimits http;              // request threads, backlog, per-request deadline, keep-alive
  jobs::WorkerOptions workers;  // jobs_url, database_url, files, limits, leases, clock, log
};

class Server {
 public:
  // REQUIRES: project outlives the server.
  Server(const Project& project, ServeOptions options);
  ~Server();

  // Checks the keys, opens the job store, starts the workers and binds the port. After it returns
  // ok, Run() serves.
  Status Start();
  // Serves until Stop(); returns its error, if the listening failed.
  Status Run();
  // Stops taking requests, cancels running exports (their jobs go back to the queue) and returns.
  // Safe from any thread.
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::server
