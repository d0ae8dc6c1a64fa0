// WorkerPool: the threads of one `strata serve` process that take jobs from the JobStore and run
// each as an export (the same exporting::RunExport as `strata export`; no second implementation).
//
// Per job: bind the stored parameters to the report, open the database, export to
// "<files>/<job id>-<attempt>.<ext>" (through a temporary name), then Finish(kDone) with that name.
// A heartbeat thread renews the leases of the jobs running here about once a second, records their
// progress, and cancels the database query of a job whose lease was lost or that someone asked to
// cancel. A finished file whose attempt lost its lease is deleted, never published.
//
// Failures: a transient database error (Status::transient(): refused, lost, restarting, out of
// connections, a deadlock, a busy SQLite file) is retried with exponential backoff until the job's
// attempts are used up; a broken report (syntax, a missing column, a privilege), a statement
// timeout, a binding error or a report that no longer exists fail at once, with the database's
// message. Stop() cancels the running queries and puts their jobs back in the queue.
//
// A janitor thread deletes the files of expired jobs, and files in the folder that their job no
// longer wants (left by a killed, refused or replaced attempt: JobFile::Wanted). The files folder
// is made again whenever it is found missing (before each export, by the janitor, by /healthz).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "export/exporter.h"
#include "jobs/adaptive_limit.h"
#include "jobs/job_store.h"
#include "jobs/run_metrics.h"
#include "report/project.h"
#include "sink/sink.h"
#include "source/source.h"

namespace strata::jobs {

// Which version of a report an attempt runs, as the watch (watch/) chose it.
struct RunChoice {
  std::shared_ptr<const ReportSpec> report;  // what runs: the project's report, or a good version of it
  std::string version;                       // its version id; empty when nobody watches
  bool fallback = false;                     // the last good version instead of the current one
};

// What an attempt did, for the watch: only the runs whose time says something about the version
// (done, stopped by the statement timeout, or refused by the database for a reason of its own).
struct RunRecord {
  enum class Kind { kDone, kTimeout, kError };
  Kind kind = Kind::kDone;
  int64_t rows = 0;
  double db_seconds = 0;    // waiting for the database (ExportResult::db_seconds); the wall time when it failed
  double wall_seconds = 0;  // the whole attempt
  std::string error;        // the database's message when it failed
};

// What the observer may use while it hears of a run: the run's database connection (still open,
// idle: for a cheap EXPLAIN or a statistics query) and the query as it ran.
struct RunContext {
  Source* source = nullptr;
  const Query* query = nullptr;
};

// The watch, as the pool sees it: asked before each attempt which version to run, told after it
// what the run did (before the job's end is recorded, so the next export of the tenant sees the
// watch's decision). Called from the worker threads at once: implementations are thread-safe.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual RunChoice Choose(const Job& job, const std::shared_ptr<const ReportSpec>& current) = 0;
  virtual void Ran(const Job& job, const RunChoice& choice, const RunRecord& record, const RunContext& context) = 0;
};

struct WorkerOptions {
  std::string jobs_url;      // the JobStore
  std::string database_url;  // where the reports run
  std::string files;         // the folder of finished files (made again when it goes missing)
  std::string name;          // this process, for lease owners ("host:pid")
  int workers = 2;           // threads in this process
  int max_running = 2;       // jobs running at once across every process: the cap on database queries
  int tenant_limit = 1;      // jobs running at once per tenant, across every process
  // Lower max_running (down to min_running) while the database is slow, raise it back when it is
  // not (adaptive_limit.h); false: max_running always.
  bool adaptive = true;
  int min_running = 1;
  std::chrono::milliseconds lease{30000};
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds poll{1000};           // how often idle workers look for work anyway
  std::chrono::milliseconds retry_backoff{2000};  // the first retry's delay; doubled each time, at most 5 min
  std::chrono::milliseconds keep = std::chrono::hours(24);
  std::chrono::milliseconds sweep{60000};       // how often the janitor runs
  std::function<int64_t()> now_ms = NowMillis;  // the clock (tests pass their own)
  std::function<void(const std::string&)> log;  // one line per event; nothing when empty
  // How each thread gets its connection to the store (tests wrap it to inject faults).
  std::function<Result<std::unique_ptr<JobStore>>(const std::string&)> connect = ConnectJobStore;
  // How an attempt opens the reports' database (tests wrap it to inject faults).
  std::function<Result<std::unique_ptr<Source>>(const std::string&)> open_source = OpenSource;
  RunObserver* observer = nullptr;  // the watch; none: every attempt runs the project's report
};

class WorkerPool {
 public:
  // REQUIRES: project and metrics outlive the pool.
  WorkerPool(const Project& project, WorkerOptions options, RunMetrics* metrics);
  ~WorkerPool();  // Stop()

  // The watch that chooses each attempt's version and hears how it went. REQUIRES: before Start().
  void SetObserver(RunObserver* observer) { options_.observer = observer; }
  // Connects a store per thread (REQUIRES: OpenJobStore ran once on options.jobs_url) and starts
  // the threads.
  Status Start();
  // Work was queued or freed in this process: wake an idle worker now.
  void Wake();
  // If job id runs here, cancels its database query (the store already says cancel_requested).
  void CancelLocal(const std::string& id);
  // Cancels the running queries, puts their jobs back in the queue, joins every thread.
  void Stop();
  // Makes the files folder if it is missing; an error (kIo) says why it cannot be made or written.
  Status EnsureFilesFolder();
  // The exports this process lets run at once now, and the latency ratio behind it.
  int limit() const { return options_.adaptive ? limit_.limit() : options_.max_running; }
  double pressure() const { return limit_.pressure(); }

 private:
  enum class StopReason { kNone, kCancel, kLeaseLost, kShutdown };
  struct Running {
    std::string id;
    int attempt = 0;
    std::atomic<int64_t> rows{0};
    std::atomic<int64_t> bytes{0};
    std::mutex mu;  // guards source and reason
    Source* source = nullptr;
    StopReason reason = StopReason::kNone;
    void Stop(StopReason why);
  };

  // What an attempt did, and the file it committed (to delete if the store refuses its end).
  struct Attempt {
    Outcome outcome;
    std::string written;
    RunChoice choice;       // the version it ran
    double db_seconds = 0;  // the database time it used (all of it, for a timeout): charged to the tenant
    bool finished = false;  // it ran to its end: its time is a latency sample for the adaptive limit
  };
  enum class Recorded { kHeld, kRefused, kUnknown };  // the store took the end, refused it, or did not answer

  void WorkerLoop(int index, JobStore* store);
  void RunJob(const Job& job, JobStore& store, const std::string& worker);
  Attempt RunAttempt(const Job& job, Running& run, JobStore& store);
  Result<RunChoice> Choose(const Job& job, JobStore& store);
  Result<Query> QueryOf(const Job& job, const ReportSpec& report, bool fallback) const;
  static std::optional<RunRecord> RecordOf(const Status& error, double seconds);
  void Observe(const Job& job, const Attempt& attempt, const std::optional<RunRecord>& record, Source& source,
               const Query& query);
  Result<exporting::ExportResult> ExportToFile(const ReportSpec& report, Source& source, const Query& query,
                                               Format format, const std::string& name, Running& run);
  Outcome ErrorOutcome(const Job& job, const Status& s) const;
  static std::optional<Outcome> StoppedOutcome(Running& run, const Status& error);
  int64_t Backoff(int attempt) const;
  Recorded Record(const Job& job, JobStore& store, const Outcome& outcome, const std::string& what);
  static bool Shows(const Job& job, const Outcome& outcome);
  void Report(const Job& job, const Outcome& outcome, double seconds, const std::string& what);
  void Account(const Job& job, const Attempt& attempt, JobStore& store);
  void HeartbeatLoop(JobStore* store);
  void ListenLoop(JobStore* store);
  void JanitorLoop(JobStore* store);
  void Sweep(JobStore& store);
  void SweepLeftovers(JobStore& store);
  int64_t Now() const;
  void Log(const std::string& line) const;
  void Sleep(std::chrono::milliseconds d);  // returns early when closing
  bool closing();

  const Project& project_;
  WorkerOptions options_;
  RunMetrics* metrics_;
  AdaptiveLimit limit_;
  std::vector<std::unique_ptr<JobStore>> stores_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};  // workers: take no more jobs, release the running ones
  bool closing_ = false;               // guarded by mu_: the heartbeat, listen and janitor threads end
  std::mutex mu_;
  std::condition_variable wake_;
  uint64_t wakes_ = 0;                                       // guarded by mu_
  std::map<std::string, std::shared_ptr<Running>> running_;  // guarded by mu_
};

}  // namespace strata::jobs
