#include "jobs/worker_pool.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "export/exporter.h"
#include "jobs/job_files.h"
#include "report/binding.h"
#include "sink/output.h"
#include "sink/sink.h"

namespace strata::jobs {

namespace fs = std::filesystem;

namespace {

// Seconds with millisecond precision ("1.234"), for the log.
std::string FormatSeconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", seconds);
  return text;
}

}  // namespace

void WorkerPool::Running::Stop(StopReason why) {
  std::lock_guard lock(mu);
  if (reason == StopReason::kNone) reason = why;
  if (source != nullptr) source->Cancel();
}

WorkerPool::WorkerPool(const Project& project, WorkerOptions options, RunMetrics* metrics)
    : project_(project),
      options_(std::move(options)),
      metrics_(metrics),
      limit_(std::min(options_.min_running, options_.max_running), options_.max_running) {}

WorkerPool::~WorkerPool() {
  Stop();
}

int64_t WorkerPool::Now() const {
  return options_.now_ms();
}

void WorkerPool::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void WorkerPool::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, d, [&] { return closing_; });
}

bool WorkerPool::closing() {
  std::lock_guard lock(mu_);
  return closing_;
}

Status WorkerPool::Start() {
  // One store per worker, one for the heartbeats, one to listen, one for the janitor.
  const int needed = options_.workers + 3;
  for (int k = 0; k < needed; ++k) {
    auto store = options_.connect(options_.jobs_url);
    if (!store.ok()) return store.status();
    stores_.push_back(std::move(*store));
  }
  for (int k = 0; k < options_.workers; ++k) {
    threads_.emplace_back([this, k] { WorkerLoop(k, stores_[static_cast<size_t>(k)].get()); });
  }
  const auto w = static_cast<size_t>(options_.workers);
  threads_.emplace_back([this, w] { HeartbeatLoop(stores_[w].get()); });
  threads_.emplace_back([this, w] { ListenLoop(stores_[w + 1].get()); });
  threads_.emplace_back([this, w] { JanitorLoop(stores_[w + 2].get()); });
  return Status::Ok();
}

void WorkerPool::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  wake_.notify_all();
}

void WorkerPool::CancelLocal(const std::string& id) {
  std::shared_ptr<Running> run;
  {
    std::lock_guard lock(mu_);
    auto found = running_.find(id);
    if (found != running_.end()) run = found->second;
  }
  if (run) run->Stop(StopReason::kCancel);
}

void WorkerPool::Stop() {
  if (!stopping_.exchange(true)) {
    std::vector<std::shared_ptr<Running>> runs;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, run] : running_) runs.push_back(run);
    }
    for (auto& run : runs) run->Stop(StopReason::kShutdown);
    wake_.notify_all();
  }
  // The workers first: until their jobs are released, the heartbeats must go on renewing them.
  for (size_t k = 0; k < threads_.size() && k < static_cast<size_t>(options_.workers); ++k) {
    if (threads_[k].joinable()) threads_[k].join();
  }
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WorkerPool::WorkerLoop(int index, JobStore* store) {
  const std::string worker = options_.name + "/" + std::to_string(index + 1);
  while (!stopping_) {
    uint64_t seen;
    {
      std::lock_guard lock(mu_);
      seen = wakes_;
    }
    ClaimOptions claim;
    claim.worker = worker;
    claim.now = Now();
    claim.lease = options_.lease;
    claim.tenant_limit = options_.tenant_limit;
    claim.max_running = limit();
    auto job = store->Claim(claim);
    if (!job.ok()) {
      Log("cannot take a job: " + job.status().message());
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, options_.poll, [&] { return stopping_.load(); });
      continue;
    }
    if (!*job) {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, options_.poll, [&] { return stopping_ || wakes_ != seen; });
      continue;
    }
    RunJob(**job, *store, worker);
    Wake();  // a slot is free: another worker may now take this tenant's next job
  }
}

void WorkerPool::RunJob(const Job& job, JobStore& store, const std::string& worker) {
  auto run = std::make_shared<Running>();
  run->id = job.id;
  run->attempt = job.attempt;
  {
    std::lock_guard lock(mu_);
    running_[job.id] = run;
  }
  // Stop() may have looked at running_ while this job was being claimed: it sets stopping_ before
  // it looks, so checking after registering catches it.
  if (stopping_) run->Stop(StopReason::kShutdown);
  const auto started = std::chrono::steady_clock::now();
  const std::string what = "job " + job.id + " (" + job.report + ", tenant " + job.tenant + ", attempt " +
                           std::to_string(job.attempt) + "/" + std::to_string(job.max_attempts) + ")";
  Log(what + " started on " + worker);

  const Attempt attempt = RunAttempt(job, *run, store);
  {
    std::lock_guard lock(mu_);
    running_.erase(job.id);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  switch (Record(job, store, attempt.outcome, what)) {
    case Recorded::kHeld:
      Report(job, attempt.outcome, seconds, what);
      Account(job, attempt, store);
      break;
    case Recorded::kRefused:
      if (!attempt.written.empty()) {
        std::error_code ec;
        fs::remove(attempt.written, ec);
      }
      Log(what + ": its lease was lost; another worker owns it, nothing published");
      break;
    case Recorded::kUnknown:
      // Its file, if any, stays: it is the job's if the end was recorded after all; if not, the
      // job runs again once its lease expires and the janitor removes this attempt's file.
      Log(what + ": cannot record how it ended (the job store does not answer); it runs again if its lease expires");
      break;
  }
}

// Charges the attempt's database time to its tenant (the claims' order) and, for a finished
// export, tells the adaptive limit how long the database took.
void WorkerPool::Account(const Job& job, const Attempt& attempt, JobStore& store) {
  if (attempt.db_seconds <= 0) return;
  const Status charged = store.Charge(job.tenant, static_cast<int64_t>(std::llround(attempt.db_seconds * 1000)));
  if (!charged.ok()) Log("job " + job.id + ": cannot charge its database time: " + charged.message());
  if (!attempt.finished || !options_.adaptive) return;
  // Per version: a version that regressed for a tenant has no baseline of its own there, so it
  // does not read as the database slowing down (that is the watch's business).
  const std::string changed = limit_.Observe(job.report + "@" + attempt.choice.version, job.tenant, attempt.db_seconds);
  if (!changed.empty()) Log(changed);
}

// The delay before retry number `attempt` (1-based): base, 2×base, 4×base, ... at most 5 minutes.
int64_t WorkerPool::Backoff(int attempt) const {
  int64_t delay = options_.retry_backoff.count();
  for (int k = 1; k < attempt && delay < 300000; ++k) delay *= 2;
  return std::min<int64_t>(delay, 300000);
}

// An error's outcome: a retry later when it may pass and attempts are left, else a failure.
Outcome WorkerPool::ErrorOutcome(const Job& job, const Status& s) const {
  Outcome outcome;
  outcome.error = s.message();
  // The files folder's failures (gone, full) may heal too: the folder is made again next time.
  const bool transient = s.transient() || s.code() == Status::Code::kIo;
  if (transient && job.attempt < job.max_attempts) {
    outcome.kind = Outcome::Kind::kRetry;
    outcome.run_after = Now() + Backoff(job.attempt);
  } else {
    outcome.kind = Outcome::Kind::kFailed;
    if (transient) outcome.error = "failed after " + std::to_string(job.attempt) + " attempts: " + s.message();
  }
  return outcome;
}

// The version the attempt runs: the project's report, or the one the watch chose (recorded on
// the job, for its JSON).
Result<RunChoice> WorkerPool::Choose(const Job& job, JobStore& store) {
  const ReportSpec* report = project_.FindReport(job.report);
  if (report == nullptr)
    return Status::Config("the report '" + job.report + "' is no longer in " + project_.config_path);
  // Not owned: the project outlives the pool.
  std::shared_ptr<const ReportSpec> current(report, [](const ReportSpec*) {});
  if (options_.observer == nullptr) return RunChoice{current, "", false};
  RunChoice choice = options_.observer->Choose(job, current);
  if (choice.version.empty()) return choice;
  // The job's record must say which version ran; a store that cannot say so now (restarting,
  // out of connections) costs an attempt, never the export.
  const Status recorded = store.SetVersion(job.id, job.attempt, choice.version, choice.fallback);
  if (!recorded.ok()) return Status::TransientDatabase("cannot record the version on the job: " + recorded.message());
  return choice;
}

// The report bound to the job's values. A fallback version may declare fewer parameters than the
// request, which was checked against the current version, carries: those are left out.
Result<Query> WorkerPool::QueryOf(const Job& job, const ReportSpec& report, bool fallback) const {
  std::vector<ParamArg> given;
  for (const auto& [name, value] : job.params) {
    if (fallback && report.FindParam(name) == nullptr) continue;
    given.push_back(ParamArg{name, std::nullopt, value});
  }
  auto values = BindReportParams(report, given);
  if (!values.ok()) return values.status();
  return ReportQuery(project_, report, std::move(*values));
}

// What a failed run tells the watch: a statement timeout or the database's refusal of the query
// does; a transient failure, a cancel or a shutdown does not (nullopt).
std::optional<RunRecord> WorkerPool::RecordOf(const Status& error, double seconds) {
  RunRecord record;
  record.db_seconds = seconds;
  record.error = error.message();
  if (error.code() == Status::Code::kTimeout) {
    record.kind = RunRecord::Kind::kTimeout;
    return record;
  }
  if (error.code() == Status::Code::kDatabase && !error.transient()) {
    record.kind = RunRecord::Kind::kError;
    return record;
  }
  return std::nullopt;
}

// Tells the watch what the run did, while its connection is still open.
void WorkerPool::Observe(const Job& job, const Attempt& attempt, const std::optional<RunRecord>& record, Source& source,
                         const Query& query) {
  if (!record || options_.observer == nullptr) return;
  options_.observer->Ran(job, attempt.choice, *record, RunContext{&source, &query});
}

// Binds the job's report, opens the database and exports to the attempt's file; the outcome says
// how it ended (done, retry, failed, cancelled, released) and `written` names a committed file.
WorkerPool::Attempt WorkerPool::RunAttempt(const Job& job, Running& run, JobStore& store) {
  Attempt attempt;
  auto choice = Choose(job, store);
  if (!choice.ok()) {
    attempt.outcome = ErrorOutcome(job, choice.status());
    return attempt;
  }
  attempt.choice = std::move(*choice);
  const ReportSpec& report = *attempt.choice.report;
  auto query = QueryOf(job, report, attempt.choice.fallback);
  if (!query.ok()) {
    attempt.outcome = ErrorOutcome(job, query.status());
    return attempt;
  }
  auto source = options_.open_source(options_.database_url);
  if (!source.ok()) {
    attempt.outcome = ErrorOutcome(job, source.status());
    return attempt;
  }
  {
    std::lock_guard lock(run.mu);
    run.source = source->get();
    if (run.reason != StopReason::kNone) run.source->Cancel();
  }
  // Stop() reaches the connection until the attempt returns, the watch's work on it included.
  struct Detach {
    Running& run;
    ~Detach() {
      std::lock_guard lock(run.mu);
      run.source = nullptr;
    }
  } detach{run};
  auto format = FormatFromName(job.format);
  if (!format.ok()) {
    attempt.outcome = ErrorOutcome(job, format.status());
    return attempt;
  }
  const std::string name = JobFile::Name(job.id, job.attempt, FormatName(*format));
  const auto started = std::chrono::steady_clock::now();
  Result<exporting::ExportResult> result = ExportToFile(report, **source, *query, *format, name, run);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (result.ok()) {
    attempt.written = (fs::path(options_.files) / name).string();
    attempt.outcome.kind = Outcome::Kind::kDone;
    attempt.outcome.file = name;
    attempt.outcome.rows = static_cast<int64_t>(result->rows);
    attempt.outcome.bytes = static_cast<int64_t>(result->bytes);
    attempt.outcome.expires_at = Now() + options_.keep.count();
    attempt.db_seconds = result->db_seconds;
    attempt.finished = true;
    Observe(job, attempt, RunRecord{RunRecord::Kind::kDone, attempt.outcome.rows, result->db_seconds, seconds, ""},
            **source, *query);
    return attempt;
  }
  std::optional<Outcome> stopped = StoppedOutcome(run, result.status());
  attempt.outcome = stopped ? *stopped : ErrorOutcome(job, result.status());
  if (!stopped) {
    const std::optional<RunRecord> record = RecordOf(result.status(), seconds);
    if (record) attempt.db_seconds = seconds;
    Observe(job, attempt, record, **source, *query);
  }
  attempt.outcome.rows = run.rows;
  attempt.outcome.bytes = run.bytes;
  return attempt;
}

// The export into <files>/<name>, through its temporary name, committed when it succeeded.
Result<exporting::ExportResult> WorkerPool::ExportToFile(const ReportSpec& report, Source& source, const Query& query,
                                                         Format format, const std::string& name, Running& run) {
  STRATA_RETURN_IF_ERROR(EnsureFilesFolder());
  auto out = FileOutput::Open((fs::path(options_.files) / name).string());
  if (!out.ok()) return out.status();
  SinkOptions sink_options;
  sink_options.format = format;
  sink_options.xlsx.sheet_name = report.name;
  auto sink = MakeSink(sink_options, out->get());
  exporting::ExportOptions export_options;
  export_options.execute.statement_timeout = report.statement_timeout.value_or(project_.statement_timeout);
  export_options.execute.prepared = report.execution == Execution::kPrepared;
  export_options.on_progress = [&run](const exporting::Progress& p) {
    run.rows = static_cast<int64_t>(p.rows);
    run.bytes = static_cast<int64_t>(p.bytes);
  };
  auto result = exporting::RunExport(source, query, *sink, **out, export_options);
  Status committed = result.ok() ? (*out)->Commit() : result.status();
  if (!committed.ok()) {
    (*out)->Discard();
    return committed;
  }
  return result;
}

// The outcome of an export that was stopped (a cancel, a lost lease, a shutdown); nullopt when
// nothing stopped it and its error is its own.
std::optional<Outcome> WorkerPool::StoppedOutcome(Running& run, const Status& error) {
  StopReason reason;
  {
    std::lock_guard lock(run.mu);
    reason = run.reason;
  }
  if (error.code() != Status::Code::kCancelled && reason == StopReason::kNone) return std::nullopt;
  Outcome outcome;
  switch (reason) {
    case StopReason::kShutdown:
      outcome.kind = Outcome::Kind::kReleased;
      outcome.error = "the worker stopped; queued again";
      break;
    case StopReason::kLeaseLost:
      outcome.kind = Outcome::Kind::kFailed;  // refused by the fence: the job is another worker's now
      outcome.error = "lost its lease";
      break;
    default:
      outcome.kind = Outcome::Kind::kCancelled;
      outcome.error = "cancelled";
      break;
  }
  return outcome;
}

// Finish() in the store, tried for about a lease when the store does not answer (its server
// restarting). A refusal is checked against the job: an earlier try may have committed although
// its answer was lost (the connection broke during the COMMIT), and then the end is recorded.
WorkerPool::Recorded WorkerPool::Record(const Job& job, JobStore& store, const Outcome& outcome,
                                        const std::string& what) {
  Result<bool> held = Status::Internal("not finished");
  for (int tries = 0; tries < 10; ++tries) {
    held = store.Finish(job.id, job.attempt, outcome, Now());
    if (held.ok()) break;
    Log(what + ": cannot record its end yet: " + held.status().message());
    std::this_thread::sleep_for(options_.lease / 10);  // not Sleep(): a shutdown must not skip this
  }
  if (!held.ok()) return Recorded::kUnknown;
  if (*held) return Recorded::kHeld;
  Result<std::optional<Job>> now = Status::Internal("not read");
  for (int tries = 0; tries < 10; ++tries) {
    now = store.Get(job.id);
    if (now.ok()) break;
    std::this_thread::sleep_for(options_.lease / 10);
  }
  if (!now.ok()) return Recorded::kUnknown;
  return *now && (*now)->attempt == job.attempt && Shows(**now, outcome) ? Recorded::kHeld : Recorded::kRefused;
}

// Whether the job is as Finish(outcome) leaves it (a cancel asked for meanwhile turns a retry or a
// release into a cancel).
bool WorkerPool::Shows(const Job& job, const Outcome& outcome) {
  switch (outcome.kind) {
    case Outcome::Kind::kDone: return job.state == JobState::kDone && job.file == outcome.file;
    case Outcome::Kind::kFailed: return job.state == JobState::kFailed;
    case Outcome::Kind::kCancelled: return job.state == JobState::kCancelled;
    case Outcome::Kind::kRetry:
    case Outcome::Kind::kReleased: return job.state == JobState::kQueued || job.state == JobState::kCancelled;
  }
  return false;
}

// The metrics and the log line of a recorded end.
void WorkerPool::Report(const Job& job, const Outcome& outcome, double seconds, const std::string& what) {
  switch (outcome.kind) {
    case Outcome::Kind::kDone:
      metrics_->Finished(job.report, seconds, static_cast<uint64_t>(outcome.rows),
                         static_cast<uint64_t>(outcome.bytes));
      Log(what + " done: " + std::to_string(outcome.rows) + " rows in " + FormatSeconds(seconds) + " s");
      break;
    case Outcome::Kind::kRetry:
      metrics_->Retried(job.report);
      Log(what + " will be retried: " + outcome.error);
      break;
    case Outcome::Kind::kFailed:
      metrics_->Failed(job.report);
      Log(what + " failed: " + outcome.error);
      break;
    case Outcome::Kind::kCancelled:
      metrics_->Cancelled(job.report);
      Log(what + " cancelled");
      break;
    case Outcome::Kind::kReleased: Log(what + " released for another worker"); break;
  }
}

void WorkerPool::HeartbeatLoop(JobStore* store) {
  while (!closing()) {
    Sleep(options_.heartbeat);
    std::vector<std::shared_ptr<Running>> runs;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, run] : running_) runs.push_back(run);
    }
    for (auto& run : runs) {
      auto lease = store->Heartbeat(run->id, run->attempt, run->rows, run->bytes, Now() + options_.lease.count());
      if (!lease.ok()) {
        Log("job " + run->id + ": cannot renew its lease: " + lease.status().message());
        continue;
      }
      if (!lease->held) {
        Log("job " + run->id + ": lease lost; stopping its query");
        run->Stop(StopReason::kLeaseLost);
      } else if (lease->cancel_requested) {
        run->Stop(StopReason::kCancel);
      }
    }
  }
}

void WorkerPool::ListenLoop(JobStore* store) {
  while (!closing()) {
    store->WaitForWork(std::min(options_.poll, std::chrono::milliseconds(1000)));
    Wake();
  }
}

void WorkerPool::JanitorLoop(JobStore* store) {
  while (!closing()) {
    Sweep(*store);
    Sleep(options_.sweep);
  }
}

void WorkerPool::Sweep(JobStore& store) {
  if (Status folder = EnsureFilesFolder(); !folder.ok()) Log(folder.message());
  auto expired = store.Expire(Now());
  if (!expired.ok()) {
    Log("cannot expire files: " + expired.status().message());
    return;
  }
  for (const Job& job : *expired) {
    std::error_code ec;
    fs::remove(fs::path(options_.files) / job.file, ec);
  }
  SweepLeftovers(store);
}

// What killed, refused or replaced attempts left in the folder: files of this pool's naming that
// their job, as the store has it now, no longer wants (JobFile::Wanted). No age is needed: a file
// an attempt may still write or publish is wanted until that attempt has ended.
void WorkerPool::SweepLeftovers(JobStore& store) {
  // The done jobs' files, in one query: only the other names need their job read.
  auto live = store.LiveFiles();
  if (!live.ok()) return;
  const std::set<std::string> published(live->begin(), live->end());
  std::error_code ec;
  fs::directory_iterator entries(options_.files, ec);
  for (; !ec && entries != fs::directory_iterator(); entries.increment(ec)) {
    const std::string name = entries->path().filename().string();
    const std::optional<JobFile> file = JobFile::Parse(name);
    if (!file || published.count(name) != 0) continue;
    std::error_code kind;
    if (!entries->is_regular_file(kind)) continue;
    auto job = store.Get(file->id);
    if (!job.ok()) return;
    if (file->Wanted(*job)) continue;
    std::error_code removed;
    if (fs::remove(entries->path(), removed)) Log("removed the left-over file " + name);
  }
}

Status WorkerPool::EnsureFilesFolder() {
  std::error_code ec;
  const fs::path folder(options_.files);
  if (!fs::is_directory(folder, ec)) {
    if (fs::exists(folder, ec)) return Status::Io("the files folder " + options_.files + " is not a directory");
    fs::create_directories(folder, ec);
    if (ec) return Status::Io("the files folder " + options_.files + " is missing and cannot be made: " + ec.message());
    Log("the files folder " + options_.files + " was missing: made it again");
  }
  if (access(options_.files.c_str(), W_OK | X_OK) != 0) {
    return Status::Io("the files folder " + options_.files + " cannot be written: " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace strata::jobs
