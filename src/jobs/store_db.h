// StoreDb: the few things the job store needs from its database, so that one SqlJobStore holds the
// queue's logic for both SQLite and PostgreSQL. Internal to jobs/.
//
// SQL is written once with `?` placeholders (PostgreSQL's are numbered for it) and in the subset
// both databases run the same: UPSERT, RETURNING, partial indexes. Values come back as text.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
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
  // " FOR UPDATE SKIP LOCKED" where the database has it, else "".
  virtual const char* ForUpdateSkipLocked() const = 0;
  // Creates the tables and indexes when missing.
  virtual Status CreateSchema() = 0;
  virtual const std::string& description() const = 0;
};

Result<std::unique_ptr<StoreDb>> OpenSqliteStoreDb(const std::string& path);
Result<std::unique_ptr<StoreDb>> OpenPostgresStoreDb(const std::string& conninfo);

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
         " NOT NULL DEFAULT 0, file TEXT, expired " + i +
         " NOT NULL DEFAULT 0, error TEXT);"
         "CREATE UNIQUE INDEX IF NOT EXISTS strata_jobs_same_request ON strata_jobs (dedupe_key)"
         " WHERE state IN ('queued', 'running') AND cancel_requested = 0;"
         "CREATE INDEX IF NOT EXISTS strata_jobs_state ON strata_jobs (state, tenant, seq);"
         "CREATE INDEX IF NOT EXISTS strata_jobs_tenant ON strata_jobs (tenant, seq);"
         // One row per tenant that ever queued a job. queued and running count its jobs in those
         // states (kept in the same transactions as the jobs), so that a claim reads this small
         // table instead of the jobs. Round robin: in order of the last claim (0: never), then of
         // the tenant's first job. No index but the key: its updates stay HOT, the table small.
         "CREATE TABLE IF NOT EXISTS strata_job_tenants (tenant TEXT PRIMARY KEY, last_claim " +
         i + " NOT NULL DEFAULT 0, first_seen " + i + " NOT NULL, queued " + i + " NOT NULL DEFAULT 0, running " + i +
         " NOT NULL DEFAULT 0);";
}

}  // namespace strata::jobs
