// The gate's runs, inside the check module: one tenant checked in full (RunTenant), and the
// correctness sweep over the others (Sweep). RunCheck (run_check.cc) calls them per report.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "check/check.h"
#include "check/compare.h"
#include "check/plans.h"
#include "check/statistics.h"
#include "check/tenants.h"
#include "check/timing.h"

namespace strata::check {

// One version of a report bound for one tenant.
struct Version {
  const ReportSpec* spec = nullptr;
  Query query;
  Execution execution = Execution::kSimple;
};

// Runs versions on one Source and keeps the cost accounts.
class Runner {
 public:
  Runner(Source* source, CheckCost* cost) : source_(source), cost_(cost) {}

  // Runs a version once, draining every row; digest/sample may be null. Returns the database's time
  // in ms (hashing is left out).
  Result<double> Run(const Version& v, std::chrono::milliseconds timeout, ResultDigest* digest, RowSample* sample);

  // The plan, with ANALYZE (PostgreSQL, when `analyze`) when it can finish in time, else the plain
  // plan; *error on failure.
  PlanInfo Plan(const Version& v, std::chrono::milliseconds timeout, std::string* error, bool analyze = true);

  // Runs f, counting its time as the database's.
  template <typename F>
  auto Timed(F f) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = f();
    cost_->query_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }

  Source* source() const { return source_; }

 private:
  Source* source_;
  CheckCost* cost_;
  Batch batch_;
};

// What every run of one report pair shares.
struct ReportRun {
  Runner* runner = nullptr;
  const Project* project = nullptr;
  const CheckOptions* options = nullptr;
  const ReportSpec* base = nullptr;
  const ReportSpec* candidate = nullptr;
  const Project* base_project = nullptr;  // holds base (project itself, or the base's)
  ParamType tenant_type = ParamType::kBigint;
  std::vector<std::string> tables;  // the tables among the versions' words
  std::vector<TableStats> stats;    // their statistics
  TableCounts counts;               // rows per tenant in the tables with a tenant column
};

// A failure that must stop the whole check (cancelled, internal), not one tenant's verdict.
bool Fatal(const Status& s);

// Binds both versions for a tenant: the tenant, then the --param values each version declares.
Result<std::pair<Version, Version>> BindVersions(const ReportRun& run, const ParamValue& tenant);

// Checks one tenant in full: warm-up with result digests, priming of prepared statements, timed
// repetitions (a second set confirms "slower"), row differences, plans, statistics, verdict.
Result<TenantResult> RunTenant(const ReportRun& run, const PickedTenant& tenant);

// The correctness sweep: tenants in `order`, one run of each version with rows compared, until the
// budget is spent (a base run may take at most what is left of it). A tenant whose rows differ,
// whose candidate fails or times out, or whose candidate is far slower (the timing rule's ratio and
// absolute difference, on the one run) is checked in full with RunTenant (its second run confirms a
// difference) and added to *tenants; after three confirmed failures of a kind, further findings
// of that kind are only listed in the summary (the report fails already).
Result<SweepSummary> Sweep(const ReportRun& run, const TenantList& list, const std::vector<SweepTenant>& order,
                           std::vector<TenantResult>* tenants);

// In explain.cc: the paragraph a DBA reads for a tenant.
std::string ExplainTenant(const TenantResult& t, const CheckSettings& settings, const std::string& tenant_param);

}  // namespace strata::check
