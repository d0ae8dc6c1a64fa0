// The verdict JSON, "strata-check/1" (INTERFACES.md; every field documented in docs/check.md).
#include <cmath>
#include <nlohmann/json.hpp>

#include "check/render.h"
#include "common/text.h"

namespace strata::check {

namespace {

using nlohmann::ordered_json;

// JSON strings must be valid UTF-8: anything from the database is repaired first.
std::string Clean(const std::string& s) {
  return RepairUtf8(s);
}

ordered_json Typed(const ParamValue& v) {
  switch (v.type) {
    case ParamType::kInt:
    case ParamType::kBigint: return v.integer;
    case ParamType::kBool: return v.integer != 0;
    default: return Clean(v.text);
  }
}

double Round3(double v) {
  return std::round(v * 1000) / 1000;
}

ordered_json Runs(const VersionRuns& r) {
  ordered_json j;
  j["rows"] = r.rows;
  j["median_ms"] = Round3(r.median_ms);
  j["plan"] = r.plan;
  ordered_json ms = ordered_json::array();
  for (double m : r.ms) ms.push_back(Round3(m));
  j["runs_ms"] = ms;
  j["timed_out"] = r.timed_out;
  j["timeout_ms"] = Round3(r.timeout_ms);
  if (!r.error.empty()) j["error"] = Clean(r.error);
  j["generic_plan"] = r.generic_plan;
  ordered_json mis = ordered_json::array();
  for (const Misestimate& m : r.misestimates) {
    mis.push_back({{"node", m.node},
                   {"table", Clean(m.table)},
                   {"condition", Clean(m.condition)},
                   {"estimated_rows", m.estimated_rows},
                   {"actual_rows", m.actual_rows},
                   {"q_error", Round3(m.q_error)}});
  }
  j["misestimates"] = mis;
  j["plan_text"] = Clean(r.plan_text);
  return j;
}

ordered_json Health(const TableHealth& h) {
  ordered_json j;
  j["table"] = Clean(h.table);
  j["live_rows"] = h.live_rows;
  j["rows_at_analyze"] = h.rows_at_analyze;
  j["modified_since_analyze"] = h.modified_since_analyze;
  j["last_analyze"] = h.last_analyze.empty() ? ordered_json(nullptr) : ordered_json(h.last_analyze);
  if (!h.tenant_column.empty()) {
    j["tenant_column"] = Clean(h.tenant_column);
    if (h.tenant_estimated_rows >= 0) j["tenant_estimated_rows"] = Round3(h.tenant_estimated_rows);
    if (h.tenant_actual_rows >= 0) j["tenant_actual_rows"] = h.tenant_actual_rows;
    if (h.tenant_in_mcv) j["tenant_in_most_common_values"] = *h.tenant_in_mcv;
  }
  j["stale"] = h.stale;
  if (h.stale) {
    j["reason"] = Clean(h.reason);
    j["analyze"] = Clean(h.analyze_sql);
  }
  return j;
}

ordered_json Rows(const std::vector<std::vector<std::string>>& rows) {
  ordered_json out = ordered_json::array();
  for (const auto& row : rows) {
    ordered_json r = ordered_json::array();
    for (const std::string& cell : row) r.push_back(Clean(cell));
    out.push_back(r);
  }
  return out;
}

ordered_json CleanNames(const std::vector<std::string>& names) {
  ordered_json out = ordered_json::array();
  for (const std::string& n : names) out.push_back(Clean(n));
  return out;
}

ordered_json DiffJson(const RowDiff& d) {
  ordered_json diff = {{"only_in_base", d.only_in_base},  {"only_in_candidate", d.only_in_candidate},
                       {"order_only", d.order_only},      {"first_order_difference", d.first_order_difference},
                       {"base_rows", Rows(d.base_rows)},  {"candidate_rows", Rows(d.candidate_rows)},
                       {"columns", CleanNames(d.columns)}};
  if (!d.candidate_columns.empty()) diff["candidate_columns"] = CleanNames(d.candidate_columns);
  return diff;
}

}  // namespace

std::string RenderJson(const CheckResult& result) {
  ordered_json doc;
  doc["format"] = "strata-check/1";
  doc["verdict"] = result.pass ? "pass" : "fail";
  doc["database"] = Clean(result.database);
  doc["base"] = Clean(result.base_label);
  doc["candidate"] = Clean(result.candidate_label);
  ordered_json reports = ordered_json::array();
  for (const ReportResult& r : result.reports) {
    ordered_json jr;
    jr["report"] = r.report;
    if (!r.base_report.empty()) jr["base_report"] = r.base_report;
    jr["verdict"] = r.verdict == Verdict::kPass ? "pass" : "fail";
    jr["tenants_total"] = r.tenants_total;
    jr["results_compared"] = r.results_compared;
    if (!r.error.empty()) jr["error"] = Clean(r.error);
    jr["rare_features"] = r.rare_features;
    jr["rare_features_uncovered"] = r.rare_features_uncovered;
    jr["sweep"] = {{"budget_ms", Round3(r.sweep.budget_ms)},
                   {"ms", Round3(r.sweep.ms)},
                   {"tried", r.sweep.tried},
                   {"compared", r.sweep.compared},
                   {"remaining", r.sweep.remaining},
                   {"differed", r.sweep.differed},
                   {"slower", r.sweep.slower}};
    jr["tenants_from"] = Clean(r.tenants_from);
    jr["dimensions"] = r.dimensions;
    ordered_json tenants = ordered_json::array();
    for (const TenantResult& t : r.tenants) {
      ordered_json jt;
      jt["tenant"] = Typed(t.tenant.value);
      ordered_json why = ordered_json::array();
      for (const std::string& w : t.tenant.why) why.push_back(Clean(w));
      jt["why"] = why;
      ordered_json params = ordered_json::object();
      for (const auto& [name, value] : t.params) params[name] = Typed(value);
      jt["params"] = params;
      jt["execution"] = t.execution;
      jt["verdict"] = VerdictName(t.verdict);
      jt["base"] = Runs(t.base);
      jt["candidate"] = Runs(t.candidate);
      jt["ratio"] = Round3(t.ratio);
      jt["plan_changed"] = t.plan_changed;
      jt["explanation"] = Clean(t.explanation);
      jt["found_by_sweep"] = t.from_sweep;
      if (t.fresh) {
        const FreshStatistics& f = *t.fresh;
        jt["fresh_statistics"] = {{"analyzed", f.analyzed},
                                  {"verdict", VerdictName(f.verdict)},
                                  {"ratio", Round3(f.ratio)},
                                  {"base_median_ms", Round3(f.base_median_ms)},
                                  {"candidate_median_ms", Round3(f.candidate_median_ms)},
                                  {"timed_out", f.timed_out},
                                  {"base_plan", f.base_plan},
                                  {"candidate_plan", f.candidate_plan},
                                  {"cause", f.verdict == Verdict::kPass ? "stale_statistics" : "rewrite"}};
      }
      ordered_json sizes = ordered_json::object();
      for (size_t k = 0; k < t.tenant.sizes.size() && k < r.dimensions.size(); ++k) {
        sizes[Clean(r.dimensions[k])] = t.tenant.sizes[k];
      }
      jt["sizes"] = sizes;
      if (t.diff) jt["diff"] = DiffJson(*t.diff);
      ordered_json tables = ordered_json::array();
      for (const TableHealth& h : t.tables) tables.push_back(Health(h));
      jt["tables"] = tables;
      tenants.push_back(jt);
    }
    jr["tenants"] = tenants;
    jr["base_plan_flips"] = r.base_plan_flips;
    jr["candidate_plan_flips"] = r.candidate_plan_flips;
    ordered_json notes = ordered_json::array();
    for (const std::string& n : r.notes) notes.push_back(Clean(n));
    jr["notes"] = notes;
    ordered_json tables = ordered_json::array();
    for (const TableHealth& h : r.tables) tables.push_back(Health(h));
    jr["tables"] = tables;
    reports.push_back(jr);
  }
  doc["reports"] = reports;
  doc["analyzed_first"] = result.analyzed_first;
  doc["analyzed_tables"] = result.analyzed_tables;
  doc["cost"] = {{"wall_ms", Round3(result.cost.wall_ms)},
                 {"query_ms", Round3(result.cost.query_ms)},
                 {"overhead_ms", Round3(result.cost.wall_ms - result.cost.query_ms)},
                 {"executions", result.cost.executions},
                 {"feature_queries", result.cost.feature_queries},
                 {"feature_ms", Round3(result.cost.feature_ms)},
                 {"sweep_ms", Round3(result.cost.sweep_ms)}};
  return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace strata::check
