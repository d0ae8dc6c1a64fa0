// The job queue alone, for tiny jobs: how many jobs a second the JobStore queues and runs through
// Claim + Finish when the job itself does nothing. Same flags and the same JSON line as the
// graphile-worker peer (bench/queue/graphile_peer.mjs), so bench/queue/run_queue_bench.sh can put
// them side by side on one PostgreSQL server.
//
//   queue_bench --url postgresql://... --jobs 20000 --concurrency 4 [--tenants 100]
//
// enqueue: K threads add N jobs, one transaction each. process: K workers, each with its own
// connection, claim and finish them (a claim takes the queue's fairness rules as `strata serve`
// runs them: round robin over --tenants tenants, a per-tenant limit of K). mixed: both at once.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_store.h"

using namespace strata;
using namespace strata::jobs;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::unique_ptr<JobStore> Open(const std::string& url) {
  auto store = ConnectJobStore(url);
  if (!store.ok()) {
    std::fprintf(stderr, "queue_bench: %s\n", store.status().message().c_str());
    std::exit(1);
  }
  return std::move(*store);
}

void Enqueue(const std::string& url, int jobs, int threads, int tenants, std::atomic<int>* next) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto store = Open(url);
      for (int k = next->fetch_add(1); k < jobs; k = next->fetch_add(1)) {
        JobRequest r;
        r.tenant = std::to_string(k % tenants);
        r.report = "tiny";
        r.format = "csv";
        r.params = {{"tenant_id", r.tenant}, {"n", std::to_string(k)}};
        r.dedupe_key = "tiny/" + std::to_string(k) + "/" + std::to_string(t);
        auto e = store->Enqueue(r, NowMillis());
        if (!e.ok()) {
          std::fprintf(stderr, "queue_bench: %s\n", e.status().message().c_str());
          std::exit(1);
        }
      }
    });
  }
  for (auto& t : pool) t.join();
}

void Process(const std::string& url, int jobs, int workers, std::atomic<int>* done) {
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      auto store = Open(url);
      ClaimOptions o;
      o.worker = "bench/" + std::to_string(w);
      o.tenant_limit = workers;
      o.max_running = workers;
      while (done->load() < jobs) {
        o.now = NowMillis();
        auto c = store->Claim(o);
        if (!c.ok()) {
          std::fprintf(stderr, "queue_bench: %s\n", c.status().message().c_str());
          std::exit(1);
        }
        if (!*c) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          continue;
        }
        Outcome out;
        out.kind = Outcome::Kind::kDone;
        out.file = (*c)->id + ".csv";
        out.expires_at = NowMillis() + 3600000;
        auto f = store->Finish((*c)->id, (*c)->attempt, out, NowMillis());
        if (!f.ok() || !*f) {
          std::fprintf(stderr, "queue_bench: finish failed\n");
          std::exit(1);
        }
        done->fetch_add(1);
      }
    });
  }
  for (auto& t : pool) t.join();
}

// Makes the store's tables, once, before any thread connects.
void SetUp(const std::string& url) {
  auto store = OpenJobStore(url);
  if (!store.ok()) {
    std::fprintf(stderr, "queue_bench: %s\n", store.status().message().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int jobs = 20000;
  int concurrency = 4;
  int tenants = 100;
  for (int k = 1; k + 1 < argc; k += 2) {
    if (!std::strcmp(argv[k], "--url")) url = argv[k + 1];
    if (!std::strcmp(argv[k], "--jobs")) jobs = std::atoi(argv[k + 1]);
    if (!std::strcmp(argv[k], "--concurrency")) concurrency = std::atoi(argv[k + 1]);
    if (!std::strcmp(argv[k], "--tenants")) tenants = std::atoi(argv[k + 1]);
  }
  if (url.empty() || jobs < 1 || concurrency < 1 || tenants < 1) {
    std::fprintf(stderr, "usage: queue_bench --url URL [--jobs N] [--concurrency K] [--tenants T]\n");
    return 2;
  }
  SetUp(url);
  std::atomic<int> next{0};
  auto t0 = std::chrono::steady_clock::now();
  Enqueue(url, jobs, concurrency, tenants, &next);
  const double enqueue = Seconds(t0);

  std::atomic<int> done{0};
  t0 = std::chrono::steady_clock::now();
  Process(url, jobs, concurrency, &done);
  const double process = Seconds(t0);

  // Mixed: enqueuers and workers at once, on jobs of their own.
  std::atomic<int> next2{0};
  std::atomic<int> done2{0};
  t0 = std::chrono::steady_clock::now();
  std::thread producer([&] { Enqueue(url, jobs, concurrency, tenants, &next2); });
  Process(url, jobs, concurrency, &done2);
  producer.join();
  const double mixed = Seconds(t0);

  std::printf(
      "{\"peer\":\"strata\",\"version\":\"0.1.0\",\"jobs\":%d,\"concurrency\":%d,\"enqueue_per_second\":%.0f,"
      "\"process_per_second\":%.0f,\"mixed_per_second\":%.0f}\n",
      jobs, concurrency, jobs / enqueue, jobs / process, jobs / mixed);
  return 0;
}
