// The paragraph a DBA reads for a tenant's verdict: what went wrong, by how much, and what the plans
// and statistics say about why.
#include <cmath>
#include <cstdio>

#include "check/runner.h"

namespace strata::check {

namespace {

std::string Ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ms < 10 ? "%.2f ms" : ms < 1000 ? "%.1f ms" : "%.0f ms", ms);
  return buf;
}

std::string Times(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, r < 10 ? "%.2fx" : "%.0fx", r);
  return buf;
}

std::string Count(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string Why(const PickedTenant& t) {
  std::string out;
  for (const std::string& w : t.why) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// What the plans and statistics say: shared by the slower and timeout paragraphs.
std::string PlanStory(const TenantResult& t) {
  std::string out;
  if (t.plan_changed) {
    out += " The plan changed shape (base " + t.base.plan + ", candidate " + t.candidate.plan + ").";
  }
  if (t.candidate.generic_plan && !t.base.generic_plan) {
    out +=
        " The candidate ran as a prepared statement whose plan cache switched to the generic plan, planned "
        "for an average tenant rather than this one.";
  }
  const Misestimate* worst = nullptr;
  for (const Misestimate& m : t.candidate.misestimates) {
    if (worst == nullptr || m.q_error > worst->q_error) worst = &m;
  }
  if (worst != nullptr) {
    out += " The planner misestimated: " + worst->node + (worst->table.empty() ? "" : " on " + worst->table) +
           " expected " + Count(worst->estimated_rows) + " rows and got " + Count(worst->actual_rows) + " (" +
           Times(worst->q_error) + " off" + (worst->condition.empty() ? "" : ", " + worst->condition) + ").";
  }
  for (const TableHealth& h : t.tables) {
    if (h.stale) out += " Statistics of " + h.table + " are stale: " + h.reason + "; run " + h.analyze_sql;
  }
  return out;
}

}  // namespace

std::string ExplainTenant(const TenantResult& t, const CheckSettings& settings, const std::string& tenant_param) {
  const std::string who = "For " + tenant_param + " = " + t.tenant.value.text + " (" + Why(t.tenant) + ")";
  switch (t.verdict) {
    case Verdict::kError:
      return who + ", a version failed: " +
             (t.base.error.empty() ? "candidate: " + t.candidate.error : "base: " + t.base.error) + ".";
    case Verdict::kDifferentResults: {
      const RowDiff& d = *t.diff;
      if (d.order_only) {
        return who + ", the candidate returns the same " + std::to_string(t.base.rows) +
               " rows in a different order, from row " + std::to_string(d.first_order_difference + 1) +
               " on; both versions order their rows (top-level ORDER BY), so the order is part of the result.";
      }
      return who + ", the candidate returns different rows: " + std::to_string(d.only_in_base) + " of the base's " +
             std::to_string(t.base.rows) + " rows are missing from it and " + std::to_string(d.only_in_candidate) +
             " of its " + std::to_string(t.candidate.rows) + " rows are not in the base (" +
             (d.ordered ? "compared in order, as both versions order their rows; "
                        : "compared as multisets, as the order is not part of the result; ") +
             "numbers by value, floating point to 12 digits). The first of each are shown.";
    }
    case Verdict::kTimeout:
      return who + ", the candidate did not finish within its timeout of " + Ms(t.candidate.timeout_ms) +
             ", at least " + Times(t.ratio) + " the base's " + Ms(t.base.median_ms) + "." + PlanStory(t);
    case Verdict::kSlower:
      return who + ", the candidate is " + Times(t.ratio) + " slower: median " + Ms(t.candidate.median_ms) +
             " against " + Ms(t.base.median_ms) + " over " + std::to_string(t.candidate.ms.size()) +
             " alternated repetitions, in two sets that each had every candidate run slower than every base run "
             "(the gate fails at " +
             Times(settings.slower_ratio) + " and " + Ms(settings.min_slower_ms) + " more)." + PlanStory(t);
    case Verdict::kPass: {
      std::string story = PlanStory(t);
      return story.empty() ? "" : "Passed, but:" + story;
    }
  }
  return "";
}

}  // namespace strata::check
