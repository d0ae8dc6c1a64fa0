// JobStore: the durable queue of export jobs (DESIGN.md, "jobs").
//
// A job is one export of one report for one tenant. Its life:
//
//   queued ──Claim──► running ──Finish(kDone)──► done ──Expire──► done, file gone
//     ▲                  │ ├──Finish(kRetry)──► queued again after a backoff
//     │                  │ ├──Finish(kFailed)──► failed
//     └──lease expired───┘ └──Finish(kCancelled)─► cancelled      (Cancel() of a queued job too)
//
// Leases and fencing. Claim() hands a job to one worker with a lease (until lease_until) and bumps
// the job's `attempt`. The worker renews the lease with Heartbeat() and ends it with Finish(); both
// name the attempt they hold and do nothing when it is no longer the job's current running attempt
// (another worker re-claimed the job after this one's lease ran out). That is the fence: a worker
// that lost its lease cannot publish its file, because "file ready" is the very row update that
// Finish(kDone) makes, and the file is named by the job and attempt. A lease that ran out is taken
// back by the next Claim(): the job is queued again, or failed when it has used all its attempts.
//
// Fairness. Claim() takes the next job under two limits that hold across every process sharing the
// store: at most `max_running` jobs running in all (the cap on concurrent database queries), and at
// most `tenant_limit` per tenant. Among the tenants with room it takes the one whose exports used
// the least database time (Charge(), after each attempt), then the one served least recently, then
// that tenant's oldest job. So a tenant that queues 100 exports delays another tenant's by at most
// one job slot, and a tenant whose exports each take a minute of the database gets the workers as
// often as its time allows, not as often as a tenant whose exports take a second. A tenant that was
// idle starts at the least time of the active tenants: idle time is not saved up.
//
// Dedupe. Enqueue() of a request whose dedupe_key equals that of a queued or running job returns
// that job instead of a new one.
//
// Times are milliseconds since the Unix epoch, given by the caller (the clock is passed in), so
// tests control time. Processes sharing a PostgreSQL store must have synchronized clocks (leases
// are tens of seconds; ordinary NTP drift does not matter).
//
// Thread-safety: a JobStore is used by one thread at a time; open one per thread (ConnectJobStore is
// cheap) or share through a pool. Several JobStores, in one process or many, may use the same
// database at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace strata::jobs {

enum class JobState { kQueued, kRunning, kDone, kFailed, kCancelled };

// "queued", "running", "done", "failed", "cancelled".
const char* JobStateName(JobState state);

struct JobRequest {
  std::string tenant;  // the tenant parameter's canonical text
  std::string report;
  std::string format;                                       // "xlsx" or "csv"
  std::vector<std::pair<std::string, std::string>> params;  // every bound value, canonical text
  std::string dedupe_key;                                   // equal keys are the same request
  int max_attempts = 3;
};

struct Job {
  std::string id;   // 32 hex digits, random
  int64_t seq = 0;  // order of creation
  std::string tenant;
  std::string report;
  std::string format;
  std::vector<std::pair<std::string, std::string>> params;
  JobState state = JobState::kQueued;
  int attempt = 0;  // how many times it was claimed; the fencing token of the current lease
  int max_attempts = 3;
  std::string lease_owner;  // the worker holding the lease while running
  int64_t lease_until = 0;
  int64_t run_after = 0;  // not claimed before this (retry backoff)
  bool cancel_requested = false;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t created_at = 0;
  int64_t started_at = 0;   // of the current (or last) attempt; 0 when never started
  int64_t finished_at = 0;  // 0 while not finished
  int64_t expires_at = 0;   // when the file is deleted; 0 while not done
  std::string file;         // the finished file's name in the files folder; empty when none (or expired)
  bool expired = false;     // done, and its file was deleted
  std::string error;        // why it failed, or why its last attempt was retried
  // The report version its (last) attempt ran (watch/version.h); empty before it ran, or when the
  // pool runs without a watch.
  std::string version;
  bool fallback = false;  // the watch ran the last good version instead of the current one
};

struct ClaimOptions {
  std::string worker;  // the lease owner's name, for people ("host:pid/3")
  int64_t now = 0;
  std::chrono::milliseconds lease{30000};
  int tenant_limit = 1;
  int max_running = 1;
};

// How an attempt ended.
struct Outcome {
  enum class Kind {
    kDone,       // file holds the finished file; rows, bytes as written
    kRetry,      // a transient failure: queued again at run_after (error says why)
    kFailed,     // a permanent failure, or the last attempt failed
    kCancelled,  // a cancel request was honoured
    kReleased,   // the worker is shutting down: queued again at once, with one attempt more
  };
  Kind kind = Kind::kDone;
  std::string file;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t expires_at = 0;
  int64_t run_after = 0;
  std::string error;
};

struct LeaseState {
  bool held = false;              // false: the lease is lost; stop and publish nothing
  bool cancel_requested = false;  // someone asked to cancel this job
};

struct QueueCounts {
  int64_t queued = 0;
  int64_t running = 0;
  int64_t done = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
};

// What earlier finished runs of a report for a tenant looked like: for ETAs.
struct RunHistory {
  int runs = 0;  // 0: nothing to go by
  int64_t median_rows = 0;
  double median_seconds = 0;
};

// What Cancel() did.
struct CancelResult {
  bool requested = false;  // this call cancelled the job or asked its worker to
  std::optional<Job> job;  // as it is now
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  struct Enqueued {
    Job job;
    bool deduplicated = false;  // an identical queued or running job was returned
  };
  virtual Result<Enqueued> Enqueue(const JobRequest& request, int64_t now) = 0;
  virtual Result<std::optional<Job>> Get(const std::string& id) = 0;
  // Newest first; every tenant's when tenant is empty.
  virtual Result<std::vector<Job>> List(const std::string& tenant, int limit) = 0;

  // The next job to run under the limits, now leased to options.worker; nullopt when none may run.
  virtual Result<std::optional<Job>> Claim(const ClaimOptions& options) = 0;
  // Renews the lease to lease_until and records progress, if attempt still holds the job.
  virtual Result<LeaseState> Heartbeat(const std::string& id, int attempt, int64_t rows, int64_t bytes,
                                       int64_t lease_until) = 0;
  // Adds database time (ms) to the tenant's account, which orders the claims.
  virtual Status Charge(const std::string& tenant, int64_t db_ms) = 0;
  // Records which report version the attempt runs (and whether it is the watch's fallback), if
  // attempt still holds the job.
  virtual Status SetVersion(const std::string& id, int attempt, const std::string& version, bool fallback) = 0;
  // Ends the attempt. Returns false, changing nothing, when attempt no longer holds the job.
  virtual Result<bool> Finish(const std::string& id, int attempt, const Outcome& outcome, int64_t now) = 0;
  // A queued job becomes cancelled at once; a running one gets cancel_requested (its worker sees it
  // at its next heartbeat). Says whether this call asked (not when the job had ended or its cancel
  // was already asked for) and returns the job as it is now (nullopt when there is no such job).
  virtual Result<CancelResult> Cancel(const std::string& id, int64_t now) = 0;

  // Marks done jobs whose expires_at has passed as expired and returns them: the caller deletes
  // their files (after this commit, nobody is handed them any more).
  virtual Result<std::vector<Job>> Expire(int64_t now) = 0;
  // The files of done, unexpired jobs: any other file in the folder is an orphan.
  virtual Result<std::vector<std::string>> LiveFiles() = 0;

  virtual Result<QueueCounts> Counts() = 0;
  virtual Result<RunHistory> History(const std::string& tenant, const std::string& report) = 0;

  // Blocks until another process may have queued or freed work, or until timeout. PostgreSQL
  // listens for the notifications Enqueue and Finish send; SQLite just waits (in one process the
  // caller wakes its own workers).
  virtual void WaitForWork(std::chrono::milliseconds timeout) = 0;
  // For /healthz: a round trip to the database.
  virtual Status Ping() = 0;
  virtual const std::string& description() const = 0;
};

// Opens the job store at url, "sqlite:path" or a PostgreSQL URL/conninfo, and creates (or, for
// PostgreSQL's functions, updates) its tables when missing. Fails with kDatabase naming the store,
// kUsage for an unknown scheme. A process does this once.
Result<std::unique_ptr<JobStore>> OpenJobStore(const std::string& url);
// Another connection to a store that OpenJobStore has set up: for each further thread.
Result<std::unique_ptr<JobStore>> ConnectJobStore(const std::string& url);

// The system clock in milliseconds since the Unix epoch: the stores' time unless a test passes its own.
int64_t NowMillis();

// A fresh random job id: 32 lower-case hex digits.
std::string NewJobId();

}  // namespace strata::jobs
