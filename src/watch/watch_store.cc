#include "watch/watch_store.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "jobs/store_db.h"
#include "watch/detector.h"

namespace strata::watch {

using jobs::SqlArg;
using jobs::SqlRow;

namespace {

std::string TablesSql(bool postgres) {
  const std::string i = postgres ? "BIGINT" : "INTEGER";
  const std::string seq = postgres ? "seq BIGSERIAL PRIMARY KEY" : "seq INTEGER PRIMARY KEY AUTOINCREMENT";
  return "CREATE TABLE IF NOT EXISTS strata_report_versions (report TEXT NOT NULL, version TEXT NOT NULL,"
         " sql TEXT NOT NULL, params TEXT NOT NULL, execution TEXT NOT NULL, first_seen " +
         i +
         " NOT NULL, PRIMARY KEY (report, version));"
         "CREATE TABLE IF NOT EXISTS strata_runs (" +
         seq +
         ", report TEXT NOT NULL, version TEXT NOT NULL, tenant TEXT NOT NULL, job TEXT NOT NULL,"
         " fallback " +
         i + " NOT NULL, outcome TEXT NOT NULL, row_count " + i + " NOT NULL, db_us " + i + " NOT NULL, wall_us " + i +
         " NOT NULL, stratum " + i + " NOT NULL, look " + i + " NOT NULL, at " + i +
         " NOT NULL, error TEXT, plan TEXT);"
         "CREATE INDEX IF NOT EXISTS strata_runs_tenant ON strata_runs (report, tenant, version, fallback, seq);"
         "CREATE INDEX IF NOT EXISTS strata_runs_stratum ON strata_runs (report, version, stratum, seq);"
         "CREATE TABLE IF NOT EXISTS strata_watch (report TEXT NOT NULL, tenant TEXT NOT NULL, state TEXT NOT NULL,"
         " current_version TEXT NOT NULL, good_version TEXT NOT NULL, ratio TEXT NOT NULL, runs " +
         i + " NOT NULL, reason TEXT NOT NULL, since " + i + " NOT NULL, from_seq " + i + " NOT NULL, verify_looks " +
         i + " NOT NULL, verified " + i + " NOT NULL, cooldown_until " + i +
         " NOT NULL, attribution TEXT, PRIMARY KEY (report, tenant));";
}

int64_t Int(const std::optional<std::string>& text) {
  int64_t n = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), n);
  return n;
}

// Ratios are kept as text: the stores bind integers and text only, and an infinite ratio (the
// current version failed) must survive.
std::string RatioText(double r) {
  if (std::isinf(r)) return "inf";
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", r);
  return text;
}

double RatioFrom(const std::optional<std::string>& text) {
  if (!text) return 0;
  if (*text == "inf") return kFailed;
  return std::strtod(text->c_str(), nullptr);
}

int64_t Micros(double ms) {
  return std::isinf(ms) ? -1 : static_cast<int64_t>(std::llround(ms * 1000));
}

constexpr const char* kRunColumns =
    "seq, report, version, tenant, job, fallback, outcome, row_count, db_us, wall_us, stratum, look, at, error, plan";

RunRow RunFrom(const SqlRow& r) {
  RunRow run;
  run.seq = Int(r[0]);
  run.report = r[1].value_or("");
  run.version = r[2].value_or("");
  run.tenant = r[3].value_or("");
  run.job = r[4].value_or("");
  run.fallback = Int(r[5]) != 0;
  run.outcome = r[6].value_or("");
  run.rows = Int(r[7]);
  run.db_ms = static_cast<double>(Int(r[8])) / 1000;
  run.wall_ms = static_cast<double>(Int(r[9])) / 1000;
  run.stratum = static_cast<int>(Int(r[10]));
  run.look = static_cast<int>(Int(r[11]));
  run.at = Int(r[12]);
  run.error = r[13].value_or("");
  run.plan = r[14].value_or("");
  return run;
}

constexpr const char* kEntryColumns =
    "report, tenant, state, current_version, good_version, ratio, runs, reason, since, from_seq, verify_looks, "
    "verified, cooldown_until, attribution";

Entry EntryFrom(const SqlRow& r) {
  Entry e;
  e.report = r[0].value_or("");
  e.tenant = r[1].value_or("");
  e.state = r[2].value_or("");
  e.current_version = r[3].value_or("");
  e.good_version = r[4].value_or("");
  e.ratio = RatioFrom(r[5]);
  e.runs = static_cast<int>(Int(r[6]));
  e.reason = r[7].value_or("");
  e.since = Int(r[8]);
  e.from_seq = Int(r[9]);
  e.verify_looks = static_cast<int>(Int(r[10]));
  e.verified = Int(r[11]) != 0;
  e.cooldown_until = Int(r[12]);
  e.attribution = r[13].value_or("");
  return e;
}

StoredVersion VersionFrom(const SqlRow& r) {
  StoredVersion v;
  v.report = r[0].value_or("");
  v.id = r[1].value_or("");
  v.sql = r[2].value_or("");
  v.params = r[3].value_or("[]");
  v.execution = r[4].value_or("simple");
  v.first_seen = Int(r[5]);
  return v;
}

}  // namespace

WatchStore::WatchStore(std::unique_ptr<jobs::StoreDb> db) : db_(std::move(db)) {}
WatchStore::~WatchStore() = default;

Result<std::unique_ptr<WatchStore>> WatchStore::Open(const std::string& url, bool create) {
  auto db = jobs::OpenStoreDb(url);
  if (!db.ok()) return db.status();
  if (create) {
    const std::string sql = TablesSql((*db)->is_postgres());
    // PostgreSQL: two processes starting at once must not race on CREATE ... IF NOT EXISTS.
    const std::string script = (*db)->is_postgres() ? "BEGIN; SELECT pg_advisory_xact_lock(" +
                                                          std::to_string(jobs::kSchemaLockKey) + "); " + sql + " COMMIT"
                                                    : sql;
    STRATA_RETURN_IF_ERROR((*db)->ExecScript(script));
  }
  return std::unique_ptr<WatchStore>(new WatchStore(std::move(*db)));
}

Result<StoredVersion> WatchStore::SaveVersion(const StoredVersion& v, int64_t now) {
  auto saved = db_->Exec(
      "INSERT INTO strata_report_versions (report, version, sql, params, execution, first_seen) VALUES (?, ?, ?, ?, ?, "
      "?)"
      " ON CONFLICT (report, version) DO NOTHING",
      {v.report, v.id, v.sql, v.params, v.execution, now});
  if (!saved.ok()) return saved.status();
  auto stored = Version(v.report, v.id);
  if (!stored.ok()) return stored.status();
  if (!*stored) return Status::Database("the watch's store lost the version " + v.id + " of " + v.report);
  return **stored;
}

Result<std::optional<StoredVersion>> WatchStore::Version(const std::string& report, const std::string& id) {
  std::vector<SqlRow> rows;
  auto got = db_->Exec(
      "SELECT report, version, sql, params, execution, first_seen FROM strata_report_versions"
      " WHERE report = ? AND version = ?",
      {report, id}, &rows);
  if (!got.ok()) return got.status();
  if (rows.empty()) return std::optional<StoredVersion>();
  return std::optional<StoredVersion>(VersionFrom(rows[0]));
}

Result<std::vector<StoredVersion>> WatchStore::Versions(const std::string& report) {
  std::vector<SqlRow> rows;
  auto got = db_->Exec(
      "SELECT report, version, sql, params, execution, first_seen FROM strata_report_versions"
      " WHERE report = ? ORDER BY first_seen, version",
      {report}, &rows);
  if (!got.ok()) return got.status();
  std::vector<StoredVersion> versions;
  for (const SqlRow& r : rows) versions.push_back(VersionFrom(r));
  return versions;
}

Result<RunRow> WatchStore::AddRun(const RunRow& run) {
  const int64_t fallback = run.fallback ? 1 : 0;
  std::vector<SqlRow> rows;
  auto added = db_->Exec(
      std::string(
          "INSERT INTO strata_runs (report, version, tenant, job, fallback, outcome, row_count, db_us, wall_us,"
          " stratum, look, at, error, plan) SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
          " CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT),"
          " CAST(? AS BIGINT), coalesce(max(look), 0) + 1, CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT)"
          " FROM strata_runs WHERE report = ? AND tenant = ? AND version = ? AND fallback = ? RETURNING ") +
          kRunColumns,
      {run.report, run.version, run.tenant, run.job, fallback, run.outcome, run.rows, Micros(run.db_ms),
       Micros(run.wall_ms), int64_t{run.stratum}, run.at, run.error.empty() ? SqlArg(nullptr) : SqlArg(run.error),
       run.plan.empty() ? SqlArg(nullptr) : SqlArg(run.plan), run.report, run.tenant, run.version, fallback},
      &rows);
  if (!added.ok()) return added.status();
  if (rows.empty()) return Status::Database("the watch's store did not return the run it recorded");
  const RunRow stored = RunFrom(rows[0]);
  // Pruned every kPruneEvery runs of a version and tenant: the table holds at most kRunsKept +
  // kPruneEvery of them, and most recordings cost one statement.
  if (stored.look % kPruneEvery != 0) return stored;
  auto pruned = db_->Exec(
      "DELETE FROM strata_runs WHERE report = ? AND tenant = ? AND version = ? AND seq < (SELECT seq FROM strata_runs"
      " WHERE report = ? AND tenant = ? AND version = ? ORDER BY seq DESC LIMIT 1 OFFSET " +
          std::to_string(kRunsKept - 1) + ")",
      {run.report, run.tenant, run.version, run.report, run.tenant, run.version});
  if (!pruned.ok()) return pruned.status();
  return stored;
}

Result<std::vector<RunRow>> WatchStore::TenantRuns(const std::string& report, const std::string& tenant, int limit) {
  std::vector<SqlRow> rows;
  auto got = db_->Exec(std::string("SELECT ") + kRunColumns +
                           " FROM strata_runs WHERE report = ? AND tenant = ? ORDER BY seq DESC LIMIT ?",
                       {report, tenant, int64_t{limit}}, &rows);
  if (!got.ok()) return got.status();
  std::vector<RunRow> runs;
  for (const SqlRow& r : rows) runs.push_back(RunFrom(r));
  return runs;
}

Result<std::vector<RunRow>> WatchStore::Runs(const RunFilter& f) {
  std::string sql = std::string("SELECT ") + kRunColumns +
                    " FROM strata_runs WHERE report = ? AND tenant = ? AND version = ? AND seq > ? AND seq <= ?";
  std::vector<SqlArg> args = {f.report, f.tenant, f.version, f.after_seq, f.up_to_seq};
  if (f.fallback) {
    sql += " AND fallback = ?";
    args.emplace_back(int64_t{*f.fallback ? 1 : 0});
  }
  sql += " ORDER BY seq DESC LIMIT ?";
  args.emplace_back(int64_t{f.limit});
  std::vector<SqlRow> rows;
  auto got = db_->Exec(sql, args, &rows);
  if (!got.ok()) return got.status();
  std::vector<RunRow> runs;
  for (const SqlRow& r : rows) runs.push_back(RunFrom(r));
  return runs;
}

Result<std::string> WatchStore::LatestEarlierVersion(const std::string& report, const std::string& tenant,
                                                     int64_t before) {
  std::vector<SqlRow> rows;
  auto got = db_->Exec(
      "SELECT r.version FROM strata_runs r JOIN strata_report_versions v ON v.report = r.report AND v.version = "
      "r.version WHERE r.report = ? AND r.tenant = ? AND r.outcome = 'done' AND v.first_seen < ? ORDER BY r.seq DESC "
      "LIMIT 1",
      {report, tenant, before}, &rows);
  if (!got.ok()) return got.status();
  return rows.empty() ? std::string() : rows[0][0].value_or("");
}

Result<bool> WatchStore::HasPlan(const std::string& report, const std::string& version, int stratum) {
  std::vector<SqlRow> rows;
  auto got = db_->Exec(
      "SELECT 1 FROM strata_runs WHERE report = ? AND version = ? AND stratum = ? AND plan IS NOT NULL LIMIT 1",
      {report, version, int64_t{stratum}}, &rows);
  if (!got.ok()) return got.status();
  return !rows.empty();
}

Result<std::vector<RunRow>> WatchStore::StratumRuns(const std::string& report, const std::string& version, int stratum,
                                                    const std::string& tenant, int limit) {
  std::vector<SqlRow> rows;
  auto got = db_->Exec(std::string("SELECT ") + kRunColumns +
                           " FROM strata_runs WHERE report = ? AND version = ? AND stratum = ? AND tenant <> ?"
                           " ORDER BY seq DESC LIMIT ?",
                       {report, version, int64_t{stratum}, tenant, int64_t{limit}}, &rows);
  if (!got.ok()) return got.status();
  std::vector<RunRow> runs;
  for (const SqlRow& r : rows) runs.push_back(RunFrom(r));
  return runs;
}

Result<std::optional<Entry>> WatchStore::GetEntry(const std::string& report, const std::string& tenant) {
  std::vector<SqlRow> rows;
  auto got = db_->Exec(std::string("SELECT ") + kEntryColumns + " FROM strata_watch WHERE report = ? AND tenant = ?",
                       {report, tenant}, &rows);
  if (!got.ok()) return got.status();
  if (rows.empty()) return std::optional<Entry>();
  return std::optional<Entry>(EntryFrom(rows[0]));
}

Status WatchStore::PutEntry(const Entry& e) {
  auto put = db_->Exec(
      std::string("INSERT INTO strata_watch (") + kEntryColumns +
          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (report, tenant) DO UPDATE SET"
          " state = excluded.state, current_version = excluded.current_version, good_version = excluded.good_version,"
          " ratio = excluded.ratio, runs = excluded.runs, reason = excluded.reason, since = excluded.since,"
          " from_seq = excluded.from_seq, verify_looks = excluded.verify_looks, verified = excluded.verified,"
          " cooldown_until = excluded.cooldown_until, attribution = excluded.attribution",
      {e.report, e.tenant, e.state, e.current_version, e.good_version, RatioText(e.ratio), int64_t{e.runs}, e.reason,
       e.since, e.from_seq, int64_t{e.verify_looks}, int64_t{e.verified ? 1 : 0}, e.cooldown_until,
       e.attribution.empty() ? SqlArg(nullptr) : SqlArg(e.attribution)});
  return put.ok() ? Status::Ok() : put.status();
}

Result<bool> WatchStore::ReplaceEntry(const Entry& e, const std::string& state, int64_t since) {
  auto changed = db_->Exec(
      "UPDATE strata_watch SET state = ?, current_version = ?, good_version = ?, ratio = ?, runs = ?, reason = ?,"
      " since = ?, from_seq = ?, verify_looks = ?, verified = ?, cooldown_until = ?, attribution = ?"
      " WHERE report = ? AND tenant = ? AND state = ? AND since = ?",
      {e.state, e.current_version, e.good_version, RatioText(e.ratio), int64_t{e.runs}, e.reason, e.since, e.from_seq,
       int64_t{e.verify_looks}, int64_t{e.verified ? 1 : 0}, e.cooldown_until,
       e.attribution.empty() ? SqlArg(nullptr) : SqlArg(e.attribution), e.report, e.tenant, state, since});
  if (!changed.ok()) return changed.status();
  return *changed == 1;
}

Result<std::vector<Entry>> WatchStore::Entries() {
  std::vector<SqlRow> rows;
  auto got = db_->Exec(
      std::string("SELECT ") + kEntryColumns + " FROM strata_watch ORDER BY since DESC, report, tenant", {}, &rows);
  if (!got.ok()) return got.status();
  std::vector<Entry> entries;
  for (const SqlRow& r : rows) entries.push_back(EntryFrom(r));
  return entries;
}

}  // namespace strata::watch
