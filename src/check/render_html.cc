#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "check/render.h"
#include "check/render_chart.h"
#include "check/render_format.h"

namespace strata::check {

namespace {

// The page's only style. Colours of the verdicts: green pass, orange slower, red timeout, purple
// different results, grey error; a PASS/FAIL banner a DBA sees before reading anything.
constexpr std::string_view kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1280px;padding:0 16px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{margin:32px 0 4px;border-bottom:2px solid #ddd;padding-bottom:4px}h3{margin:20px 0 6px}
.top{border-left:10px solid;padding:10px 18px;border-radius:4px}.top p{margin:3px 0}
.top.pass{border-color:#2e7d32;background:#e8f5e9}.top.fail{border-color:#c62828;background:#ffebee}
.big{font-size:46px;font-weight:800;letter-spacing:2px}.pass .big{color:#2e7d32}.fail .big{color:#c62828}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d0d0d0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.v-pass{background:#2e7d32}.v-slower{background:#e07b00}.v-timeout{background:#c62828}
.v-different_results{background:#6a1b9a}.v-error{background:#555}
tr.failing>td{background:#fff6f4}tr.detail>td{background:#fafafa;padding:6px 12px}
.small{color:#666;font-size:12px}.tag{background:#eee;border-radius:3px;padding:0 4px;font-size:12px}
.side{display:grid;grid-template-columns:1fr 1fr;gap:12px}.side>div{min-width:0}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:8px;overflow:auto;font-size:12px;margin:0}
.stale{color:#c62828;font-weight:600}.error{color:#b71c1c}summary{cursor:pointer}details{margin:4px 0}
)";

void Badge(Verdict verdict, std::string* out) {
  *out += std::string("<span class=\"badge v-") + VerdictName(verdict) + "\">" + EscapeHtml(VerdictName(verdict)) +
          "</span>";
}

std::string Joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += separator;
    s += items[i];
  }
  return s;
}

std::string TenantLabel(const TenantResult& t) {
  return "tenant " + EscapeHtml(t.tenant.value.text) + " <span class=\"small\">(" + EscapeHtml(t.execution) +
         ")</span>";
}

void AppendHeader(const CheckResult& result, std::string* out) {
  const char* word = result.pass ? "PASS" : "FAIL";
  *out += std::string("<header class=\"top ") + (result.pass ? "pass" : "fail") + "\"><h1>strata check</h1>";
  *out += std::string("<div class=\"big\">") + word + "</div>\n";
  *out += "<p><b>Database</b> <code>" + EscapeHtml(result.database) + "</code> (" +
          (result.dialect == Dialect::kPostgres ? "PostgreSQL" : "SQLite") + ")</p>\n";
  *out += "<p><b>Base</b> <code>" + EscapeHtml(result.base_label) + "</code> → <b>candidate</b> <code>" +
          EscapeHtml(result.candidate_label) + "</code></p>\n";
  if (result.analyzed_first) {
    *out += "<p>ANALYZE was run before the check (--analyze-first) on: " +
            EscapeHtml(result.analyzed_tables.empty() ? "no table" : Joined(result.analyzed_tables, ", ")) + ".</p>\n";
  } else {
    *out += "<p>Statistics as found: no ANALYZE was run before the check (no --analyze-first).</p>\n";
  }
  const CheckCost& c = result.cost;
  const double overhead = c.wall_ms > 0 ? std::max(0.0, (c.wall_ms - c.query_ms) / c.wall_ms * 100) : 0;
  *out += "<p><b>Cost</b> " + FormatMs(c.wall_ms) + " ms wall, " + FormatMs(c.query_ms) + " ms in queries, " +
          FormatFixed(overhead, 1) + "% overhead, " + FormatCount(c.executions) + " executions</p>\n";
  *out += "<p><b>Reports</b> ";
  for (size_t i = 0; i < result.reports.size(); ++i) {
    *out += "<a href=\"#report-" + std::to_string(i) + "\">" + EscapeHtml(result.reports[i].report) + "</a> ";
    Badge(result.reports[i].verdict, out);
    *out += "&nbsp; ";
  }
  *out += "</p></header>\n";
}

void AppendRows(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows,
                std::string* out) {
  *out += "<table><tr>";
  for (const std::string& c : columns) *out += "<th>" + EscapeHtml(c) + "</th>";
  *out += "</tr>\n";
  for (const auto& row : rows) {
    *out += "<tr>";
    for (const std::string& cell : row) *out += "<td>" + EscapeHtml(cell) + "</td>";
    *out += "</tr>\n";
  }
  *out += "</table>\n";
}

void AppendDiff(const RowDiff& d, std::string* out) {
  const std::vector<std::string>& candidate_columns = d.candidate_columns.empty() ? d.columns : d.candidate_columns;
  std::string base_title, candidate_title;
  if (d.order_only) {
    const std::string row = std::to_string(d.first_order_difference + 1);
    *out += "<p>Same rows, different order from row " + row + " (counting from 1).</p>\n";
    base_title = "base, from row " + row;
    candidate_title = "candidate, from row " + row;
  } else {
    *out += "<p>" + FormatCount(d.only_in_base) + " rows only in base, " + FormatCount(d.only_in_candidate) +
            " rows only in candidate; the first of each:</p>\n";
    base_title = "only in base (" + FormatCount(d.only_in_base) + ")";
    candidate_title = "only in candidate (" + FormatCount(d.only_in_candidate) + ")";
  }
  if (!d.candidate_columns.empty() && d.candidate_columns != d.columns) {
    *out += "<p>The versions return different columns.</p>\n";
  }
  *out += "<div class=\"side\"><div><b>" + base_title + "</b>";
  AppendRows(d.columns, d.base_rows, out);
  *out += "</div><div><b>" + candidate_title + "</b>";
  AppendRows(candidate_columns, d.candidate_rows, out);
  *out += "</div></div>\n";
}

std::string Sizes(const ReportResult& report, const PickedTenant& tenant) {
  std::string s;
  for (size_t i = 0; i < tenant.sizes.size(); ++i) {
    if (i > 0) s += " · ";
    s +=
        (i < report.dimensions.size() ? EscapeHtml(report.dimensions[i]) : "size") + " " + FormatCount(tenant.sizes[i]);
  }
  return s;
}

void AppendTenants(const ReportResult& report, std::string* out) {
  *out +=
      "<table class=\"tenants\"><tr><th>tenant</th><th>why picked</th><th>rows (base / candidate)</th>"
      "<th>base ms</th><th>candidate ms</th><th>ratio</th><th>plan changed</th><th>verdict</th></tr>\n";
  for (const TenantResult& t : report.tenants) {
    const bool failing = t.verdict != Verdict::kPass;
    *out += failing ? "<tr class=\"failing\">" : "<tr>";
    *out += "<td>" + TenantLabel(t);
    if (!t.tenant.sizes.empty()) *out += "<br><span class=\"small\">" + Sizes(report, t.tenant) + "</span>";
    *out += "</td><td>" + EscapeHtml(Joined(t.tenant.why, "; ")) + "</td>";
    const std::string rows = FormatCount(t.base.rows) + " / " + FormatCount(t.candidate.rows);
    *out +=
        "<td class=\"n\">" + (t.base.rows == t.candidate.rows ? rows : "<b class=\"error\">" + rows + "</b>") + "</td>";
    *out += "<td class=\"n\">" + FormatMs(t.base.median_ms) + "</td>";
    *out += "<td class=\"n\">" +
            (t.candidate.timed_out ? "≥ " + FormatMs(t.candidate.timeout_ms) : FormatMs(t.candidate.median_ms)) +
            "</td>";
    *out += "<td class=\"n\">" + FormatRatio(t) + "</td><td>" + (t.plan_changed ? "<b>yes</b>" : "no");
    if (t.base.generic_plan || t.candidate.generic_plan) {
      const char* which = t.base.generic_plan && t.candidate.generic_plan ? "both"
                          : t.base.generic_plan                           ? "base"
                                                                          : "candidate";
      *out += std::string(" <span class=\"tag\">generic plan: ") + which + "</span>";
    }
    *out += "</td><td>";
    Badge(t.verdict, out);
    *out += "</td></tr>\n";
    const bool detail = failing || !t.explanation.empty() || !t.base.error.empty() || !t.candidate.error.empty();
    if (!detail) continue;
    *out += "<tr class=\"detail\"><td colspan=\"8\">";
    if (!t.explanation.empty()) *out += "<p>" + EscapeHtml(t.explanation) + "</p>\n";
    if (!t.base.error.empty()) *out += "<p class=\"error\">base error: " + EscapeHtml(t.base.error) + "</p>\n";
    if (!t.candidate.error.empty())
      *out += "<p class=\"error\">candidate error: " + EscapeHtml(t.candidate.error) + "</p>\n";
    if (t.diff) AppendDiff(*t.diff, out);
    *out += "</td></tr>\n";
  }
  *out += "</table>\n";
}

void AppendTableHealth(const std::vector<TableHealth>& tables, std::string* out) {
  *out +=
      "<table><tr><th>table</th><th>live rows</th><th>rows at analyze</th><th>modified since analyze</th>"
      "<th>last analyze</th><th>tenant rows (estimated / actual)</th><th>tenant in MCV</th><th>statistics</th>"
      "<th>fix</th></tr>\n";
  for (const TableHealth& h : tables) {
    *out += "<tr><td><code>" + EscapeHtml(h.table) + "</code></td><td class=\"n\">" + FormatCount(h.live_rows) +
            "</td><td class=\"n\">" + (h.rows_at_analyze < 0 ? "never analyzed" : FormatCount(h.rows_at_analyze)) +
            "</td><td class=\"n\">" + FormatCount(h.modified_since_analyze) + "</td><td>" +
            (h.last_analyze.empty() ? "never" : EscapeHtml(h.last_analyze)) + "</td><td class=\"n\">";
    if (!h.tenant_column.empty()) {
      *out += "<code>" + EscapeHtml(h.tenant_column) + "</code>: " + FormatCount(h.tenant_estimated_rows) + " / " +
              FormatCount(h.tenant_actual_rows);
    } else {
      *out += "—";
    }
    *out += "</td><td>" + std::string(!h.tenant_in_mcv ? "—" : *h.tenant_in_mcv ? "yes" : "no") + "</td><td>";
    *out += h.stale ? "<span class=\"stale\">stale</span>" : "ok";
    if (!h.reason.empty()) *out += ": " + EscapeHtml(h.reason);
    *out += "</td><td>";
    if (!h.analyze_sql.empty()) *out += "<code>" + EscapeHtml(h.analyze_sql) + "</code>";
    *out += "</td></tr>\n";
  }
  *out += "</table>\n";
}

void AppendPlan(std::string_view side, const VersionRuns& v, std::string* out) {
  *out +=
      "<div><b>" + std::string(side) + "</b> <code>" + (v.plan.empty() ? "unknown" : EscapeHtml(v.plan)) + "</code>";
  if (v.generic_plan) *out += " <span class=\"tag\">generic plan</span>";
  *out += "<pre>" + (v.plan_text.empty() ? std::string("(no plan)") : EscapeHtml(v.plan_text)) + "</pre></div>";
}

void AppendMisestimates(std::string_view side, const VersionRuns& v, std::string* out) {
  for (const Misestimate& m : v.misestimates) {
    *out += "<li>" + std::string(side) + ": " + EscapeHtml(m.node);
    if (!m.table.empty()) *out += " on <code>" + EscapeHtml(m.table) + "</code>";
    if (!m.condition.empty()) *out += " (<code>" + EscapeHtml(m.condition) + "</code>)";
    *out += ": estimated " + FormatCount(m.estimated_rows) + " rows, actual " + FormatCount(m.actual_rows) +
            ", q-error " + FormatCount(m.q_error) + "</li>\n";
  }
}

void AppendPlans(const ReportResult& report, std::string* out) {
  *out += "<h3>Plans</h3>\n";
  for (const TenantResult& t : report.tenants) {
    const bool open = t.verdict != Verdict::kPass || t.plan_changed;
    const size_t misestimates = t.base.misestimates.size() + t.candidate.misestimates.size();
    size_t stale = 0;
    for (const TableHealth& h : t.tables) stale += h.stale ? 1 : 0;
    *out += open ? "<details open>" : "<details>";
    *out += "<summary>" + TenantLabel(t) + ": " + (t.plan_changed ? "plan changed" : "same plan");
    if (misestimates > 0) *out += ", " + std::to_string(misestimates) + " misestimate(s)";
    if (stale > 0) *out += ", <span class=\"stale\">" + std::to_string(stale) + " stale table(s)</span>";
    *out += "</summary>\n<div class=\"side\">";
    AppendPlan("base", t.base, out);
    AppendPlan("candidate", t.candidate, out);
    *out += "</div>\n";
    if (misestimates > 0) {
      *out += "<p>Estimates off by 10× or more:</p><ul>\n";
      AppendMisestimates("base", t.base, out);
      AppendMisestimates("candidate", t.candidate, out);
      *out += "</ul>\n";
    }
    if (!t.tables.empty()) AppendTableHealth(t.tables, out);
    *out += "</details>\n";
  }
}

void AppendFlips(std::string_view side, const std::vector<std::string>& flips, std::string* out) {
  if (flips.empty()) return;
  *out += "<p>The " + std::string(side) + " plan changes shape between:</p><ul>\n";
  for (const std::string& f : flips) *out += "<li>" + EscapeHtml(f) + "</li>\n";
  *out += "</ul>\n";
}

void AppendReport(const ReportResult& report, size_t index, std::string* out) {
  *out += "<section id=\"report-" + std::to_string(index) + "\"><h2>" + EscapeHtml(report.report) + " ";
  Badge(report.verdict, out);
  *out += "</h2>\n<p class=\"small\">";
  if (!report.base_report.empty()) *out += "base report <b>" + EscapeHtml(report.base_report) + "</b> · ";
  *out += "tenants from " + (report.tenants_from.empty() ? "—" : EscapeHtml(report.tenants_from));
  if (!report.dimensions.empty()) *out += " · dimensions: " + EscapeHtml(Joined(report.dimensions, ", "));
  *out += "<br>" + EscapeHtml(Coverage(report)) + "</p>\n";
  if (!report.error.empty()) *out += "<p><b>Error:</b> " + EscapeHtml(report.error) + "</p>\n";
  if (!report.notes.empty()) {
    *out += "<ul>\n";
    for (const std::string& note : report.notes) *out += "<li>" + EscapeHtml(note) + "</li>\n";
    *out += "</ul>\n";
  }
  AppendTenants(report, out);
  *out += "<h3>Time by tenant size</h3>\n" + RenderTimeChart(report);
  if (!report.base_plan_flips.empty() || !report.candidate_plan_flips.empty()) {
    *out += "<h3>Plan flips</h3>\n";
    AppendFlips("base", report.base_plan_flips, out);
    AppendFlips("candidate", report.candidate_plan_flips, out);
  }
  AppendPlans(report, out);
  if (!report.tables.empty()) {
    *out += "<h3>Statistics of the tables read</h3>\n";
    AppendTableHealth(report.tables, out);
  }
  *out += "</section>\n";
}

}  // namespace

std::string RenderHtml(const CheckResult& result) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += std::string("<title>strata check: ") + (result.pass ? "PASS" : "FAIL") + " — " +
         EscapeHtml(result.base_label) + " → " + EscapeHtml(result.candidate_label) + "</title>\n<style>" +
         std::string(kStyle) + "</style></head><body>\n";
  AppendHeader(result, &out);
  for (size_t i = 0; i < result.reports.size(); ++i) AppendReport(result.reports[i], i, &out);
  out += "</body></html>\n";
  return out;
}

}  // namespace strata::check
