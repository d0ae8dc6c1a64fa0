// check: the regression gate (DESIGN.md, "check"; the verdict JSON is fixed by INTERFACES.md).
//
// A check compares two versions of a report, the base (what runs in production now) and the
// candidate (the change), on the tenants that matter: it picks the tenants (tenants.h), runs both
// versions on each of them alternately, compares their rows (compare.h) and their times
// (timing.h), reads their plans and the statistics the plans depend on (plans.h, statistics.h),
// and returns a CheckResult that the renderers (render.h) turn into the terminal table, the
// verdict JSON, the HTML report, JUnit XML and Markdown. After the picked tenants, a correctness
// sweep compares base and candidate (one run each) on the remaining tenants, rarest value features
// first, within a time budget. Nothing here writes to the database except --statistics fresh or
// both, which run ANALYZE on the tables the reports read (fresh: before; both: after, to re-time
// slow tenants).
//
// Thread-safety: RunCheck uses one Source from one thread; Source::Cancel() from another thread
// stops it (the result is then an error with Status::Code::kCancelled).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "report/binding.h"
#include "report/param.h"
#include "report/project.h"
#include "source/source.h"

namespace strata::check {

enum class Verdict { kPass, kDifferentResults, kSlower, kTimeout, kError };
// "pass", "different_results", "slower", "timeout", "error": the words of the verdict JSON.
const char* VerdictName(Verdict verdict);

// A tenant chosen for the check and why: "largest by orders", "outlier: payments per order 23x
// the median", "grown since the last ANALYZE of orders", "named with --tenants".
struct PickedTenant {
  ParamValue value;              // the tenant parameter's value, typed as declared
  std::vector<double> sizes;     // one per dimension of the TenantList; empty when unknown
  std::vector<std::string> why;  // at least one reason
};

// A plan node whose estimated rows are off by `q` (>= 10) from the actual rows.
struct Misestimate {
  std::string node;       // "Index Scan", "Hash Join"
  std::string table;      // the relation it reads, if any
  std::string condition;  // its index condition, filter or join condition, if any
  double estimated_rows = 0;
  double actual_rows = 0;
  double q_error = 0;  // max(est/actual, actual/est), both taken as at least 1 row
};

// One version's runs on one tenant.
struct VersionRuns {
  int64_t rows = -1;       // rows returned (by the warm-up run); -1 when it failed
  std::vector<double> ms;  // the timed repetitions, in milliseconds
  double median_ms = 0;
  bool timed_out = false;     // a run hit the timeout (then ms may be incomplete)
  double timeout_ms = 0;      // the timeout the runs had
  std::string error;          // a run failed (not a timeout): the database's message
  std::string plan;           // plan-shape fingerprint, 12 hex digits; empty when unknown
  std::string plan_text;      // the plan as an indented tree, for people
  bool generic_plan = false;  // PostgreSQL prepared: the plan cache used the generic plan
  std::vector<Misestimate> misestimates;
};

// The statistics the planner had for one table a plan reads, and whether they can be trusted.
struct TableHealth {
  std::string table;                    // schema.table as SQL names it
  int64_t live_rows = -1;               // rows now (counted, or the server's live-row count)
  int64_t rows_at_analyze = -1;         // what the statistics say (reltuples); -1 never analyzed
  int64_t modified_since_analyze = -1;  // PostgreSQL's n_mod_since_analyze
  std::string last_analyze;             // "2026-11-24 10:00:00" (UTC), empty when never
  std::string tenant_column;            // the tenant parameter's column in this table, if any
  double tenant_estimated_rows = -1;    // the planner's estimate for "tenant_column = tenant"
  int64_t tenant_actual_rows = -1;      // the real count for the tenant
  std::optional<bool> tenant_in_mcv;    // the tenant's value is among the column's MCVs
  bool stale = false;
  std::string reason;       // why it is stale, for people
  std::string analyze_sql;  // "ANALYZE public.orders;" when stale
};

// The first rows that differ between the versions for one tenant.
struct RowDiff {
  std::vector<std::string> columns;            // the base's column names
  std::vector<std::string> candidate_columns;  // when they differ from the base's
  int64_t only_in_base = 0;                    // rows of base missing from candidate (multiset)
  int64_t only_in_candidate = 0;
  std::vector<std::vector<std::string>> base_rows;  // the first few of each, as text
  std::vector<std::vector<std::string>> candidate_rows;
  bool ordered = false;                 // both versions have a top-level ORDER BY: compared as sequences
  bool order_only = false;              // the same rows in another order (ordered)
  int64_t first_order_difference = -1;  // 0-based row index where the order first differs
};

// --statistics both: a slower tenant re-timed after ANALYZE of the tables its plans read.
struct FreshStatistics {
  std::vector<std::string> analyzed;  // the tables analyzed, as SQL names them
  Verdict verdict = Verdict::kPass;   // the verdict under fresh statistics
  double ratio = 0;
  double base_median_ms = 0;
  double candidate_median_ms = 0;
  bool timed_out = false;
  std::string base_plan;  // fingerprints under fresh statistics
  std::string candidate_plan;
};

struct TenantResult {
  PickedTenant tenant;
  std::vector<std::pair<std::string, ParamValue>> params;  // every parameter the runs were bound with
  std::string execution;                                   // "simple" or "prepared" (the candidate's)
  Verdict verdict = Verdict::kPass;
  VersionRuns base;
  VersionRuns candidate;
  double ratio = 0;  // candidate median / base median; a lower bound when timed out
  bool plan_changed = false;
  std::optional<RowDiff> diff;
  std::vector<TableHealth> tables;  // statistics of the tables the plans read (PostgreSQL)
  std::string explanation;          // one paragraph, for failures (and notable passes)
  bool compared = false;            // both versions ran and their rows were compared
  bool from_sweep = false;          // found by the correctness sweep, then checked in full
  std::optional<FreshStatistics> fresh;
};

// The correctness sweep of one report (check.h, top).
struct SweepSummary {
  int64_t tried = 0;                  // tenants run
  int64_t compared = 0;               // of them, whose rows were compared (both versions ran)
  int64_t remaining = 0;              // tenants left when the budget ran out
  double ms = 0;                      // its wall time
  double budget_ms = 0;               // 0: the sweep was off
  std::vector<std::string> differed;  // tenants whose rows differed on their one run (beyond those checked in full)
  std::vector<std::string> slower;    // tenants far slower on their one run (beyond those checked in full)
};

struct ReportResult {
  std::string report;                   // the candidate's name (the base's when only the base has it)
  std::string base_report;              // the base's name when it differs (comparing two reports)
  Verdict verdict = Verdict::kPass;     // kPass or the worst tenant's verdict
  std::vector<std::string> dimensions;  // the size dimensions of the tenants, e.g. "members", "orders"
  std::string tenants_from;             // "tenants.sql" or "profile of orders, members"
  std::vector<TenantResult> tenants;
  // Tenants, ordered by size, between which a version's plan changes shape.
  std::vector<std::string> base_plan_flips;
  std::vector<std::string> candidate_plan_flips;
  std::vector<std::string> notes;   // things a DBA should know: "no sqlite_stat1: run ANALYZE"
  std::vector<TableHealth> tables;  // the statistics of every table read, once per report
  // Coverage: the tenants the database has for this report (the list's rows, or the distinct tenant
  // values found), and for how many of them base and candidate rows were compared (picked and
  // swept). A report that compared no tenant's rows is never a pass: its verdict is kError and
  // `error` says why and what to do.
  int64_t tenants_total = 0;
  int64_t results_compared = 0;
  std::string error;
  int rare_features = 0;            // rare value features found
  int rare_features_uncovered = 0;  // of them, held by no picked tenant (left to the sweep)
  SweepSummary sweep;
};

// What the gate itself cost: the wall time outside query executions is Strata's overhead.
struct CheckCost {
  double wall_ms = 0;
  double query_ms = 0;      // inside Execute and Next, Explain and catalog queries
  int64_t executions = 0;   // runs of a report version (warm-ups, repetitions, EXPLAIN ANALYZE)
  int feature_queries = 0;  // aggregate queries of the value-feature passes (features.h)
  double feature_ms = 0;    // their time (included in query_ms)
  double sweep_ms = 0;      // wall time of the correctness sweeps
};

struct CheckResult {
  std::string database;  // without password
  Dialect dialect = Dialect::kSqlite;
  std::string base_label;       // "origin/main", "old/" ...
  std::string candidate_label;  // "." ...
  bool pass = true;
  bool analyzed_first = false;
  std::vector<std::string> analyzed_tables;
  std::vector<ReportResult> reports;
  CheckCost cost;
};

// One report to compare: the base's and the candidate's version of it.
struct ReportPair {
  const ReportSpec* base = nullptr;
  const ReportSpec* candidate = nullptr;
  const Project* base_project = nullptr;  // holds base; names its SQL file in messages
};

// Which statistics the plans run under (PostgreSQL; SQLite's sqlite_stat1 likewise).
enum class StatisticsMode {
  kCurrent,  // as they are: nothing is written
  kFresh,    // ANALYZE every table the reports read first
  kBoth,     // as they are; then a slower tenant is re-timed after ANALYZE of the tables its plans read
};

struct CheckOptions {
  CheckSettings settings;              // repetitions, slower_ratio, min_slower_ms, max_tenants
  std::vector<std::string> tenants;    // --tenants: always checked, in addition to the picked ones
  std::vector<ParamArg> params;        // --param: fixed values for the other parameters
  std::optional<Execution> execution;  // --execution: override both versions' modes
  StatisticsMode statistics = StatisticsMode::kCurrent;
  // The timeout of a candidate run is the base's warm-up time times the larger of timeout_ratio and
  // twice slower_ratio, at least min_timeout and at most the project's statement timeout: a
  // candidate 100x slower is reported, not waited for, and one slower than that timeout fails
  // whatever the timing rule would have said.
  double timeout_ratio = 4;

  // The candidate's timeout for a base that took base_ms.
  std::chrono::milliseconds CandidateTimeout(double base_ms) const;
  std::chrono::milliseconds min_timeout{1000};
  std::chrono::milliseconds statement_timeout{std::chrono::minutes(10)};
  // Rows of each side shown for a tenant whose results differ.
  int diff_rows = 5;
  // Called with a line of progress ("member_activity: tenant 172 (3/12)"); may be empty.
  std::function<void(const std::string&)> progress;
};

// REQUIRES: every pair's reports use project.tenant_param. base_project supplies nothing but the
// base reports; the tenant list and settings come from the candidate's project.
Result<CheckResult> RunCheck(Source* source, const Project& project, const std::vector<ReportPair>& pairs,
                             const CheckOptions& options);

}  // namespace strata::check
