// StoreDb: the few things the job store needs from its database, so that one SqlJobStore holds the
// queue's logic for both SQLite and PostgreSQL. Internal to jobs/.
//
// SQL is written once with `?` placeholders (PostgreSQL's are numbered for it) and in the subset
// both databases run the same: UPSERT, RETURNING, partial indexes. Values come back as text.
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace strata::jobs {

// A value to bind: NULL, an integer or a text.
using SqlArg = std::variant<std::nullptr_t, int64_t, std::string>;
using SqlRow = std::vector<std::optional<std::string>>;

class StoreDb {
 public:
  virtual ~StoreDb() = default;
  // Runs one statement. rows, when given, receives what it returns; the result is the number of
  // rows it changed (for INSERT/UPDATE/DELETE).
  virtual Result<int64_t> Exec(const std::string& sql, const std::vector<SqlArg>& args,
                               std::vector<SqlRow>* rows = nullptr) = 0;
  // A write transaction. On SQLite it takes the write lock at once (BEGIN IMMEDIATE), which also
  // serializes claims; on PostgreSQL LockClaims() does that with an advisory lock.
  virtual Status Begin() = 0;
  // Begin() and LockClaims() in one round trip where the database allows it.
  virtual Status BeginClaim() {
    STRATA_RETURN_IF_ERROR(Begin());
    return LockClaims();
  }
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  virtual Status LockClaims() = 0;
  // Tells other processes that work was queued or freed (PostgreSQL: NOTIFY, sent with the commit).
  virtual Status Notify() = 0;
  virtual void WaitForWork(std::chrono::milliseconds timeout) = 0;
  // True on PostgreSQL, where a claim is one call of the strata_claim() function (ClaimFunctionSql)
  // instead of the statements SqlJobStore sends one by one: the claim lock is then held for no
  // client round trip, which is what lets claims keep up with the fastest peer queues.
  virtual bool HasClaimFunction() const { return false; }
  // True on PostgreSQL, where Finish is one call of strata_finish() (FinishFunctionSql), for the
  // same reason: one round trip instead of four.
  virtual bool HasFinishFunction() const { return false; }
  // True on PostgreSQL (for the types of other modules' tables).
  virtual bool is_postgres() const = 0;
  // " FOR UPDATE SKIP LOCKED" where the database has it, else "".
  virtual const char* ForUpdateSkipLocked() const = 0;
  // Creates the tables and indexes when missing, and adds the columns a store made by an older
  // Strata lacks (kAddedJobColumns).
  virtual Status CreateSchema() = 0;
  // Runs statements separated by ';', without arguments or results (other modules' tables).
  virtual Status ExecScript(const std::string& sql) = 0;
  virtual const std::string& description() const = 0;
};

Result<std::unique_ptr<StoreDb>> OpenSqliteStoreDb(const std::string& path);
Result<std::unique_ptr<StoreDb>> OpenPostgresStoreDb(const std::string& conninfo);
// Either, by the URL's form: "sqlite:FILE", or a PostgreSQL URL or conninfo (kUsage otherwise).
// The watch (watch/) keeps its tables in the same database through this.
Result<std::unique_ptr<StoreDb>> OpenStoreDb(const std::string& url);

// The tables, in the dialect's types. seq orders jobs by creation.
inline std::string JobTablesSql(bool postgres) {
  const std::string seq = postgres ? "seq BIGSERIAL PRIMARY KEY" : "seq INTEGER PRIMARY KEY AUTOINCREMENT";
  const std::string i = postgres ? "BIGINT" : "INTEGER";
  return "CREATE TABLE IF NOT EXISTS strata_jobs (" + seq +
         ", id TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL, report TEXT NOT NULL, format TEXT NOT NULL,"
         " params TEXT NOT NULL, dedupe_key TEXT NOT NULL, state TEXT NOT NULL,"
         " attempt " +
         i + " NOT NULL DEFAULT 0, max_attempts " + i +
         " NOT NULL,"
         " lease_owner TEXT, lease_until " +
         i + " NOT NULL DEFAULT 0, run_after " + i +
         " NOT NULL DEFAULT 0,"
         " cancel_requested " +
         i + " NOT NULL DEFAULT 0, row_count " + i +
         " NOT NULL DEFAULT 0,"
         " byte_count " +
         i + " NOT NULL DEFAULT 0, created_at " + i + " NOT NULL, started_at " + i +
         " NOT NULL DEFAULT 0, finished_at " + i + " NOT NULL DEFAULT 0, expires_at " + i +
         " NOT NULL DEFAULT 0, file TEXT, expired " + i + " NOT NULL DEFAULT 0, error TEXT, version TEXT, fallback " +
         i +
         " NOT NULL DEFAULT 0);"
         "CREATE UNIQUE INDEX IF NOT EXISTS strata_jobs_same_request ON strata_jobs (dedupe_key)"
         " WHERE state IN ('queued', 'running') AND cancel_requested = 0;"
         // Partial: a job leaves these indexes when it ends, so the many finished jobs cost the
         // queue nothing, and ending a job inserts no index entry for them.
         "CREATE INDEX IF NOT EXISTS strata_jobs_ready ON strata_jobs (tenant, seq) WHERE state = 'queued';"
         "CREATE INDEX IF NOT EXISTS strata_jobs_leased ON strata_jobs (lease_until) WHERE state = 'running';"
         "CREATE INDEX IF NOT EXISTS strata_jobs_tenant ON strata_jobs (tenant, seq);"
         // One row per tenant that ever queued a job. queued and running count its jobs in those
         // states (kept in the same transactions as the jobs), so that a claim reads this small
         // table instead of the jobs. Round robin: in order of the last claim (0: never), then of
         // the tenant's first job. No index but the key: its updates stay HOT, the table small.
         // vtime: the database milliseconds the tenant's exports used (Charge), the claim's order
         // (fairness by database time, not by count of jobs).
         "CREATE TABLE IF NOT EXISTS strata_job_tenants (tenant TEXT PRIMARY KEY, last_claim " +
         i + " NOT NULL DEFAULT 0, first_seen " + i + " NOT NULL, queued " + i + " NOT NULL DEFAULT 0, running " + i +
         " NOT NULL DEFAULT 0, vtime " + i + " NOT NULL DEFAULT 0);";
}

// The columns added since the tables were first made, for a store made by an older Strata:
// (table, name, type and default), added by each database's CreateSchema when missing.
struct AddedColumn {
  const char* table;
  const char* name;
  const char* type;
};
inline constexpr AddedColumn kAddedColumns[] = {
    {"strata_jobs", "version", "TEXT"},
    {"strata_jobs", "fallback", "BIGINT NOT NULL DEFAULT 0"},
    {"strata_job_tenants", "vtime", "BIGINT NOT NULL DEFAULT 0"},
};

// SQL that both databases run: each @name becomes p_name, an argument of a PL/pgSQL function on
// PostgreSQL, or ?N on SQLite, N being the name's place in names (SQLite binds ?N by that number, so
// a name may appear many times).
inline std::string SharedSql(std::string_view text, std::initializer_list<std::string_view> names, bool postgres) {
  std::string out;
  for (size_t k = 0; k < text.size();) {
    if (text[k] != '@') {
      out.push_back(text[k++]);
      continue;
    }
    size_t end = k + 1;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
    const std::string_view name = text.substr(k + 1, end - k - 1);
    size_t n = 1;
    for (std::string_view candidate : names) {
      if (candidate == name) break;
      ++n;
    }
    out += postgres ? "p_" + std::string(name) : "?" + std::to_string(n);
    k = end;
  }
  return out;
}

// Takes back the jobs whose lease ran out: queued again, failed after their last attempt, or
// cancelled when someone asked. Returns (tenant, new state) per job, for the tenants' counters.
inline constexpr std::string_view kReapSql =
    "UPDATE strata_jobs SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN attempt >= max_attempts "
    "THEN 'failed' ELSE 'queued' END, finished_at = CASE WHEN attempt >= max_attempts OR cancel_requested = 1 "
    "THEN @now ELSE 0 END, run_after = @now, lease_owner = NULL, error = 'attempt ' || attempt || ' of ' || "
    "max_attempts || ' stopped: its worker (' || coalesce(lease_owner, 'unknown') || ') lost its lease' "
    "WHERE state = 'running' AND lease_until < @now RETURNING tenant, state";
inline std::string ReapSql(bool postgres) {
  return SharedSql(kReapSql, {"now"}, postgres);
}

// Ends an attempt, fenced by it: @kind is "done", "retry", "failed", "cancelled" or "released". A
// job someone asked to cancel is not queued again but ends cancelled; a released job (its worker
// stopped) gets one attempt more, as the attempt number keeps growing (it is the fencing token and
// names the file). Returns the state it left and the tenant; nothing when the attempt no longer
// holds the job.
inline constexpr std::string_view kFinishSql =
    "UPDATE strata_jobs SET "
    "state = CASE WHEN @kind IN ('done', 'failed', 'cancelled') THEN @kind WHEN cancel_requested = 1 "
    "THEN 'cancelled' ELSE 'queued' END, "
    "file = CASE WHEN @kind = 'done' THEN @file ELSE file END, "
    "row_count = CASE WHEN @kind IN ('done', 'failed', 'cancelled') THEN @rows ELSE row_count END, "
    "byte_count = CASE WHEN @kind IN ('done', 'failed', 'cancelled') THEN @bytes ELSE byte_count END, "
    "finished_at = CASE WHEN @kind IN ('done', 'failed', 'cancelled') OR cancel_requested = 1 THEN @now ELSE 0 END, "
    "expires_at = CASE WHEN @kind = 'done' THEN @expires_at ELSE expires_at END, "
    "run_after = CASE WHEN @kind = 'retry' THEN @run_after WHEN @kind = 'released' THEN @now ELSE run_after END, "
    "max_attempts = max_attempts + CASE WHEN @kind = 'released' THEN 1 ELSE 0 END, "
    "lease_owner = NULL, error = CASE WHEN @kind = 'done' THEN NULL ELSE @error END "
    "WHERE id = @id AND attempt = @attempt AND state = 'running' RETURNING state, tenant";
// Its arguments in order: strata_finish()'s, and SQLite's ?1..?10.
inline std::string FinishSql(bool postgres) {
  return SharedSql(kFinishSql,
                   {"id", "attempt", "kind", "file", "rows", "bytes", "now", "expires_at", "run_after", "error"},
                   postgres);
}

// PostgreSQL's claim: the same steps as SqlJobStore::Claim's statements (take back expired leases
// when asked, respect the global cap, then the tenants with room in round-robin order, each one's
// oldest ready job), in one call, so that the claim lock is held for no client round trip.
// The advisory lock (PostgreSQL, transaction-scoped) that serializes claims across processes, so
// that the per-tenant and global limits hold exactly; and the one that serializes making the tables.
inline constexpr int64_t kClaimLockKey = 7365427;
inline constexpr int64_t kSchemaLockKey = 7365428;

inline std::string ClaimFunctionSql() {
  return R"sql(
CREATE OR REPLACE FUNCTION strata_claim(p_worker text, p_now bigint, p_lease bigint, p_tenant_limit bigint,
                                        p_max_running bigint, p_reap boolean) RETURNS SETOF strata_jobs
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  t record;
  j text;
BEGIN
  PERFORM pg_advisory_xact_lock()sql" +
         std::to_string(kClaimLockKey) + R"sql();
  IF p_reap THEN
    FOR r IN )sql" +
         ReapSql(true) + R"sql(
    LOOP
      UPDATE strata_job_tenants SET running = running - 1,
                                    queued = queued + CASE WHEN r.state = 'queued' THEN 1 ELSE 0 END
        WHERE tenant = r.tenant;
    END LOOP;
  END IF;
  IF (SELECT coalesce(sum(running), 0) FROM strata_job_tenants) >= p_max_running THEN
    RETURN;
  END IF;
  FOR t IN SELECT tenant FROM strata_job_tenants WHERE queued > 0 AND running < p_tenant_limit
           ORDER BY vtime, last_claim, first_seen, tenant
  LOOP
    SELECT id INTO j FROM strata_jobs WHERE tenant = t.tenant AND state = 'queued' AND run_after <= p_now
      ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
      UPDATE strata_job_tenants SET last_claim = p_now, queued = queued - 1, running = running + 1
        WHERE tenant = t.tenant;
      RETURN QUERY UPDATE strata_jobs SET state = 'running', attempt = attempt + 1, lease_owner = p_worker,
          lease_until = p_now + p_lease, started_at = p_now, row_count = 0, byte_count = 0
        WHERE id = j RETURNING *;
      RETURN;
    END IF;
  END LOOP;
END
$$;
)sql";
}

// PostgreSQL's Finish: kFinishSql and the tenant's counters in one call. Returns the state it left,
// or nothing when the attempt no longer holds the job.
inline std::string FinishFunctionSql() {
  return R"sql(
CREATE OR REPLACE FUNCTION strata_finish(p_id text, p_attempt bigint, p_kind text, p_file text, p_rows bigint,
                                         p_bytes bigint, p_now bigint, p_expires_at bigint, p_run_after bigint,
                                         p_error text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  s text;
  tn text;
BEGIN
  )sql" + FinishSql(true) +
         R"sql( INTO s, tn;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  UPDATE strata_job_tenants SET running = running - 1, queued = queued + CASE WHEN s = 'queued' THEN 1 ELSE 0 END
    WHERE tenant = tn;
  PERFORM pg_notify('strata_jobs', '');
  RETURN NEXT s;
END
$$;
)sql";
}

}  // namespace strata::jobs
