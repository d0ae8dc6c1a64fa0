// SqlJobStore: the queue's logic (job_store.h), written once for SQLite and PostgreSQL over StoreDb.
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <random>

#include "jobs/job_store.h"
#include "jobs/store_db.h"
#include "source/source.h"

namespace strata::jobs {

namespace {

constexpr const char* kJobColumns =
    "id, seq, tenant, report, format, params, state, attempt, max_attempts, lease_owner, lease_until, run_after, "
    "cancel_requested, row_count, byte_count, created_at, started_at, finished_at, expires_at, file, expired, error, "
    "version, fallback";

int64_t Int(const std::optional<std::string>& text) {
  int64_t n = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), n);
  return n;
}

std::optional<JobState> StateFromName(std::string_view name) {
  for (JobState s : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed, JobState::kCancelled}) {
    if (name == JobStateName(s)) return s;
  }
  return std::nullopt;
}

std::string ParamsJson(const std::vector<std::pair<std::string, std::string>>& params) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto& [name, value] : params) object[name] = value;
  return object.dump();
}

std::vector<std::pair<std::string, std::string>> ParamsFromJson(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> params;
  auto object = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return params;
  for (const auto& [name, value] : object.items()) {
    params.emplace_back(name, value.is_string() ? value.get<std::string>() : value.dump());
  }
  return params;
}

Job JobFromRow(const SqlRow& r) {
  Job job;
  job.id = r[0].value_or("");
  job.seq = Int(r[1]);
  job.tenant = r[2].value_or("");
  job.report = r[3].value_or("");
  job.format = r[4].value_or("");
  job.params = ParamsFromJson(r[5].value_or("{}"));
  job.state = StateFromName(r[6].value_or("")).value_or(JobState::kFailed);
  job.attempt = static_cast<int>(Int(r[7]));
  job.max_attempts = static_cast<int>(Int(r[8]));
  job.lease_owner = r[9].value_or("");
  job.lease_until = Int(r[10]);
  job.run_after = Int(r[11]);
  job.cancel_requested = Int(r[12]) != 0;
  job.rows = Int(r[13]);
  job.bytes = Int(r[14]);
  job.created_at = Int(r[15]);
  job.started_at = Int(r[16]);
  job.finished_at = Int(r[17]);
  job.expires_at = Int(r[18]);
  job.file = r[19].value_or("");
  job.expired = Int(r[20]) != 0;
  job.error = r[21].value_or("");
  job.version = r[22].value_or("");
  job.fallback = Int(r[23]) != 0;
  return job;
}

// Finish's arguments, in FinishSql's order.
std::vector<SqlArg> FinishArgs(const std::string& id, int attempt, const Outcome& out, int64_t now) {
  static const char* kKinds[] = {"done", "retry", "failed", "cancelled", "released"};
  return {id,
          int64_t{attempt},
          std::string(kKinds[static_cast<int>(out.kind)]),
          out.file,
          out.rows,
          out.bytes,
          now,
          out.expires_at,
          out.run_after,
          out.error.empty() ? SqlArg(nullptr) : SqlArg(out.error)};
}

// Runs body inside a write transaction; rolls back when it fails.
template <typename T, typename Body>
Result<T> InTransaction(StoreDb& db, Body body, bool claim = false) {
  Status begun = claim ? db.BeginClaim() : db.Begin();
  if (!begun.ok()) return begun;
  Result<T> result = body();
  if (!result.ok()) {
    db.Rollback();
    return result;
  }
  Status committed = db.Commit();
  if (!committed.ok()) {
    db.Rollback();
    return committed;
  }
  return result;
}

class SqlJobStore : public JobStore {
 public:
  explicit SqlJobStore(std::unique_ptr<StoreDb> db) : db_(std::move(db)) {}

  Result<Enqueued> Enqueue(const JobRequest& request, int64_t now) override {
    // An identical active job may finish between the INSERT that conflicts with it and the SELECT
    // that looks for it: then insert again.
    for (int tries = 0; tries < 5; ++tries) {
      auto done = InTransaction<std::optional<Enqueued>>(*db_, [&]() -> Result<std::optional<Enqueued>> {
        const std::string id = NewJobId();
        auto inserted = db_->Exec(
            "INSERT INTO strata_jobs (id, tenant, report, format, params, dedupe_key, state, max_attempts, "
            "created_at, run_after) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?) ON CONFLICT DO NOTHING",
            {id, request.tenant, request.report, request.format, ParamsJson(request.params), request.dedupe_key,
             int64_t{request.max_attempts}, now, now});
        if (!inserted.ok()) return inserted.status();
        std::vector<SqlRow> rows;
        if (*inserted == 1) {
          STRATA_RETURN_IF_ERROR(db_->Notify());
          auto got = db_->Exec(std::string("SELECT ") + kJobColumns + " FROM strata_jobs WHERE id = ?", {id}, &rows);
          if (!got.ok()) return got.status();
          if (rows.empty()) return Status::Database("job store " + db_->description() + ": the new job vanished");
          // A tenant that was idle starts at the least database time of the active tenants: idle
          // time is not credit to spend later on a burst.
          auto tenant = db_->Exec(
              "INSERT INTO strata_job_tenants (tenant, last_claim, first_seen, queued, vtime) VALUES (?, 0, ?, 1, "
              "(SELECT coalesce(min(vtime), 0) FROM strata_job_tenants WHERE queued > 0 OR running > 0)) "
              "ON CONFLICT (tenant) DO UPDATE SET queued = strata_job_tenants.queued + 1, vtime = CASE WHEN "
              "strata_job_tenants.queued = 0 AND strata_job_tenants.running = 0 AND excluded.vtime > "
              "strata_job_tenants.vtime THEN excluded.vtime ELSE strata_job_tenants.vtime END",
              {request.tenant, JobFromRow(rows[0]).seq});
          if (!tenant.ok()) return tenant.status();
        } else {
          auto got = db_->Exec(
              std::string("SELECT ") + kJobColumns +
                  " FROM strata_jobs WHERE dedupe_key = ? AND state IN ('queued', 'running') AND cancel_requested = 0",
              {request.dedupe_key}, &rows);
          if (!got.ok()) return got.status();
        }
        if (rows.empty()) return std::optional<Enqueued>();
        return std::optional<Enqueued>(Enqueued{JobFromRow(rows[0]), *inserted != 1});
      });
      if (!done.ok()) return done.status();
      if (*done) return std::move(**done);
    }
    return Status::Database("job store " + db_->description() + ": could not queue the export (it kept changing)");
  }

  Result<std::optional<Job>> Get(const std::string& id) override {
    std::vector<SqlRow> rows;
    auto got = db_->Exec(std::string("SELECT ") + kJobColumns + " FROM strata_jobs WHERE id = ?", {id}, &rows);
    if (!got.ok()) return got.status();
    if (rows.empty()) return std::optional<Job>();
    return std::optional<Job>(JobFromRow(rows[0]));
  }

  Result<std::vector<Job>> List(const std::string& tenant, int limit) override {
    std::vector<SqlRow> rows;
    Result<int64_t> got =
        tenant.empty() ? db_->Exec(std::string("SELECT ") + kJobColumns + " FROM strata_jobs ORDER BY seq DESC LIMIT ?",
                                   {int64_t{limit}}, &rows)
                       : db_->Exec(std::string("SELECT ") + kJobColumns +
                                       " FROM strata_jobs WHERE tenant = ? ORDER BY seq DESC LIMIT ?",
                                   {tenant, int64_t{limit}}, &rows);
    if (!got.ok()) return got.status();
    std::vector<Job> jobs;
    for (const SqlRow& r : rows) jobs.push_back(JobFromRow(r));
    return jobs;
  }

  Result<std::optional<Job>> Claim(const ClaimOptions& o) override {
    const bool reap = o.now - last_reap_ >= 500 || o.now < last_reap_;
    if (reap) last_reap_ = o.now;
    if (db_->HasClaimFunction()) {
      std::vector<SqlRow> rows;
      auto claimed = db_->Exec(std::string("SELECT ") + kJobColumns + " FROM strata_claim(?, ?, ?, ?, ?, ?)",
                               {o.worker, o.now, static_cast<int64_t>(o.lease.count()), int64_t{o.tenant_limit},
                                int64_t{o.max_running}, std::string(reap ? "true" : "false")},
                               &rows);
      if (!claimed.ok()) return claimed.status();
      if (rows.empty()) return std::optional<Job>();
      return std::optional<Job>(JobFromRow(rows[0]));
    }
    auto claimed = InTransaction<std::optional<Job>>(
        *db_,
        [&]() -> Result<std::optional<Job>> {
          // Take back the jobs of workers whose lease ran out (killed, stopped, cut off); a store
          // looks at most twice a second, which is soon enough for leases of seconds.
          if (reap) STRATA_RETURN_IF_ERROR(Reap(o.now));
          // The tenants with queued work and room under their limit, least recently served first,
          // while the global cap allows one more.
          // A tenant whose queued jobs all wait for a retry's backoff has none to give: try the next,
          // a page of them at a time, so that no number of such tenants starves the others.
          constexpr int64_t kPage = 16;
          for (int64_t offset = 0;; offset += kPage) {
            std::vector<SqlRow> tenants;
            auto found = db_->Exec(
                "SELECT tenant FROM strata_job_tenants WHERE queued > 0 AND running < ? AND (SELECT "
                "coalesce(sum(running), 0) FROM strata_job_tenants) < ? ORDER BY vtime, last_claim, first_seen, tenant "
                "LIMIT ? OFFSET ?",
                {int64_t{o.tenant_limit}, int64_t{o.max_running}, kPage, offset}, &tenants);
            if (!found.ok()) return found.status();
            for (const SqlRow& t : tenants) {
              const std::string tenant = t[0].value_or("");
              std::vector<SqlRow> rows;
              auto job = db_->Exec(std::string("SELECT id FROM strata_jobs WHERE tenant = ? AND state = 'queued' AND "
                                               "run_after <= ? ORDER BY seq LIMIT 1") +
                                       db_->ForUpdateSkipLocked(),
                                   {tenant, o.now}, &rows);
              if (!job.ok()) return job.status();
              if (rows.empty()) continue;
              const std::string id = rows[0][0].value_or("");
              rows.clear();
              auto updated = db_->Exec(std::string("UPDATE strata_jobs SET state = 'running', attempt = attempt + 1, "
                                                   "lease_owner = ?, lease_until = ?, started_at = ?, row_count = 0, "
                                                   "byte_count = 0 WHERE id = ? RETURNING ") +
                                           kJobColumns,
                                       {o.worker, o.now + o.lease.count(), o.now, id}, &rows);
              if (!updated.ok()) return updated.status();
              if (rows.empty()) continue;
              auto served = db_->Exec(
                  "UPDATE strata_job_tenants SET last_claim = ?, queued = queued - 1, running = running + 1 "
                  "WHERE tenant = ?",
                  {o.now, tenant});
              if (!served.ok()) return served.status();
              return std::optional<Job>(JobFromRow(rows[0]));
            }
            if (static_cast<int64_t>(tenants.size()) < kPage) return std::optional<Job>();
          }
        },
        /*claim=*/true);
    return claimed;
  }

  Result<LeaseState> Heartbeat(const std::string& id, int attempt, int64_t rows_so_far, int64_t bytes,
                               int64_t lease_until) override {
    std::vector<SqlRow> rows;
    auto updated = db_->Exec(
        "UPDATE strata_jobs SET lease_until = ?, row_count = ?, byte_count = ? WHERE id = ? AND attempt = ? AND "
        "state = 'running' RETURNING cancel_requested",
        {lease_until, rows_so_far, bytes, id, int64_t{attempt}}, &rows);
    if (!updated.ok()) return updated.status();
    if (rows.empty()) return LeaseState{false, false};
    return LeaseState{true, Int(rows[0][0]) != 0};
  }

  Status Charge(const std::string& tenant, int64_t db_ms) override {
    auto charged = db_->Exec("UPDATE strata_job_tenants SET vtime = vtime + ? WHERE tenant = ?", {db_ms, tenant});
    return charged.ok() ? Status::Ok() : charged.status();
  }

  Status SetVersion(const std::string& id, int attempt, const std::string& version, bool fallback) override {
    auto set =
        db_->Exec("UPDATE strata_jobs SET version = ?, fallback = ? WHERE id = ? AND attempt = ? AND state = 'running'",
                  {version, int64_t{fallback ? 1 : 0}, id, int64_t{attempt}});
    return set.ok() ? Status::Ok() : set.status();
  }

  Result<bool> Finish(const std::string& id, int attempt, const Outcome& out, int64_t now) override {
    if (db_->HasFinishFunction()) {
      std::vector<SqlRow> rows;
      auto finished =
          db_->Exec("SELECT strata_finish(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", FinishArgs(id, attempt, out, now), &rows);
      if (!finished.ok()) return finished.status();
      return !rows.empty();
    }
    return InTransaction<bool>(*db_, [&]() -> Result<bool> {
      std::vector<SqlRow> rows;
      auto changed = db_->Exec(FinishSql(false), FinishArgs(id, attempt, out, now), &rows);
      if (!changed.ok()) return changed.status();
      if (rows.empty()) return false;
      auto counted =
          db_->Exec("UPDATE strata_job_tenants SET running = running - 1, queued = queued + ? WHERE tenant = ?",
                    {int64_t{rows[0][0].value_or("") == "queued" ? 1 : 0}, rows[0][1].value_or("")});
      if (!counted.ok()) return counted.status();
      STRATA_RETURN_IF_ERROR(db_->Notify());
      return true;
    });
  }

  Result<CancelResult> Cancel(const std::string& id, int64_t now) override {
    auto requested = InTransaction<bool>(*db_, [&]() -> Result<bool> {
      // One statement, so that a job moving from running to queued meanwhile cannot slip between
      // a check for "queued" and one for "running" (PostgreSQL re-checks the row it waited for). A
      // running job whose cancel was already asked for is left alone: the second of two
      // simultaneous cancels learns that it changed nothing.
      std::vector<SqlRow> rows;
      auto changed = db_->Exec(
          "UPDATE strata_jobs SET cancel_requested = CASE WHEN state = 'running' THEN 1 ELSE cancel_requested END, "
          "finished_at = CASE WHEN state = 'queued' THEN CAST(? AS BIGINT) ELSE finished_at END, "
          "error = CASE WHEN state = 'queued' THEN 'cancelled before it started' ELSE error END, "
          "state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END "
          "WHERE id = ? AND (state = 'queued' OR (state = 'running' AND cancel_requested = 0)) RETURNING state, tenant",
          {now, id}, &rows);
      if (!changed.ok()) return changed.status();
      if (!rows.empty() && rows[0][0].value_or("") == "cancelled") {
        auto counted =
            db_->Exec("UPDATE strata_job_tenants SET queued = queued - 1 WHERE tenant = ?", {rows[0][1].value_or("")});
        if (!counted.ok()) return counted.status();
      }
      return !rows.empty();
    });
    if (!requested.ok()) return requested.status();
    auto job = Get(id);
    if (!job.ok()) return job.status();
    return CancelResult{*requested, std::move(*job)};
  }

  Result<std::vector<Job>> Expire(int64_t now) override {
    return InTransaction<std::vector<Job>>(*db_, [&]() -> Result<std::vector<Job>> {
      std::vector<SqlRow> rows;
      auto got = db_->Exec(std::string("UPDATE strata_jobs SET expired = 1 WHERE state = 'done' AND expired = 0 AND "
                                       "expires_at <= ? RETURNING ") +
                               kJobColumns,
                           {now}, &rows);
      if (!got.ok()) return got.status();
      std::vector<Job> jobs;
      for (const SqlRow& r : rows) jobs.push_back(JobFromRow(r));
      return jobs;
    });
  }

  Result<std::vector<std::string>> LiveFiles() override {
    std::vector<SqlRow> rows;
    auto got =
        db_->Exec("SELECT file FROM strata_jobs WHERE state = 'done' AND expired = 0 AND file IS NOT NULL", {}, &rows);
    if (!got.ok()) return got.status();
    std::vector<std::string> files;
    for (const SqlRow& r : rows) files.push_back(r[0].value_or(""));
    return files;
  }

  Result<QueueCounts> Counts() override {
    std::vector<SqlRow> rows;
    auto got = db_->Exec("SELECT state, count(*) FROM strata_jobs GROUP BY state", {}, &rows);
    if (!got.ok()) return got.status();
    QueueCounts counts;
    for (const SqlRow& r : rows) {
      const int64_t n = Int(r[1]);
      switch (StateFromName(r[0].value_or("")).value_or(JobState::kFailed)) {
        case JobState::kQueued: counts.queued = n; break;
        case JobState::kRunning: counts.running = n; break;
        case JobState::kDone: counts.done = n; break;
        case JobState::kFailed: counts.failed = n; break;
        case JobState::kCancelled: counts.cancelled = n; break;
      }
    }
    return counts;
  }

  Result<RunHistory> History(const std::string& tenant, const std::string& report) override {
    std::vector<SqlRow> rows;
    auto got = db_->Exec(
        "SELECT row_count, finished_at - started_at FROM strata_jobs WHERE tenant = ? AND report = ? AND "
        "state = 'done' ORDER BY seq DESC LIMIT 5",
        {tenant, report}, &rows);
    if (!got.ok()) return got.status();
    RunHistory history;
    history.runs = static_cast<int>(rows.size());
    if (rows.empty()) return history;
    std::vector<int64_t> counts;
    std::vector<int64_t> millis;
    for (const SqlRow& r : rows) {
      counts.push_back(Int(r[0]));
      millis.push_back(Int(r[1]));
    }
    std::sort(counts.begin(), counts.end());
    std::sort(millis.begin(), millis.end());
    history.median_rows = counts[counts.size() / 2];
    history.median_seconds = static_cast<double>(millis[millis.size() / 2]) / 1000.0;
    return history;
  }

  void WaitForWork(std::chrono::milliseconds timeout) override { db_->WaitForWork(timeout); }

  Status Ping() override {
    std::vector<SqlRow> rows;
    auto got = db_->Exec("SELECT 1", {}, &rows);
    return got.ok() ? Status::Ok() : got.status();
  }

  const std::string& description() const override { return db_->description(); }

 private:
  // REQUIRES: inside a claim's transaction.
  Status Reap(int64_t now) {
    std::vector<SqlRow> rows;
    auto reaped = db_->Exec(ReapSql(false), {now}, &rows);
    if (!reaped.ok()) return reaped.status();
    for (const SqlRow& r : rows) {
      auto counted =
          db_->Exec("UPDATE strata_job_tenants SET running = running - 1, queued = queued + ? WHERE tenant = ?",
                    {int64_t{r[1].value_or("") == "queued" ? 1 : 0}, r[0].value_or("")});
      if (!counted.ok()) return counted.status();
    }
    return Status::Ok();
  }

  std::unique_ptr<StoreDb> db_;
  int64_t last_reap_ = INT64_MIN / 2;
};

}  // namespace

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kDone: return "done";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "failed";
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewJobId() {
  thread_local std::mt19937_64 random([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int k = 0; k < 2; ++k) {
    uint64_t bits = random();
    for (int d = 0; d < 16; ++d, bits >>= 4) id.push_back(kHex[bits & 15]);
  }
  return id;
}

namespace {

Result<std::unique_ptr<JobStore>> Open(const std::string& url, bool create_tables) {
  Result<std::unique_ptr<StoreDb>> db = OpenStoreDb(url);
  if (!db.ok()) return db.status();
  if (create_tables) STRATA_RETURN_IF_ERROR((*db)->CreateSchema());
  return std::unique_ptr<JobStore>(new SqlJobStore(std::move(*db)));
}

}  // namespace

Result<std::unique_ptr<StoreDb>> OpenStoreDb(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) return OpenSqliteStoreDb(url.substr(7));
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0 || url.find('=') != std::string::npos) {
    return OpenPostgresStoreDb(url);
  }
  return Status::Usage("--jobs " + RedactUrl(url) +
                       ": expected sqlite:FILE or a PostgreSQL URL (postgresql://user@host/db)");
}

Result<std::unique_ptr<JobStore>> OpenJobStore(const std::string& url) {
  return Open(url, true);
}

Result<std::unique_ptr<JobStore>> ConnectJobStore(const std::string& url) {
  return Open(url, false);
}

}  // namespace strata::jobs
