// For the renderers' tests: a result with every kind of tenant (Sample) and the small helpers
// that build one. Header-only, shared by render_test.cc and render_markdown_test.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "check/check.h"

namespace strata::check::testdata {

inline size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

inline ParamValue Text(std::string text) {
  ParamValue v;
  v.text = std::move(text);
  return v;
}

inline VersionRuns Runs(int64_t rows, double median_ms, std::string plan) {
  VersionRuns v;
  v.rows = rows;
  v.ms = {median_ms * 0.9, median_ms, median_ms * 1.1};
  v.median_ms = median_ms;
  v.timeout_ms = 60000;
  v.plan = std::move(plan);
  v.plan_text = "Seq Scan on orders\n  Filter: (admin_id = $1)";
  return v;
}

inline TenantResult Tenant(std::string value, std::vector<double> sizes, Verdict verdict, double base_ms,
                           double cand_ms) {
  TenantResult t;
  t.tenant.value = Text(std::move(value));
  t.tenant.sizes = std::move(sizes);
  t.tenant.why = {"largest by orders", "grown since the last ANALYZE of orders"};
  t.params = {{"admin_id", t.tenant.value}};
  t.execution = "simple";
  t.verdict = verdict;
  t.base = Runs(100, base_ms, "aaaaaaaaaaaa");
  t.candidate = Runs(100, cand_ms, "aaaaaaaaaaaa");
  t.ratio = base_ms > 0 ? cand_ms / base_ms : 0;
  return t;
}

inline CheckResult Sample() {
  ReportResult activity;
  activity.report = "member_activity";
  activity.verdict = Verdict::kTimeout;
  activity.dimensions = {"orders", "members"};
  activity.tenants_from = "profile of orders, members";
  activity.notes = {"orders has grown 40% since its last ANALYZE"};
  activity.tenants.push_back(Tenant("17", {0, 3}, Verdict::kPass, 0, 0));  // zero size and zero time
  TenantResult slower = Tenant("1764", {52000, 40}, Verdict::kSlower, 42.1, 134.72);
  slower.plan_changed = true;
  slower.candidate.plan = "bbbbbbbbbbbb";
  slower.candidate.generic_plan = true;
  slower.candidate.misestimates = {{"Hash Join", "public.orders", "o.admin_id = m.id", 10, 12000, 1200}};
  slower.explanation = "The candidate is 3.2x slower: its plan hashes all of orders.";
  TableHealth orders;
  orders.table = "public.orders";
  orders.live_rows = 1200000;
  orders.rows_at_analyze = 700000;
  orders.modified_since_analyze = 500000;
  orders.last_analyze = "2026-11-24 10:00:00";
  orders.tenant_column = "admin_id";
  orders.tenant_estimated_rows = 10;
  orders.tenant_actual_rows = 52000;
  orders.tenant_in_mcv = false;
  orders.stale = true;
  orders.reason = "modified 71% since ANALYZE";
  orders.analyze_sql = "ANALYZE public.orders;";
  slower.tables = {orders};
  activity.tenants.push_back(slower);
  TenantResult hostile = Tenant("<script>alert(1)</script>", {52000, 9}, Verdict::kTimeout, 90, 0);
  hostile.candidate.timed_out = true;
  hostile.candidate.timeout_ms = 900;
  hostile.candidate.ms.clear();
  hostile.ratio = 10;
  hostile.tenant.why = {"named with --tenants \"x\" & 'y'"};
  hostile.explanation = "Timed out after 900 ms <b>bold</b>";
  activity.tenants.push_back(hostile);
  TenantResult differs = Tenant("bad\xff\x01", {7, 1}, Verdict::kDifferentResults, 1.5, 1.6);
  differs.candidate.rows = 99;
  differs.explanation = "One row differs.";
  RowDiff diff;
  diff.columns = {"id", "name"};
  diff.only_in_base = 1;
  diff.only_in_candidate = 2;
  diff.base_rows = {{"1", "a<b\x02"}};
  diff.candidate_rows = {{"1", "a>b"}, {"2", "\xc3"}};
  differs.diff = diff;
  activity.tenants.push_back(differs);
  activity.base_plan_flips = {"tenant 17 → tenant 1764"};
  activity.tables = {orders};

  ReportResult totals;
  totals.report = "daily_totals";
  totals.verdict = Verdict::kError;
  totals.tenants_from = "tenants.sql";
  totals.tenants.push_back(Tenant("5", {}, Verdict::kPass, 3, 3));
  TenantResult broken = Tenant("6", {}, Verdict::kError, 3, 0);
  broken.candidate.rows = -1;
  broken.candidate.error = "syntax error at or near \"<\"";
  broken.candidate.ms.clear();
  broken.ratio = 0;
  totals.tenants.push_back(broken);

  CheckResult result;
  result.database = "postgresql://app@db/prod";
  result.dialect = Dialect::kPostgres;
  result.base_label = "origin/main";
  result.candidate_label = ".";
  result.pass = false;
  result.analyzed_first = true;
  result.analyzed_tables = {"public.orders"};
  result.reports = {activity, totals};
  result.cost = {12500, 11000, 64};
  return result;
}

}  // namespace strata::check::testdata
