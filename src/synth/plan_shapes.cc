#include "synth/plan_shapes.h"

#include <nlohmann/json.hpp>

#include "check/plans.h"
#include "report/binding.h"

namespace strata::synth {

namespace {

void Walk(const nlohmann::json& node, std::vector<std::pair<std::string, double>>* out) {
  out->push_back({node.value("Node Type", ""), node.value("Plan Rows", 0.0)});
  if (!node.contains("Plans")) return;
  for (const nlohmann::json& child : node["Plans"]) Walk(child, out);
}

}  // namespace

std::vector<std::pair<std::string, double>> PlanNodes(const std::string& explain_json) {
  std::vector<std::pair<std::string, double>> out;
  const nlohmann::json j = nlohmann::json::parse(explain_json, nullptr, false);
  if (j.is_array() && !j.empty() && j[0].contains("Plan")) Walk(j[0]["Plan"], &out);
  return out;
}

Result<std::vector<PlanShape>> ExplainReports(Source* source, const Project& project,
                                              const std::vector<std::string>& tenants,
                                              std::chrono::milliseconds statement_timeout,
                                              std::vector<std::string>* skipped) {
  std::vector<PlanShape> out;
  for (const ReportSpec& report : project.reports) {
    for (const std::string& tenant : tenants) {
      auto params = BindReportParams(report, {ParamArg{project.tenant_param, std::nullopt, tenant}});
      if (!params.ok()) {
        skipped->push_back("report " + report.name + ": " + params.status().message());
        break;
      }
      Query query{"report " + report.name, report.sql_path, report.sql, *params};
      ExplainOptions options;
      options.statement_timeout = statement_timeout;
      auto text = source->Explain(query, options);
      if (!text.ok() && text.status().code() == Status::Code::kCancelled) return text.status();
      if (!text.ok()) {
        skipped->push_back("report " + report.name + " for tenant " + tenant + ": " + text.status().message());
        continue;
      }
      PlanShape shape{report.name, tenant, "", {}};
      if (source->dialect() == Dialect::kPostgres) {
        auto info = check::ParsePostgresPlan(*text);
        if (info.ok()) shape.fingerprint = info->fingerprint;
        shape.nodes = PlanNodes(*text);
      } else {
        shape.fingerprint = check::ParseSqlitePlan(*text).fingerprint;
      }
      out.push_back(std::move(shape));
    }
  }
  return out;
}

}  // namespace strata::synth
